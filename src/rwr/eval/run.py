"""Run a model over a benchmark in one answer mode: per-example predictions and aggregate metrics."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rwr.config import EvaluateConfig, PromptFormat
from rwr.eval.benchmarks import EvalItem
from rwr.eval.judge import offline_judge
from rwr.eval.metrics import accuracy_scores, longmemeval_scores, timing_scores
from rwr.formats import parse_rwr, prompt_text, to_note_question
from rwr.infer.generate import greedy_generate

log = logging.getLogger("rwr")

MODES = ("direct", "rwr")


def build_prompt(item: EvalItem, mode: str, fmt: PromptFormat) -> str:
    """direct: the question as is (ends with the answer cue); rwr: asks for a note first."""
    if mode == "direct":
        question = item.question
    elif mode == "rwr":
        question = to_note_question(item.question, fmt)
    else:
        raise ValueError(f"unknown answer mode {mode!r}; expected one of {MODES}")
    return prompt_text({"system_prompt": item.system_prompt, "question": question}, fmt)


def hypothesis(output: str, mode: str, fmt: PromptFormat) -> tuple[str, str]:
    """(note, hypothesis): the text the judge sees. RwR outputs are judged on their answer part when the
    answer cue appears, otherwise on the whole output; direct outputs on their first line."""
    if mode == "rwr":
        note, answer = parse_rwr(output, fmt)
        return note, answer if answer is not None else output.strip()
    lines = output.strip().splitlines()
    return "", lines[0].strip() if lines else ""


def predict(model, tokenizer, items: Sequence[EvalItem], mode: str, cfg: EvaluateConfig, fmt: PromptFormat,
            progress_every: int = 25) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(items):
        gen = greedy_generate(model, tokenizer, build_prompt(item, mode, fmt), cfg.max_new_tokens)
        note, hyp = hypothesis(gen.text, mode, fmt)
        correct = offline_judge(item.answer, hyp, item.abstention, cfg.abstention_markers)
        rows.append({
            "question_id": item.id, "question_type": item.question_type, "abstention": item.abstention,
            "answer": item.answer, "output": gen.text, "note": note, "hypothesis": hyp, "correct": correct,
            "judge": cfg.judge, "prompt_tokens": gen.prompt_tokens, "new_tokens": gen.new_tokens,
            "prefill_seconds": round(gen.prefill_seconds, 5), "decode_seconds": round(gen.decode_seconds, 5),
        })
        if (i + 1) % progress_every == 0:
            log.info("%s: %d/%d done, accuracy so far %.1f%%", mode, i + 1, len(items),
                     100 * sum(r["correct"] for r in rows) / len(rows))
    return rows


def score(benchmark: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    scores = longmemeval_scores(rows) if benchmark.startswith("longmemeval") else accuracy_scores(rows)
    return {**scores, **timing_scores(rows)}
