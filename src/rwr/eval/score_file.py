"""`rwr score`: score an existing predictions file against a benchmark data file, without running a model.

LongMemEval: predictions in its hypothesis format (JSONL or JSON list of {"question_id", "hypothesis"}), the
data file one of longmemeval_{oracle,s,m}.json; judged offline or by the official GPT-4o prompts (then the
offline judge runs too and Cohen's kappa is reported). Each judged entry is also written, as evaluate_qa.py
does, to '<predictions>.eval-results-<judge>' with an 'autoeval_label'.
HELMET and short tasks: predictions {"id", "output"} (or "hypothesis"), where id is the 0-based row index in
the task's data file (our own predictions.jsonl works as is: rows of other tasks, and rounds after the first,
are ignored). HELMET tasks also accept the JSON file HELMET's own eval.py writes ({"args", "data": [...],
"averaged_metrics", ...}): each of its rows carries the reference ('answer') and the output, so no data file
is needed and HELMET's sub-sampling of the test set does not matter. ICL data files are the test split as
{text, label} (or the hub's label field name).
Predictions without a reference are skipped with a warning (as evaluate_qa.py does); references without a
prediction are counted as n_missing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from rwr.config import HELMET_TASKS, JUDGE_MODEL, SHORT_TASKS, ChatBackendConfig, ChatPrice, EvaluateConfig
from rwr.data.bench_build import ICL_NUM_LABELS
from rwr.data.longmemeval import is_abstention, load_longmemeval
from rwr.eval.helmet import label_mapping
from rwr.eval.lme_judge import LLMJudge, make_judge
from rwr.eval.score import aggregate, score_rows
from rwr.eval.short import gold_answers
from rwr.io import DataError, read_jsonl, write_json, write_jsonl

log = logging.getLogger("rwr")

TASKS = ["longmemeval", *HELMET_TASKS, *SHORT_TASKS]
_ICL_LABEL_FIELDS = ("label", "coarse_label", "fine_label", "intent")


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """A JSON list or JSONL of objects (evaluate_qa.py accepts both)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else None
    if text is None:
        raise DataError(f"{path}: file not found")
    try:
        data = json.loads(text)
        if isinstance(data, list):
            return data
    except json.JSONDecodeError:
        pass
    return read_jsonl(path)


def references(task: str, data: str | Path, seed: int = 42, num_labels: int = 0) -> dict[str, dict[str, Any]]:
    """id -> the reference fields a scored row needs."""
    if task == "longmemeval":
        return {x["question_id"]: {"answers": [x["answer"]], "question": x["question"],
                                   "question_type": x["question_type"], "abstention": is_abstention(x)}
                for x in load_longmemeval(data)}
    rows = read_jsonl(data)
    refs: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(rows):
        if task in SHORT_TASKS:
            answers = gold_answers(task, r)
        elif task.startswith("icl_"):
            field = next((f for f in _ICL_LABEL_FIELDS if f in r), None)
            if field is None or "text" not in r:
                raise DataError(f"{data}: row {i} needs 'text' and a label field {_ICL_LABEL_FIELDS}")
            n = num_labels or ICL_NUM_LABELS[task]
            answers = [str(label_mapping(r["text"], n, seed)[int(r[field])])]
        elif task.startswith("kilt_"):
            answers = [str(a) for a in r["answers"]]
        else:
            ans = r.get("answer", r.get("outputs"))
            answers = [ans] if isinstance(ans, str) else [str(a) for a in ans]
        if answers is not None:
            refs[str(i)] = {"answers": answers, "question": str(r.get("question", r.get("query", "")))}
    return refs


def prediction_rows(task: str, preds: list[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows, unknown = [], 0
    for p in preds:
        if p.get("task", task) != task or p.get("round", 0) != 0:
            continue
        pid = str(p.get("question_id", p.get("id", "")))
        if pid not in refs:
            unknown += 1
            continue
        text = p.get("hypothesis", p.get("output"))
        if text is None:
            raise DataError(f"prediction {pid!r} has neither 'hypothesis' nor 'output'")
        rows.append({"id": pid, "task": task, "hypothesis": str(text), "question_type": "", "abstention": False,
                     **refs[pid]})
    if unknown:
        log.warning("skipping %d prediction(s) whose id is not in the data file", unknown)
    return rows


def openai_judge(base_url: str | None, model: str | None, api_key_env: str, cache: str | Path) -> LLMJudge:
    llm = ChatBackendConfig(model=model or JUDGE_MODEL, base_url=base_url or ChatBackendConfig().base_url,
                            api_key_env=api_key_env, temperature=0.0, max_tokens=10)
    prices = {JUDGE_MODEL: ChatPrice(input_per_mtok=2.5, output_per_mtok=10.0)}
    return make_judge(llm, cache, prices, progress=False)


def helmet_output_file(path: str | Path) -> dict[str, Any] | None:
    """The parsed file if it is HELMET eval.py's output JSON (an object with 'args' and a 'data' list), else None."""
    path = Path(path)
    if not path.exists() or path.suffix != ".json":
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("data"), list) and "args" in obj else None


def helmet_output_rows(task: str, obj: dict[str, Any], path: str | Path) -> list[dict[str, Any]]:
    """Rows to score from a HELMET output JSON (one per row: every reference has its prediction).

    eval.py stores {**test_item, **output}: 'answer' (a list, or one label string for ICL) is the reference
    and 'output' the generation, with the system template ('Answer:', 'label:', ...) already prepended when no
    chat template was used, which is what HELMET's parsing expects.
    """
    ran = str(obj["args"].get("datasets", task)) if isinstance(obj["args"], dict) else task
    if ran != task:
        raise DataError(f"{path}: HELMET output of dataset {ran!r}, not {task!r}")
    rows = []
    for i, r in enumerate(obj["data"]):
        if "output" not in r or "answer" not in r:
            raise DataError(f"{path}: data[{i}] lacks 'output' or 'answer' (not a HELMET eval.py output file?)")
        ans = r["answer"]
        answers = [str(ans)] if isinstance(ans, str | int) else [str(a) for a in ans]
        rows.append({"id": str(r.get("id", r.get("qid", i))), "task": task, "hypothesis": str(r["output"]),
                     "question_type": "", "abstention": False, "answers": answers,
                     "question": str(r.get("question", ""))})
    return rows


def score_file(task: str, data: str | Path | None, predictions: str | Path, judge: LLMJudge | None = None,
               seed: int = 42, num_labels: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(metrics, scored rows) for one task. `data` may be None for a HELMET eval.py output file."""
    if task not in TASKS:
        raise DataError(f"unknown task {task!r}; known: {TASKS}")
    helmet_out = helmet_output_file(predictions) if task in HELMET_TASKS else None
    if helmet_out is not None:
        rows = helmet_output_rows(task, helmet_out, predictions)
        n_refs = len(rows)
    else:
        if data is None:
            raise DataError(f"{task}: --data is required (only HELMET eval.py output files carry their references)")
        refs = references(task, data, seed, num_labels)
        rows = prediction_rows(task, read_records(predictions), refs)
        n_refs = len(refs)
    score_rows(rows, EvaluateConfig().abstention_markers, judge if task == "longmemeval" else None)
    metrics = {**aggregate(rows), "n_missing": n_refs - len(rows), "task": task,
               "judge": (judge.model if judge else "offline") if task == "longmemeval" else "metric"}
    if judge is not None and task == "longmemeval":
        metrics.update(judge.runner.usage.metrics("judge"))
    return metrics, rows


def write_outputs(task: str, predictions: str | Path, out: str | Path | None, metrics: dict[str, Any],
                  rows: list[dict[str, Any]]) -> Path:
    """The metrics JSON (default '<predictions>.metrics.json'); LongMemEval also gets the per-entry log."""
    out = Path(out) if out else Path(f"{predictions}.metrics.json")
    write_json(out, metrics)
    if task == "longmemeval":
        name = "offline" if metrics["judge"] == "offline" else metrics["judge"]
        write_jsonl(Path(f"{predictions}.eval-results-{name}"),
                    ({"question_id": r["id"], "hypothesis": r["hypothesis"],
                      "autoeval_label": {"model": r.get("judge", "offline"), "label": bool(r["correct"])}}
                     for r in rows))
    return out
