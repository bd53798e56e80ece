"""Build D_f (verified summaries), D_e (empty summaries) and the two training mixes from SFT records."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rwr.config import ConstructConfig, PromptFormat
from rwr.construct.offline import extract_note, locate_answer_units, verify_note
from rwr.construct.split import answer_parts, split_question
from rwr.eval.judge import normalize_answer
from rwr.formats import rwr_target, to_note_question

Record = dict[str, Any]


def remove_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Delete spans (chat turns or paragraphs), with one adjacent ', ' so a JSON turn list stays valid."""
    for a, b in sorted(spans, reverse=True):
        if text[b : b + 2] == ", ":
            b += 2
        elif text[a - 2 : a] == ", ":
            a -= 2
        text = text[:a] + text[b:]
    return text


def summary_record(rec: Record, note: str, fmt: PromptFormat) -> Record:
    return {"id": f"{rec['id']}.summary", "system_prompt": rec["system_prompt"],
            "question": to_note_question(rec["question"], fmt), "response": rwr_target(note, rec["response"], fmt)}


def empty_record(rec: Record, reduced_context: str, tail: str, fmt: PromptFormat) -> Record:
    return {"id": f"{rec['id']}.empty", "system_prompt": rec["system_prompt"],
            "question": to_note_question(reduced_context + tail, fmt),
            "response": rwr_target(fmt.empty_note, fmt.empty_answer, fmt)}


def construct(records: Sequence[Record], cfg: ConstructConfig, fmt: PromptFormat, seed: int
              ) -> tuple[list[Record], list[Record], Counter]:
    """(D_f, D_e, counts). Every record is considered for both sets; counts name each drop reason."""
    summaries, empties, counts = [], [], Counter()
    for rec in records:
        counts["sources"] += 1
        split = split_question(rec["question"], cfg.query_markers, fmt.answer_cue)
        if split is None:
            counts["dropped_no_query_marker"] += 1
            continue
        if len(split.context) < cfg.min_context_chars:
            counts["dropped_short_context"] += 1
            continue
        counts["selected"] += 1
        answer = rec["response"]
        note = extract_note(split.context, split.query, cfg.max_note_sentences)
        if note is None:
            counts["summary_dropped_teacher_no_note"] += 1
        elif not verify_note(note, answer):
            counts["summary_dropped_verifier_rejected"] += 1
        else:
            summaries.append(summary_record(rec, note, fmt))
        # Empty summaries: remove the answer-bearing units, keep only if the answer is gone.
        context_raw = rec["question"][: split.marker_at]
        spans = locate_answer_units(context_raw, answer)
        if not spans:
            counts["empty_dropped_answer_not_located"] += 1
            continue
        reduced = remove_spans(context_raw, spans)
        if any(p in normalize_answer(reduced) for p in answer_parts(answer)):
            counts["empty_dropped_answer_still_present"] += 1
            continue
        empties.append(empty_record(rec, reduced, rec["question"][split.marker_at:], fmt))
    rng = random.Random(seed)
    rng.shuffle(summaries)
    rng.shuffle(empties)
    counts["summary_candidates"] = len(summaries)
    counts["empty_candidates"] = len(empties)
    judged = counts["summary_candidates"] + counts["summary_dropped_verifier_rejected"]
    counts["verifier_rejection_rate_pct"] = round(100 * counts["summary_dropped_verifier_rejected"] / judged, 2) \
        if judged else 0
    return summaries[: cfg.n_summary], empties[: cfg.n_empty], counts


def mix(orca: Sequence[Record], summaries: Sequence[Record], empties: Sequence[Record], n_orca: int, seed: int
        ) -> tuple[list[Record], list[Record]]:
    """(sft, rwr): the same n_orca OpenOrca records; rwr adds D_s = D_f + D_e; both shuffled."""
    base = list(orca[:n_orca])
    rng = random.Random(seed)
    sft = base[:]
    rng.shuffle(sft)
    rwr = base + list(summaries) + list(empties)
    rng.shuffle(rwr)
    return sft, rwr
