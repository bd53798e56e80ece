"""Aggregate scores over per-example rows (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean
from typing import Any

from rwr.data.longmemeval import QUESTION_TYPES


def _pct(xs: Sequence[bool]) -> float:
    return round(100.0 * mean(xs), 2) if xs else 0.0


def longmemeval_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per-type accuracy (SU..TR), the micro average over all questions (the paper's 'weighted average'),
    the task-averaged (macro) accuracy and the abstention accuracy, as print_qa_metrics.py reports them.

    Each row needs 'question_type', 'abstention' and 'correct'. Abstention items count inside their type.
    """
    out: dict[str, Any] = {}
    per_type = []
    for qtype, abbr in QUESTION_TYPES.items():
        xs = [bool(r["correct"]) for r in rows if r["question_type"] == qtype]
        out[abbr] = _pct(xs)
        out[f"n_{abbr}"] = len(xs)
        if xs:
            per_type.append(out[abbr])
    out["avg"] = _pct([bool(r["correct"]) for r in rows])
    out["task_avg"] = round(mean(per_type), 2) if per_type else 0.0
    abst = [bool(r["correct"]) for r in rows if r["abstention"]]
    out["abstention"] = _pct(abst)
    out["n"] = len(rows)
    return out


def accuracy_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"avg": _pct([bool(r["correct"]) for r in rows]), "n": len(rows)}


def timing_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {}
    return {
        "prompt_tokens_mean": round(mean(r["prompt_tokens"] for r in rows), 1),
        "prompt_tokens_max": max(r["prompt_tokens"] for r in rows),
        "seconds_per_sample": round(mean(r["prefill_seconds"] + r["decode_seconds"] for r in rows), 4),
        "prefill_seconds_mean": round(mean(r["prefill_seconds"] for r in rows), 4),
        "decode_seconds_mean": round(mean(r["decode_seconds"] for r in rows), 4),
    }
