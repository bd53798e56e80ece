"""LongMemEval files (xiaowu0162/LongMemEval): schema validation, loading and the official reader prompt.

The loader reads the real `longmemeval_{oracle,s,m}.json` files unchanged (JSON array, JSONL fallback) and
the synthetic files of the mini profile, which use the same schema (README "Dataset Format").
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rwr.io import DataError, write_json

# question_type -> the paper's column abbreviation, in the paper's column order.
QUESTION_TYPES: dict[str, str] = {
    "single-session-user": "SU",
    "single-session-assistant": "SA",
    "single-session-preference": "SP",
    "multi-session": "MR",
    "knowledge-update": "KU",
    "temporal-reasoning": "TR",
}

# Official reader prompts (src/generation/run_generation.py, full history, no retrieval); filled with
# (history_string, question_date, question).
READER_DIRECT = (
    "I will give you several history chats between you and a user. Please answer the question based on the "
    "relevant chat history.\n\n\nHistory Chats:\n\n{}\n\nCurrent Date: {}\nQuestion: {}\nAnswer:"
)
READER_COT = (
    "I will give you several history chats between you and a user. Please answer the question based on the "
    "relevant chat history. Answer the question step by step: first extract all the relevant information, "
    "and then reason over the information to get the answer.\n\n\nHistory Chats:\n\n{}\n\nCurrent Date: {}"
    "\nQuestion: {}\nAnswer (step by step):"
)

_LIST_KEYS = ("haystack_dates", "haystack_session_ids", "haystack_sessions", "answer_session_ids")
_STR_KEYS = ("question_id", "question_type", "question", "question_date")


def is_abstention(item: dict[str, Any]) -> bool:
    """Abstention items are marked by '_abs' in the question id (the judge's own rule)."""
    return "_abs" in item["question_id"]


def validate_item(item: Any, where: str) -> dict[str, Any]:
    """Check one entry against the official schema; returns it with `answer` cast to str."""
    if not isinstance(item, dict):
        raise DataError(f"{where}: expected an object, got {type(item).__name__}")
    qid = item.get("question_id", "?")
    where = f"{where} (question_id={qid})"
    for key in (*_STR_KEYS, "answer", *_LIST_KEYS):
        if key not in item:
            raise DataError(f"{where}: missing key '{key}'")
    for key in _STR_KEYS:
        if not isinstance(item[key], str):
            raise DataError(f"{where}: '{key}' must be a string")
    if item["question_type"] not in QUESTION_TYPES:
        raise DataError(f"{where}: unknown question_type {item['question_type']!r}")
    for key in _LIST_KEYS:
        if not isinstance(item[key], list):
            raise DataError(f"{where}: '{key}' must be a list")
    n = len(item["haystack_sessions"])
    if len(item["haystack_dates"]) != n or len(item["haystack_session_ids"]) != n:
        raise DataError(f"{where}: haystack_dates, haystack_session_ids and haystack_sessions differ in length")
    for s, session in enumerate(item["haystack_sessions"]):
        if not isinstance(session, list):
            raise DataError(f"{where}: haystack_sessions[{s}] must be a list of turns")
        for t, turn in enumerate(session):
            if not isinstance(turn, dict) or "role" not in turn or "content" not in turn:
                raise DataError(f"{where}: haystack_sessions[{s}][{t}] needs 'role' and 'content'")
    # Some answers are numbers in the real file; the judge formats them as text.
    return {**item, "answer": str(item["answer"])}


def load_longmemeval(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a LongMemEval file (JSON array, or JSONL as evaluate_qa.py accepts) and validate every entry."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        records = [(f"{path}: record {i}", x) for i, x in enumerate(data if isinstance(data, list) else [data])]
    except json.JSONDecodeError as e:
        records = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append((f"{path}: line {lineno}", json.loads(line)))
            except json.JSONDecodeError as line_err:
                # Neither a JSON document nor JSONL: report the first failing position of each reading.
                raise DataError(
                    f"{path}: invalid JSON (as a document: line {e.lineno}, {e.msg}; "
                    f"as JSONL: line {lineno}, {line_err.msg})"
                ) from None
    items = [validate_item(x, where) for where, x in records]
    seen: set[str] = set()
    for item in items:
        if item["question_id"] in seen:
            raise DataError(f"{path}: duplicate question_id {item['question_id']!r}")
        seen.add(item["question_id"])
    return items


def write_longmemeval(path: str | os.PathLike, items: Sequence[dict[str, Any]]) -> None:
    """Write a JSON array in the official format (atomically)."""
    for i, item in enumerate(items):
        validate_item(item, f"{path}: record {i}")
    write_json(path, list(items), indent=None)


def render_session(session: list[dict], history_format: str = "json") -> str:
    """One session's content as the official reader renders it (has_answer stripped)."""
    turns = [{k: v for k, v in t.items() if k != "has_answer"} for t in session]
    if history_format == "json":
        return "\n" + json.dumps(turns)
    if history_format == "nl":
        return "".join(f"\n\n{t['role']}: {t['content'].strip()}" for t in turns)
    raise ValueError(f"unknown history_format {history_format!r}")


def session_blocks(item: dict[str, Any], history_format: str = "json") -> list[str]:
    """The history as the official reader builds it: sessions sorted by date, one block each.

    These blocks are also the natural units for segmented summarization (SSA).
    """
    chunks = sorted(zip(item["haystack_dates"], item["haystack_sessions"]), key=lambda x: x[0])
    return [
        f"\n### Session {i + 1}:\nSession Date: {date}\nSession Content:\n{render_session(s, history_format)}\n"
        for i, (date, s) in enumerate(chunks)
    ]


def render_history(item: dict[str, Any], history_format: str = "json") -> str:
    return "".join(session_blocks(item, history_format))


def reader_prompt(item: dict[str, Any], history: str | None = None, history_format: str = "json") -> str:
    """The official direct reader prompt for an item (history optionally pre-rendered/truncated)."""
    if history is None:
        history = render_history(item, history_format)
    return READER_DIRECT.format(history, item["question_date"], item["question"])
