"""Build D_f (verified summaries), D_e (empty summaries) and the two training mixes from SFT records.

Every selected example is considered for both sets. Each drop is counted under its reason:
  D_f: summary_dropped_teacher_no_note, summary_dropped_note_truncated, summary_dropped_verifier_rejected
       (which includes summary_verdict_unparseable);
  D_e: empty_dropped_answer_too_long, empty_dropped_single_paragraph, empty_dropped_locate_unparseable,
       empty_dropped_answer_not_located, empty_dropped_nothing_left, empty_dropped_answer_still_present.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rwr.config import ConstructConfig, PromptFormat
from rwr.construct.select import Example, select_examples
from rwr.construct.split import answer_parts, units
from rwr.construct.teachers import Located, Note, OfflineTeacher, OfflineVerifier, Teacher, Verifier
from rwr.eval.judge import normalize_answer
from rwr.formats import rwr_target, to_note_question

Record = dict[str, Any]

# Every count is written, zeros included, so metrics files of all runs share one schema (dvc metrics diff).
COUNT_KEYS = (
    "sources",
    "selected",
    "dropped_no_query_marker",
    "dropped_empty_query",
    "dropped_short_context",
    "dropped_long_context",
    "not_sent_over_max_sources",
    "summary_dropped_teacher_no_note",
    "summary_dropped_note_truncated",
    "summary_dropped_verifier_rejected",
    "summary_verdict_unparseable",
    "verifier_judged",
    "verifier_rejection_rate_pct",
    "empty_dropped_answer_too_long",
    "empty_dropped_single_paragraph",
    "empty_dropped_locate_unparseable",
    "empty_dropped_answer_not_located",
    "empty_dropped_nothing_left",
    "empty_dropped_answer_still_present",
    "summary_candidates",
    "empty_candidates",
)


def remove_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Delete spans (chat turns or paragraphs), with one adjacent ', ' so a JSON turn list stays valid."""
    for a, b in sorted(spans, reverse=True):
        if text[b : b + 2] == ", ":
            b += 2
        elif text[a - 2 : a] == ", ":
            a -= 2
        text = text[:a] + text[b:]
    return text


def answer_still_present(text: str, answer: str) -> bool:
    """The code-side check of D_e: does any normalized part of the answer still occur in `text`?"""
    norm = normalize_answer(text)
    return any(p in norm for p in answer_parts(answer))


def summary_record(rec: Record, note: str, fmt: PromptFormat) -> Record:
    return {
        "id": f"{rec['id']}.summary",
        "system_prompt": rec["system_prompt"],
        "question": to_note_question(rec["question"], fmt),
        "response": rwr_target(note, rec["response"], fmt),
    }


def empty_record(rec: Record, reduced_context: str, tail: str, fmt: PromptFormat) -> Record:
    return {
        "id": f"{rec['id']}.empty",
        "system_prompt": rec["system_prompt"],
        "question": to_note_question(reduced_context + tail, fmt),
        "response": rwr_target(fmt.empty_note, fmt.empty_answer, fmt),
    }


def _summaries(
    examples: Sequence[Example], notes: Sequence[Note], verifier: Verifier, fmt: PromptFormat, counts: Counter
) -> list[Record]:
    usable = []
    for ex, note in zip(examples, notes, strict=True):
        if note.text is None:
            counts[
                "summary_dropped_note_truncated"
                if note.issue == "truncated"
                else "summary_dropped_teacher_no_note"
            ] += 1
        else:
            usable.append((ex, note.text))
    verdicts = verifier.verify([ex for ex, _ in usable], [n for _, n in usable]) if usable else []
    out = []
    for (ex, text), verdict in zip(usable, verdicts, strict=True):
        if verdict is None:
            counts["summary_verdict_unparseable"] += 1
        if not verdict:  # unparseable counts as rejected
            counts["summary_dropped_verifier_rejected"] += 1
        else:
            out.append(summary_record(ex.record, text, fmt))
    judged = len(usable)
    counts["verifier_judged"] = judged
    counts["verifier_rejection_rate_pct"] = (
        round(100 * counts["summary_dropped_verifier_rejected"] / judged, 2) if judged else 0
    )
    return out


def _empties(
    examples: Sequence[Example], located: Sequence[Located], fmt: PromptFormat, counts: Counter
) -> list[Record]:
    out = []
    for ex, idx in zip(examples, located, strict=True):
        if idx is None:
            counts["empty_dropped_locate_unparseable"] += 1
            continue
        if not idx:
            counts["empty_dropped_answer_not_located"] += 1
            continue
        reduced = remove_spans(ex.context_raw, [ex.units[i][:2] for i in idx])
        if not units(reduced):
            counts["empty_dropped_nothing_left"] += 1
        elif answer_still_present(reduced, ex.answer):
            counts["empty_dropped_answer_still_present"] += 1
        else:
            out.append(empty_record(ex.record, reduced, ex.tail, fmt))
    return out


def construct(
    records: Sequence[Record],
    cfg: ConstructConfig,
    fmt: PromptFormat,
    seed: int,
    teacher: Teacher | None = None,
    verifier: Verifier | None = None,
) -> tuple[list[Record], list[Record], Counter]:
    """(D_f, D_e, counts) with the given backends (default: the offline ones)."""
    teacher = teacher or OfflineTeacher(cfg.max_note_sentences, cfg.note_questions, cfg.note_drop_openers)
    verifier = verifier or OfflineVerifier()
    examples, counts = select_examples(records, cfg, fmt, seed)
    locate_for = []
    for ex in examples:
        if cfg.empty_max_answer_words and len(ex.answer.split()) > cfg.empty_max_answer_words:
            counts["empty_dropped_answer_too_long"] += 1
        elif len(ex.units) < 2:  # removing the only paragraph would leave no context at all
            counts["empty_dropped_single_paragraph"] += 1
        else:
            locate_for.append(ex)
    notes, located = teacher.teach(examples, locate_for)
    summaries = _summaries(examples, notes, verifier, fmt, counts)
    empties = _empties(locate_for, located, fmt, counts)
    rng = random.Random(seed)
    rng.shuffle(summaries)
    rng.shuffle(empties)
    counts["summary_candidates"] = len(summaries)
    counts["empty_candidates"] = len(empties)
    for key in COUNT_KEYS:
        counts[key] += 0
    return summaries[: cfg.n_summary], empties[: cfg.n_empty], counts


def mix(
    orca: Sequence[Record], summaries: Sequence[Record], empties: Sequence[Record], n_orca: int, seed: int
) -> tuple[list[Record], list[Record]]:
    """(sft, rwr): the same n_orca OpenOrca records; rwr adds D_s = D_f + D_e; both shuffled."""
    base = list(orca[:n_orca])
    rng = random.Random(seed)
    sft = base[:]
    rng.shuffle(sft)
    rwr = base + list(summaries) + list(empties)
    rng.shuffle(rwr)
    return sft, rwr
