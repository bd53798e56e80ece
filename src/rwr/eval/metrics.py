"""Aggregate scores over per-example rows (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean, stdev
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
    """Prompt lengths and time per sample (all of a mode's model calls; SSA makes several)."""
    if not rows:
        return {}
    out = {
        "prompt_tokens_mean": round(mean(r["prompt_tokens"] for r in rows), 1),
        "prompt_tokens_max": max(r["prompt_tokens"] for r in rows),
        "seconds_per_sample": round(mean(r["prefill_seconds"] + r["decode_seconds"] for r in rows), 4),
        "prefill_seconds_mean": round(mean(r["prefill_seconds"] for r in rows), 4),
        "decode_seconds_mean": round(mean(r["decode_seconds"] for r in rows), 4),
    }
    if any("calls" in r for r in rows):
        out["calls_mean"] = round(mean(r.get("calls", 1) for r in rows), 2)
        out["call_tokens_max"] = max(r.get("max_prompt_tokens", r["prompt_tokens"]) for r in rows)
    if any("truncated" in r for r in rows):
        out["truncated"] = sum(bool(r.get("truncated")) for r in rows)
    return out


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float:
    """Cohen's kappa of two binary judges on the same items. When chance agreement is total (both judges
    give one constant label) kappa is undefined; we return 1.0 if they agree everywhere, else 0.0."""
    if len(a) != len(b):
        raise ValueError("judges must rate the same items")
    n = len(a)
    if n == 0:
        return 0.0
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(map(bool, a)) / n, sum(map(bool, b)) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else 0.0
    return round((po - pe) / (1 - pe), 4)


def combine_rounds(per_round: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean over rounds of every numeric metric, plus '<key>_std' (sample std; 0 for one round) for the
    scores. Counts ('n', 'n_*') are taken from the first round."""
    if not per_round:
        return {}
    out: dict[str, Any] = {}
    for key, first in per_round[0].items():
        values = [m.get(key) for m in per_round]
        if key == "n" or key.startswith("n_") or not all(isinstance(v, int | float) for v in values):
            out[key] = first
            continue
        out[key] = round(mean(values), 2)
        out[f"{key}_std"] = round(stdev(values), 2) if len(values) > 1 else 0.0
    out["rounds"] = len(per_round)
    return out
