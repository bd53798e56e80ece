"""Errors of the chat layer; messages name the endpoint or file, never a key."""

from __future__ import annotations

from pathlib import Path


class LLMError(RuntimeError):
    """A chat request that failed for good (after the client's retries), or a malformed response."""


class BatchPending(RuntimeError):
    """Batch mode: uncached requests were written to a Batch JSONL instead of being sent."""

    def __init__(self, role: str, path: Path, n: int, model: str, cache: Path) -> None:
        self.role, self.path, self.n, self.model, self.cache = role, path, n, model, cache
        super().__init__(
            f"{n} {role} request(s) are not cached yet; written to {path} (OpenAI Batch format).\n"
            f"  Run them with the OpenAI Batch API, or\n"
            f"  `vllm run-batch -i {path} -o results.jsonl --model {model}`,"
            f"\n  then: python -m rwr.llm import-batch results.jsonl --requests {path} --cache {cache}\n"
            f"  and rerun the stage (the next phase may export more requests)."
        )
