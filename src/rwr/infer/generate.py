"""Greedy generation with the prefill/decode time split measured."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from transformers import StoppingCriteria, StoppingCriteriaList


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    new_tokens: int
    prefill_seconds: float
    decode_seconds: float


class _FirstStepClock(StoppingCriteria):
    """Records when the first new token exists, i.e. when prefill (plus one step) is done."""

    def __init__(self) -> None:
        self.first: float | None = None

    def __call__(self, input_ids, scores, **kwargs):
        if self.first is None:
            self.first = time.perf_counter()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def greedy_generate(model, tokenizer, prompt: str | list[int], max_new_tokens: int) -> Generation:
    """Greedy decoding of one prompt (batch 1: prompts differ in length, and padding would alter Mamba)."""
    device = next(model.parameters()).device
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] if isinstance(prompt, str) else prompt
    input_ids = torch.tensor([ids], device=device)
    clock = _FirstStepClock()
    _sync(device)
    t0 = time.perf_counter()
    out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=max_new_tokens,
                         do_sample=False, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, stopping_criteria=StoppingCriteriaList([clock]))
    _sync(device)
    t1 = time.perf_counter()
    new = out[0, input_ids.shape[1]:].tolist()
    if tokenizer.eos_token_id in new:
        new = new[: new.index(tokenizer.eos_token_id)]
    first = clock.first if clock.first is not None else t1
    return Generation(tokenizer.decode(new, skip_special_tokens=True), len(ids), len(new), first - t0, t1 - first)
