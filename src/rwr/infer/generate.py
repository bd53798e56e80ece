"""One-prompt generation (batch 1) with the prefill/decode time split measured.

Greedy by default; sampling when asked (seeded per call, so rounds are reproducible). Generation can stop
at extra token ids (HELMET's stop-at-newline: the newline tokens are added to the EOS ids, as its HFModel
does) and at stop strings (SSA stops a segment's note at the answer cue).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

# HELMET model_utils.HFModel: the newline tokens of the usual tokenizers (byte-level BPE, sentencepiece).
NEWLINE_TOKENS = ("\n", "Ċ", "ĊĊ", "<0x0A>")


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


class _StopStrings(StoppingCriteria):
    """Stops once any of `stops` appears in the decoded new text (token boundaries need not match)."""

    def __init__(self, tokenizer, start: int, stops: Sequence[str]) -> None:
        self.tokenizer, self.start, self.stops = tokenizer, start, tuple(stops)

    def __call__(self, input_ids, scores, **kwargs):
        text = self.tokenizer.decode(input_ids[0, self.start:], skip_special_tokens=True)
        done = any(s in text for s in self.stops)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


def newline_token_ids(tokenizer) -> list[int]:
    """Ids of the tokenizer's pure-newline tokens (HELMET's stop_newline)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    ids = {tokenizer.convert_tokens_to_ids(t) for t in NEWLINE_TOKENS}
    return sorted(i for i in ids if i is not None and i != unk)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def generate(model, tokenizer, prompt: str | list[int], max_new_tokens: int, *, stop_token_ids: Sequence[int] = (),
             stop_strings: Sequence[str] = (), do_sample: bool = False, temperature: float = 1.0,
             top_p: float = 1.0, seed: int | None = None) -> Generation:
    """Decode one prompt (batch 1: prompts differ in length, and padding would alter Mamba's state)."""
    device = next(model.parameters()).device
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] if isinstance(prompt, str) else prompt
    input_ids = torch.tensor([ids], device=device)
    clock = _FirstStepClock()
    criteria = [clock] + ([_StopStrings(tokenizer, len(ids), stop_strings)] if stop_strings else [])
    eos = [tokenizer.eos_token_id, *[i for i in stop_token_ids if i != tokenizer.eos_token_id]]
    sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p} if do_sample else {"do_sample": False}
    if do_sample and seed is not None:
        torch.manual_seed(seed)
    _sync(device)
    t0 = time.perf_counter()
    out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=max_new_tokens,
                         eos_token_id=eos, pad_token_id=tokenizer.pad_token_id,
                         stopping_criteria=StoppingCriteriaList(criteria), **sampling)
    _sync(device)
    t1 = time.perf_counter()
    new = out[0, input_ids.shape[1]:].tolist()
    if tokenizer.eos_token_id in new:
        new = new[: new.index(tokenizer.eos_token_id)]
    first = clock.first if clock.first is not None else t1
    return Generation(tokenizer.decode(new, skip_special_tokens=True), len(ids), len(new), first - t0, t1 - first)
