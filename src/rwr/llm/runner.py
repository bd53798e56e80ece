"""Answer a list of ChatRequests from the cache, sending only the misses (bounded concurrency, progress bar).

Every response is written to the cache as soon as it arrives. When a request fails for good, no new request
is started, but those already in flight are awaited and cached (they are paid for), then the first error is
raised. In batch mode the misses are exported as an OpenAI Batch JSONL instead (BatchPending).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from tqdm.auto import tqdm

from rwr.config import ChatBackendConfig, ChatPrice
from rwr.llm.batch import export_batch
from rwr.llm.cache import ResponseCache
from rwr.llm.errors import BatchPending, LLMError
from rwr.llm.request import ChatRequest, ChatResponse
from rwr.llm.usage import Usage, response_cost

log = logging.getLogger("rwr")


class ChatBackend(Protocol):
    """What the runner needs from a backend: a name for messages, a concurrency bound and a session."""

    endpoint: str
    max_concurrency: int

    def session(self) -> Any:
        """Async context manager yielding `async call(request) -> chat.completion body`."""


class ChatRunner:
    """Cache-first request runner for one role (teacher, verifier, judge) and one backend."""

    def __init__(
        self,
        role: str,
        backend: ChatBackend,
        cache: ResponseCache,
        *,
        mode: str = "live",
        batch_dir: str | os.PathLike = "cache/llm/batches",
        prices: Mapping[str, ChatPrice] | None = None,
        progress: bool = True,
    ) -> None:
        self.role, self.backend, self.cache, self.mode = role, backend, cache, mode
        self.batch_dir = Path(batch_dir)
        self.prices = dict(prices or {})
        self.progress = progress
        self.usage = Usage()
        self._warned: set[str] = set()

    def run(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """Responses in request order; cached ones are reused, the rest sent (live) or exported (batch)."""
        unique = {r.key: r for r in requests}
        pending = [r for k, r in unique.items() if k not in self.cache]
        self.usage.requests += len(requests)
        self.usage.unique += len(unique)
        self.usage.cache_hits += len(unique) - len(pending)
        if pending and self.mode == "batch":
            path = export_batch(pending, self.batch_dir / f"{self.role}-pending.jsonl")
            raise BatchPending(self.role, path, len(pending), pending[0].model, self.cache.path)
        fresh: set[str] = set()
        if pending:
            fresh = asyncio.run(self._send(pending))
        for key in unique:
            self._account(key, key in fresh)
        return [
            ChatResponse.from_body(self.cache.get(r.key)["response"], f"{self.cache.path}: {r.key}")
            for r in requests
        ]

    def _account(self, key: str, fresh: bool) -> None:
        entry = self.cache.get(key)
        resp = ChatResponse.from_body(entry["response"], f"{self.cache.path}: {key}")
        model = entry["request"].get("model", "") if isinstance(entry.get("request"), dict) else ""
        price = self.prices.get(model)
        if price is None and model not in self._warned:
            self._warned.add(model)
            log.warning(
                "%s: no price for model %r in the price table; its cost counts as 0", self.role, model
            )
        cost = response_cost(resp.prompt_tokens, resp.completion_tokens, price, entry.get("source", "live"))
        self.usage.prompt_tokens += resp.prompt_tokens
        self.usage.completion_tokens += resp.completion_tokens
        self.usage.cost_usd += cost
        if fresh:
            self.usage.sent += 1
            self.usage.cost_usd_this_run += cost

    async def _send(self, pending: list[ChatRequest]) -> set[str]:
        sem = asyncio.Semaphore(self.backend.max_concurrency)
        stop = asyncio.Event()
        errors: list[BaseException] = []
        done: set[str] = set()
        bar = tqdm(total=len(pending), desc=f"{self.role} requests", unit="req", disable=not self.progress)

        async def one(call: Any, req: ChatRequest) -> None:
            async with sem:
                if stop.is_set():  # a request failed for good: start nothing new
                    return
                try:
                    body = await call(req)
                    # A malformed body must not enter the cache, where every rerun would trip over it.
                    ChatResponse.from_body(body, f"{self.backend.endpoint}: response")
                except Exception as e:  # noqa: BLE001 - recorded and re-raised after in-flight calls finish
                    errors.append(e)
                    stop.set()
                    return
                self.cache.put(req.key, req.body(), body, source="live")
                done.add(req.key)
                bar.update(1)

        try:
            async with self.backend.session() as call:
                await asyncio.gather(*(one(call, r) for r in pending))
        finally:
            bar.close()
        if errors:
            first = errors[0]
            note = (
                f"{len(done)} of {len(pending)} {self.role} responses were received and cached; "
                f"a rerun will not ask for them again"
            )
            if isinstance(first, LLMError):
                raise LLMError(f"{first}\n({note})") from None
            raise LLMError(f"{self.backend.endpoint}: {type(first).__name__}: {first}\n({note})") from first
        log.info("%s: %d requests sent to %s", self.role, len(done), self.backend.endpoint)
        return done


def make_runner(
    role: str,
    cfg: ChatBackendConfig,
    cache: ResponseCache,
    prices: Mapping[str, ChatPrice],
    root: str | os.PathLike = ".",
    progress: bool = True,
) -> ChatRunner:
    """A runner over the backend that `cfg.backend` names; relative batch dirs resolve against `root`."""
    if cfg.backend == "openai":
        from rwr.llm.openai_backend import OpenAIBackend

        backend: ChatBackend = OpenAIBackend(cfg)
    else:
        from rwr.llm.hf_backend import TransformersBackend

        backend = TransformersBackend(cfg)
    batch_dir = Path(cfg.batch_dir)
    if not batch_dir.is_absolute():
        batch_dir = Path(root) / batch_dir
    return ChatRunner(
        role, backend, cache, mode=cfg.mode, batch_dir=batch_dir, prices=prices, progress=progress
    )
