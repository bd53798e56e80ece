"""Append-only JSONL response cache keyed by ChatRequest.key.

Each response is appended (and fsync'ed) the moment it arrives, so a crash half-way through a run loses no
paid response: the rerun finds it and does not ask again. A crash in the middle of a write can only leave a
truncated last line; loading drops it (with a warning). Any other bad line is an error naming the line.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from rwr.io import DataError

log = logging.getLogger("rwr")


class ResponseCache:
    """key -> {"key", "source" ('live'|'batch'), "request", "response", "time"}; one JSON object a line."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._entries: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        offset = 0
        for lineno, raw in enumerate(lines, 1):
            if raw.strip():
                try:
                    entry = json.loads(raw)
                    key = entry["key"]
                except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
                    if lineno == len(lines):  # the unterminated last line: a write cut short by a crash
                        log.warning("%s: dropping a truncated last line (interrupted write)", self.path)
                        with open(self.path, "r+b") as f:
                            f.truncate(offset)
                        return
                    raise DataError(f"{self.path}: line {lineno}: not a cache entry ({e})") from None
                self._entries[key] = entry
            offset += len(raw) + 1
        if data and not data.endswith(b"\n"):  # complete but unterminated: terminate before appending
            with open(self.path, "ab") as f:
                f.write(b"\n")

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._entries.get(key)

    def put(self, key: str, request: dict[str, Any], response: dict[str, Any], source: str = "live") -> None:
        """Record a response durably (append + fsync) before anything else can go wrong."""
        entry = {"key": key, "source": source, "time": time.time(), "request": request, "response": response}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self._entries[key] = entry
