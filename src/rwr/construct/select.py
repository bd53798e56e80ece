"""Selector and splitter: which OpenOrca records carry a background context, split into (c, q, a).

The paper only says that "examples that contain background context relevant to the given query are
selected". Our rules, applied in this order, all param-driven and each counted in the stage metrics:

1. `query_markers`: the last occurrence of any marker (e.g. "\\nQuestion:") splits the question into the
   context c (before it) and the query q (after it, without a trailing answer cue). No marker -> dropped
   (`dropped_no_query_marker`); a marker with nothing after it -> `dropped_empty_query`.
2. `min_context_chars`: a shorter c is an instruction, not background -> `dropped_short_context`.
3. `max_context_chars` (0 = off): longer contexts would not fit the teacher -> `dropped_long_context`.
4. `max_sources` (0 = off): a seeded random sample of the selected records goes to the teacher, bounding
   LLM cost -> `not_sent_over_max_sources`.

Kept records are counted as `selected`, and per marker as `selected_marker_<i>` (i = index in the list).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rwr.config import ConstructConfig, PromptFormat
from rwr.construct.split import split_question, units

Record = dict[str, Any]


@dataclass(frozen=True)
class Example:
    """A selected record as (c, q, a), with what the empty-summary step needs to edit the context."""

    record: Record
    context: str
    """c: the text before the query marker, stripped (what the teacher sees)."""
    query: str
    """q: the text after the marker, without the trailing answer cue."""
    answer: str
    """a: the record's response."""
    context_raw: str
    """question[:marker_at], unstripped: the text paragraphs are removed from."""
    tail: str
    """question[marker_at:]: the marker, the query and the answer cue, kept verbatim in D_e."""
    units: tuple[tuple[int, int, str], ...]
    """Paragraphs of context_raw as (start, end, text): chat turns for chat histories."""


def source_records(orca: Sequence[Record], cfg: ConstructConfig) -> list[Record]:
    """The records the summary data is built from (`source_pool`), relative to the n_orca SFT records."""
    if cfg.source_pool == "sft":
        return list(orca[: cfg.n_orca])
    if cfg.source_pool == "rest":
        return list(orca[cfg.n_orca :])
    return list(orca)


def _marker_index(question: str, markers: Sequence[str], marker_at: int) -> int:
    return next((i for i, m in enumerate(markers) if question.startswith(m, marker_at)), -1)


def select_examples(
    records: Sequence[Record], cfg: ConstructConfig, fmt: PromptFormat, seed: int
) -> tuple[list[Example], Counter]:
    """Apply the rules above; returns the examples (input order unless sampled) and the counts."""
    counts: Counter = Counter()
    out: list[Example] = []
    for rec in records:
        counts["sources"] += 1
        question = rec["question"]
        split = split_question(question, cfg.query_markers, fmt.answer_cue)
        if split is None:
            has_marker = any(m in question for m in cfg.query_markers)
            counts["dropped_empty_query" if has_marker else "dropped_no_query_marker"] += 1
            continue
        if len(split.context) < cfg.min_context_chars:
            counts["dropped_short_context"] += 1
            continue
        if cfg.max_context_chars and len(split.context) > cfg.max_context_chars:
            counts["dropped_long_context"] += 1
            continue
        counts["selected"] += 1
        counts[f"selected_marker_{_marker_index(question, cfg.query_markers, split.marker_at)}"] += 1
        raw = question[: split.marker_at]
        out.append(
            Example(
                rec,
                split.context,
                split.query,
                rec["response"],
                raw,
                question[split.marker_at :],
                tuple(units(raw)),
            )
        )
    if cfg.max_sources and len(out) > cfg.max_sources:
        counts["not_sent_over_max_sources"] = len(out) - cfg.max_sources
        out = random.Random(f"{seed}-sources").sample(out, cfg.max_sources)
    return out, counts
