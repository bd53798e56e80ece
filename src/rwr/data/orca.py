"""OpenOrca-style SFT records: {id, system_prompt, question, response} (the Open-Orca/OpenOrca schema)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from rwr.io import DataError, read_jsonl, write_jsonl

ORCA_FIELDS = ("id", "system_prompt", "question", "response")


def validate_orca(record: Any, where: str) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected an object")
    for key in ORCA_FIELDS:
        if key not in record:
            raise DataError(f"{where}: missing key '{key}'")
        if not isinstance(record[key], str):
            raise DataError(f"{where}: '{key}' must be a string")
    if not record["question"].strip() or not record["response"].strip():
        raise DataError(f"{where} (id={record['id']}): empty question or response")
    return record


def load_orca(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read and validate an OpenOrca-style JSONL file; errors name the file and line."""
    records = read_jsonl(path)
    # read_jsonl skips blank lines, so recount line numbers for messages.
    return [validate_orca(r, f"{path}: record {i + 1}") for i, r in enumerate(records)]


def write_orca(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> int:
    return write_jsonl(path, records)
