"""HELMET's metrics (princeton-nlp/HELMET utils.py and data.py post-processing), re-implemented.

normalize_answer: lower-case, drop punctuation, drop articles, collapse whitespace (SQuAD/DrQA). Exact match
and substring exact match take the max over the gold answers. parse_output finds the text after a prefix
("Answer:") on its line, else the first line. Per task family:
  RAG (kilt_*): substring exact match, the max over the raw output and the parsed output;
  json_kv: the same with prefix "corresponding value:";
  RULER niah: ruler_recall = share of the gold values found (case-insensitive) in the raw output;
  ICL: exact match of parse_output(output, "label:") against the remapped integer label.
Category averages (scripts/collect_results.py custom_avgs): each task's mean x 100, then the plain mean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from statistics import mean

from rwr.eval.judge import normalize_answer

RAG_TASKS = ("kilt_nq", "kilt_triviaqa", "kilt_hotpotqa", "kilt_popqa_3")
RECALL_TASKS = ("json_kv", "ruler_niah_mk_2", "ruler_niah_mk_3", "ruler_niah_mv")
ICL_TASKS = ("icl_trec_coarse", "icl_trec_fine", "icl_banking77", "icl_clinic150", "icl_nlu")
CATEGORIES = {"rag": RAG_TASKS, "icl": ICL_TASKS, "recall": RECALL_TASKS}
"""Category -> its tasks; the paper's Table 2 names them RAG, ICL and SR."""


def category_of(task: str) -> str:
    for cat, tasks in CATEGORIES.items():
        if task in tasks:
            return cat
    raise ValueError(f"unknown HELMET task {task!r}")


def _golds(answers: str | Sequence[str]) -> list[str]:
    return [answers] if isinstance(answers, str) else [str(a) for a in answers]


def exact_match(prediction: str, answers: str | Sequence[str]) -> bool:
    return any(normalize_answer(prediction) == normalize_answer(a) for a in _golds(answers))


def substring_exact_match(prediction: str, answers: str | Sequence[str]) -> bool:
    return any(normalize_answer(a) in normalize_answer(prediction) for a in _golds(answers))


def parse_output(output: str, prefix: str = "Answer:") -> str:
    """The text after `prefix` on its line (case-insensitive), else the first line; a repeated prefix is
    stripped. (HELMET's fallback pattern always matches, so the result is never None.)"""
    def lstrip_prefix(s: str) -> str:
        return re.sub(f"^{re.escape(prefix)}", "", s, flags=re.IGNORECASE)

    for pat in (re.compile(f"(?:{prefix})(.*)(?:\n|$)", flags=re.IGNORECASE), re.compile(r"(?:^)(.*)(?:\n|$)")):
        m = pat.search(output)
        if m is not None:
            return lstrip_prefix(m[1].strip()).strip()
    return ""


def ruler_recall(output: str, answers: Sequence[str]) -> float:
    """Share of the needle values present in the raw output (no normalization, case-insensitive)."""
    golds = _golds(answers)
    return sum(a.lower() in output.lower() for a in golds) / len(golds) if golds else 0.0


def score_output(task: str, output: str, answers: str | Sequence[str]) -> tuple[float, str]:
    """(score in [0, 1], parsed output) of one HELMET item."""
    if task in RAG_TASKS or task == "json_kv":
        prefix = "corresponding value:" if task == "json_kv" else "Answer:"
        parsed = parse_output(output, prefix)
        return float(max(substring_exact_match(output, answers), substring_exact_match(parsed, answers))), parsed
    if task.startswith("ruler_niah"):
        return ruler_recall(output, _golds(answers)), output
    if task in ICL_TASKS:
        parsed = parse_output(output, "label:")
        return float(exact_match(parsed, answers)), parsed
    raise ValueError(f"unknown HELMET task {task!r}")


METRIC_NAME = {**{t: "substring_exact_match" for t in (*RAG_TASKS, "json_kv")},
               **{t: "ruler_recall" for t in RECALL_TASKS[1:]}, **{t: "exact_match" for t in ICL_TASKS}}


def helmet_scores(per_task: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Task means (x100), category averages over the tasks present, and 'avg' = mean of the categories
    present (the paper's Table 2 'Avg')."""
    out: dict[str, float] = {}
    for task, xs in per_task.items():
        out[task] = round(100.0 * mean(xs), 2) if xs else 0.0
        out[f"n_{task}"] = len(xs)
    cats = []
    for cat, tasks in CATEGORIES.items():
        present = [out[t] for t in tasks if per_task.get(t)]
        if present:
            out[cat] = round(mean(present), 2)
            cats.append(out[cat])
    if cats:
        out["avg"] = round(mean(cats), 2)
    return out
