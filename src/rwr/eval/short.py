"""Short-context tasks as evaluation items (paper Table 3): SAMSum, RTE, GSM8K, Natural Questions.

Files under data/raw/short/<task>.jsonl keep the data sets' own schemas:
  samsum {id, dialogue, summary}; rte (GLUE) {sentence1, sentence2, label, idx} with 0 = entailment;
  gsm8k {question, answer} with the final number after '####'; nq (nq_open) {question, answer: [str]}.
The prompt is evaluate.short.prompts[task] over the row's fields; its last line is the answer cue.
Item ids are row indices.
"""

from __future__ import annotations

from pathlib import Path

from rwr.config import ShortConfig
from rwr.eval.items import EvalItem
from rwr.eval.short_metrics import gsm8k_gold
from rwr.infer.prompt import ContextPrompt
from rwr.io import DataError, read_jsonl

STOP_NEWLINE = ("rte", "nq")
"""Short answers end at the first newline (as HELMET's QA tasks); summaries and GSM8K solutions do not."""
FIELDS = {"samsum": ("dialogue", "summary"), "rte": ("sentence1", "sentence2", "label"),
          "gsm8k": ("question", "answer"), "nq": ("question", "answer")}


def gold_answers(task: str, row: dict) -> list[str] | None:
    """The gold answers as the metric reads them; None for a row without a usable label."""
    if task == "samsum":
        return [row["summary"]]
    if task == "rte":
        return {0: ["yes"], 1: ["no"]}.get(int(row["label"]))  # GLUE test rows carry label -1
    if task == "gsm8k":
        gold = gsm8k_gold(row["answer"])
        return None if gold is None else [str(int(gold)) if gold == int(gold) else str(gold)]
    if task == "nq":
        ans = row["answer"]
        return [ans] if isinstance(ans, str) else [str(a) for a in ans]
    raise ValueError(f"unknown short task {task!r}")


def split_cue(text: str) -> tuple[str, str]:
    """(body, cue): the cue is the last line, with its newline."""
    cut = text.rfind("\n")
    return (text, "") if cut < 0 else (text[:cut], text[cut:])


def short_items(task: str, rows: list[dict], cfg: ShortConfig, where: str = "") -> list[EvalItem]:
    items = []
    for i, row in enumerate(rows):
        missing = [f for f in FIELDS[task] if f not in row]
        if missing:
            raise DataError(f"{where}: row {i} lacks field(s) {missing} of the {task} schema")
        answers = gold_answers(task, row)
        if answers is None:
            continue
        body, cue = split_cue(cfg.prompts[task].format(**row))
        p = ContextPrompt(body, (), "", "", cue)
        items.append(EvalItem(str(i), task, p, answers, question=str(row.get("question", "")),
                              max_new_tokens=cfg.max_new_tokens.get(task, 0), stop_newline=task in STOP_NEWLINE))
        if cfg.max_samples and len(items) >= cfg.max_samples:
            break
    return items


def load_short(raw: str | Path, cfg: ShortConfig) -> list[EvalItem]:
    items = []
    for task in cfg.tasks:
        path = Path(raw) / f"{task}.jsonl"
        items += short_items(task, read_jsonl(path), cfg, str(path))
    return items
