"""The OpenAI Batch round trip: pending requests out as Batch JSONL, batch results into the cache.

A request line is {"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}; `vllm run-batch`
reads the same format. custom_id is the request's cache key, so results map straight back to the cache.
A result line is {"custom_id", "response": {"status_code", "body"}, "error"}.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rwr.io import DataError, read_jsonl, write_jsonl
from rwr.llm.cache import ResponseCache
from rwr.llm.request import ChatRequest, ChatResponse, body_key

BATCH_URL = "/v1/chat/completions"


def batch_line(req: ChatRequest) -> dict[str, Any]:
    return {"custom_id": req.key, "method": "POST", "url": BATCH_URL, "body": req.body()}


def export_batch(requests: Sequence[ChatRequest], path: str | os.PathLike) -> Path:
    """Write one Batch API line per unique request (atomically); returns the path."""
    unique = {r.key: r for r in requests}
    write_jsonl(path, (batch_line(r) for r in unique.values()))
    return Path(path)


def _request_bodies(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    bodies = {}
    for i, line in enumerate(read_jsonl(path), 1):
        body = line.get("body")
        if not isinstance(body, dict) or line.get("custom_id") != body_key(body):
            raise DataError(
                f"{path}: request {i}: custom_id does not match the hash of its body "
                f"(not a file written by rwr's batch export?)"
            )
        bodies[line["custom_id"]] = body
    return bodies


def import_batch(results: str | os.PathLike, requests: str | os.PathLike, cache: ResponseCache) -> Counter:
    """Add the successful results to the cache (source 'batch'); returns counts per outcome.

    Only results whose custom_id is a request of `requests` are taken, so a results file from another
    export cannot poison the cache. Failed lines are counted and left pending (a rerun exports them again).
    """
    bodies = _request_bodies(requests)
    counts: Counter = Counter()
    for i, line in enumerate(read_jsonl(results), 1):
        cid = line.get("custom_id")
        resp = line.get("response") or {}
        if cid not in bodies:
            counts["unknown_custom_id"] += 1
            continue
        if line.get("error") or resp.get("status_code") != 200 or not isinstance(resp.get("body"), dict):
            counts["failed"] += 1
            continue
        ChatResponse.from_body(resp["body"], f"{results}: line {i}")  # malformed bodies stop the import
        if cid in cache:
            counts["already_cached"] += 1
            continue
        cache.put(cid, bodies[cid], resp["body"], source="batch")
        counts["imported"] += 1
    counts["requests"] = len(bodies)
    counts["still_pending"] = sum(1 for k in bodies if k not in cache)
    return counts
