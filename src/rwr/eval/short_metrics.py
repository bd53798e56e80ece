"""Metrics of the short-context tasks (paper Table 3).

- SAMSum: the mean of ROUGE-1, ROUGE-2 and ROUGE-L F1 (rouge-score, Porter stemming), x100.
- RTE: two-way accuracy; the answer's first word decides (yes/entailment vs. no/not entailment).
- GSM8K: solve rate; the last number in the answer against the number after '####' (commas dropped).
- Natural Questions: exact match after the standard answer normalization (Chen et al. 2017; Lee et al. 2019:
  lower-case, no punctuation, no articles, single spaces), max over the gold answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rwr.eval.helmet_metrics import exact_match
from rwr.eval.judge import normalize_answer

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


@lru_cache(maxsize=1)
def _rouge():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge_mean_f1(prediction: str, reference: str) -> float:
    """Mean of ROUGE-1/2/L F1 in [0, 1]."""
    scores = _rouge().score(target=reference, prediction=prediction)
    return sum(s.fmeasure for s in scores.values()) / 3


def rte_label(prediction: str) -> str | None:
    """'yes' (entailment), 'no' (not entailment) or None (unreadable)."""
    words = normalize_answer(prediction).split()
    if not words:
        return None
    if words[0] in ("yes", "entailment", "true", "entails"):
        return "yes"
    if words[0] in ("no", "not", "false", "not_entailment") or words[:2] == ["not", "entailment"]:
        return "no"
    return None


def to_number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").rstrip("."))
    except ValueError:
        return None


def last_number(text: str) -> float | None:
    """The last number in a text ('1,234.5' -> 1234.5); None if there is none."""
    found = _NUMBER.findall(text)
    return to_number(found[-1]) if found else None


def gsm8k_gold(answer: str) -> float | None:
    """The number after '####' in a GSM8K solution."""
    return to_number(answer.split("####")[-1].strip()) if "####" in answer else last_number(answer)


def gsm8k_correct(prediction: str, gold: str) -> bool:
    pred, ref = last_number(prediction), to_number(gold)
    return pred is not None and ref is not None and abs(pred - ref) < 1e-6


def score_output(task: str, prediction: str, answers: Sequence[str]) -> float:
    """Score in [0, 1] of one short-task item; `answers` as the loader stores them (see short.py)."""
    if task == "samsum":
        return max(rouge_mean_f1(prediction, a) for a in answers)
    if task == "rte":
        return float(rte_label(prediction) == answers[0])
    if task == "gsm8k":
        return float(gsm8k_correct(prediction, answers[0]))
    if task == "nq":
        return float(exact_match(prediction, answers))
    raise ValueError(f"unknown short task {task!r}")
