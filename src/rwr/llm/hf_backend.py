"""In-process chat generation with transformers (AutoModelForCausalLM + the tokenizer's chat template).

For running the teacher on a local GPU without a server. Requests run one at a time (greedy when
temperature is 0); for throughput at paper scale, prefer `vllm serve` with the OpenAI backend. Responses are
shaped like chat.completion bodies so the cache and the runner treat both backends alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from rwr.config import ChatBackendConfig
from rwr.llm.errors import LLMError
from rwr.llm.request import ChatRequest


def _device_dtype(cfg: ChatBackendConfig) -> tuple[Any, Any]:
    import torch

    device = torch.device(
        "cuda"
        if cfg.device == "auto" and torch.cuda.is_available()
        else ("cpu" if cfg.device == "auto" else cfg.device)
    )
    if cfg.dtype == "auto":
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    else:
        dtype = getattr(torch, cfg.dtype, None)
        if not isinstance(dtype, torch.dtype):
            raise LLMError(f"dtype {cfg.dtype!r} is not a torch dtype")
    return device, dtype


class TransformersBackend:
    """Generates with a causal LM loaded from `cfg.model` (hub id or local directory)."""

    max_concurrency = 1  # one model, one GPU stream: concurrent generate() calls would only contend

    def __init__(self, cfg: ChatBackendConfig) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.cfg = cfg
        self.endpoint = f"transformers:{cfg.model}"
        self.device, dtype = _device_dtype(cfg)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(cfg.model)
            self.model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=dtype).to(self.device).eval()
        except OSError as e:
            raise LLMError(f"{self.endpoint}: cannot load the model ({e})") from None
        if not getattr(self.tokenizer, "chat_template", None):
            raise LLMError(f"{self.endpoint}: the tokenizer has no chat template")

    def generate(self, req: ChatRequest) -> dict[str, Any]:
        """One chat.completion-shaped body for `req` (blocking)."""
        import torch

        messages = [{"role": r, "content": c} for r, c in req.messages]
        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        ).to(self.device)
        sample = req.temperature > 0
        if sample and req.seed is not None:
            torch.manual_seed(req.seed)
        pad = (
            self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else self.tokenizer.eos_token_id
        )
        kwargs = (
            {"do_sample": True, "temperature": req.temperature, "top_p": req.top_p}
            if sample
            else {"do_sample": False}
        )
        with torch.no_grad():
            out = self.model.generate(**inputs, max_new_tokens=req.max_tokens, pad_token_id=pad, **kwargs)
        n_prompt = inputs["input_ids"].shape[1]
        new = out[0, n_prompt:]
        finished = self.tokenizer.eos_token_id is not None and bool(
            (new == self.tokenizer.eos_token_id).any()
        )
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return {
            "id": f"local-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop" if finished or len(new) < req.max_tokens else "length",
                }
            ],
            "usage": {
                "prompt_tokens": n_prompt,
                "completion_tokens": int(len(new)),
                "total_tokens": n_prompt + int(len(new)),
            },
        }

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Callable[[ChatRequest], Awaitable[dict[str, Any]]]]:
        async def call(req: ChatRequest) -> dict[str, Any]:
            return await asyncio.to_thread(self.generate, req)  # keeps the event loop (progress bar) alive

        yield call
