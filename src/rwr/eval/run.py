"""Run a model over evaluation items in one answer mode: one prediction row per item."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rwr.config import MODES, EvaluateConfig, PromptFormat
from rwr.eval.items import EvalItem
from rwr.infer.modes import Answer, Engine, answer, first_line
from rwr.infer.prompt import fit_to_budget

log = logging.getLogger("rwr")

__all__ = ["MODES", "fit_items", "hypothesis_of", "predict"]


def budget_of(item: EvalItem, cfg: EvaluateConfig) -> int:
    return item.max_new_tokens or cfg.max_new_tokens


def fit_items(items: Sequence[EvalItem], tokenizer, fmt: PromptFormat, cfg: EvaluateConfig) -> None:
    """Length control, in place: HELMET prompts to helmet.length minus the task's generation budget (as
    HELMET's input_max_length - generation_max_length); LongMemEval/orca_dev to max_prompt_tokens minus the
    answer budget. Only the END of the context is cut."""
    for it in items:
        if it.task in ("longmemeval", "orca_dev"):
            limit = cfg.max_prompt_tokens - budget_of(it, cfg) if cfg.max_prompt_tokens else 0
        elif it.question_type in ("rag", "icl", "recall"):
            limit = cfg.helmet.length - budget_of(it, cfg)
        else:
            limit = 0
        if limit > 0:
            it.prompt, it.truncated = fit_to_budget(it.prompt, fmt, tokenizer, limit)


def hypothesis_of(item: EvalItem, ans: Answer, mode: str, cfg: EvaluateConfig) -> str:
    """The text a judge or metric sees. LongMemEval/orca_dev direct outputs: the first line or the full
    output (evaluate.hypothesis); everything else: the answer text (after the cue in rwr/ssa; HELMET's
    metrics parse the raw output themselves)."""
    if mode == "direct" and item.task in ("longmemeval", "orca_dev"):
        return first_line(ans.answer) if cfg.hypothesis == "first_line" else ans.answer.strip()
    return ans.answer.strip()


def predict(engine: Engine, items: Sequence[EvalItem], mode: str, cfg: EvaluateConfig, fmt: PromptFormat,
            seed: int | None = None, progress_every: int = 25) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(items):
        a = answer(mode, engine, item.prompt, fmt, budget=budget_of(item, cfg), note_budget=cfg.note_max_new_tokens,
                   ssa=cfg.ssa, stop_newline=item.stop_newline, seed=seed)
        row: dict[str, Any] = {
            "id": item.id, "task": item.task, "question_type": item.question_type, "abstention": item.abstention,
            "question": item.question, "answers": item.answers, "output": a.output, "note": a.note,
            "hypothesis": hypothesis_of(item, a, mode, cfg), "prompt_tokens": a.prompt_tokens,
            "max_prompt_tokens": a.max_prompt_tokens, "new_tokens": a.new_tokens, "calls": a.calls,
            "prefill_seconds": round(a.prefill_seconds, 5), "decode_seconds": round(a.decode_seconds, 5),
            "truncated": item.truncated,
        }
        if mode == "ssa":
            row.update(segments=a.segments, notes_kept=a.notes_kept, oversize_units=a.oversize_units,
                       segment_notes=a.segment_notes)
        rows.append(row)
        if (i + 1) % progress_every == 0:
            log.info("%s: %d/%d items", mode, i + 1, len(items))
    return rows
