"""Scoring of prediction rows, shared by the evaluate stage and `rwr score`.

A row is one item's prediction: {"id", "task", "answers", "hypothesis", ...} plus, for LongMemEval,
{"question", "question_type", "abstention"}. `score_rows` adds "score" (in [0, 1]) and the judge fields;
`aggregate` turns a homogeneous list of rows into the benchmark's metrics (LongMemEval per type, micro,
macro and abstention; HELMET per task and category; short tasks per task; orca_dev accuracy).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from statistics import mean
from typing import Any

from rwr.config import HELMET_TASKS, SHORT_TASKS
from rwr.eval import helmet_metrics, short_metrics
from rwr.eval.judge import offline_judge
from rwr.eval.lme_judge import JudgeCase, LLMJudge
from rwr.eval.metrics import accuracy_scores, cohen_kappa, longmemeval_scores

Row = dict[str, Any]


def kind_of(task: str) -> str:
    if task in ("longmemeval", "orca_dev"):
        return task
    if task in HELMET_TASKS:
        return "helmet"
    if task in SHORT_TASKS:
        return "short"
    raise ValueError(f"unknown task {task!r}")


def score_rows(rows: Sequence[Row], markers: Sequence[str], judge: LLMJudge | None = None, round_: int = 0) -> None:
    """Fill row['score'] (and LongMemEval's 'correct', 'correct_offline', 'judge', 'judge_reply') in place."""
    lme = [r for r in rows if r["task"] == "longmemeval"]
    for r in lme:
        r["correct_offline"] = offline_judge(r["answers"][0], r["hypothesis"], r["abstention"], markers)
    if judge is not None and lme:
        cases = [JudgeCase(r["id"], r["question_type"], r["question"], r["answers"][0], r["hypothesis"]) for r in lme]
        for r, (label, reply) in zip(lme, judge.judge(cases, round_), strict=True):
            r.update(correct=label, judge=judge.model, judge_reply=reply)
    else:
        for r in lme:
            r.update(correct=r["correct_offline"], judge="offline")
    for r in rows:
        task = r["task"]
        if task == "longmemeval":
            r["score"] = float(r["correct"])
        elif task == "orca_dev":
            r["correct"] = offline_judge(r["answers"][0], r["hypothesis"], False, markers)
            r["score"] = float(r["correct"])
        elif task in HELMET_TASKS:
            r["score"], r["parsed"] = helmet_metrics.score_output(task, r["hypothesis"], r["answers"])
        elif task in SHORT_TASKS:
            r["score"] = short_metrics.score_output(task, r["hypothesis"], r["answers"])
        else:
            raise ValueError(f"unknown task {task!r}")


def short_scores(rows: Sequence[Row]) -> dict[str, Any]:
    per_task: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        per_task[r["task"]].append(r["score"])
    out: dict[str, Any] = {}
    for task in SHORT_TASKS:
        if per_task.get(task):
            out[task] = round(100.0 * mean(per_task[task]), 2)
            out[f"n_{task}"] = len(per_task[task])
    return out


def aggregate(rows: Sequence[Row]) -> dict[str, Any]:
    """The benchmark metrics of scored rows (all of one kind); 'n' counts the rows."""
    if not rows:
        return {"n": 0}
    kind = kind_of(rows[0]["task"])
    if kind == "longmemeval":
        out = longmemeval_scores(rows)
        if any("judge_reply" in r for r in rows):
            out["kappa_offline"] = cohen_kappa([r["correct"] for r in rows], [r["correct_offline"] for r in rows])
            out["offline_avg"] = round(100.0 * mean(r["correct_offline"] for r in rows), 2)
        return out
    if kind == "orca_dev":
        return accuracy_scores(rows)
    if kind == "helmet":
        per_task: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            per_task[r["task"]].append(r["score"])
        return {**helmet_metrics.helmet_scores(per_task), "n": len(rows)}
    return {**short_scores(rows), "n": len(rows)}
