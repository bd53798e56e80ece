"""Select OpenOrca records that carry a background context and split them into (context, query)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rwr.eval.judge import normalize_answer


@dataclass
class Split:
    context: str
    query: str
    marker_at: int
    """Offset of the query marker in the question: question[:marker_at] is the context."""


def split_question(question: str, markers: Sequence[str], answer_cue: str) -> Split | None:
    """Context = text before the last query marker; query = text after it, without a trailing answer cue."""
    best = max(((question.rfind(m), m) for m in markers), default=(-1, ""))
    at, marker = best
    if at < 0:
        return None
    query = question[at + len(marker):]
    query = re.sub(r"\s*" + re.escape(answer_cue) + r"\s*$", "", query).strip()
    return Split(question[:at].strip(), query, at) if query else None


# A chat turn as the LongMemEval reader renders it (json.dumps of {"role", "content"}).
_TURN = re.compile(r'\{"role": "(?:user|assistant)", "content": "((?:[^"\\]|\\.)*)"\}')
_SENT = re.compile(r"(?<=[.!?])\s+|\n+")


def units(context: str) -> list[tuple[int, int, str]]:
    """Paragraph-like units of a context as (start, end, text): chat turns when the context is a rendered
    chat history, blank-line paragraphs otherwise."""
    turns = [(m.start(), m.end(), json.loads(f'"{m.group(1)}"')) for m in _TURN.finditer(context)]
    if turns:
        return turns
    out, pos = [], 0
    for para in re.split(r"\n\s*\n", context):
        start = context.find(para, pos)
        pos = start + len(para)
        if para.strip():
            out.append((start, pos, para.strip()))
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if s.strip()]


def answer_parts(answer: str) -> list[str]:
    """Normalized pieces of a (possibly composite) answer: 'Rex and Luna' -> ['rex', 'luna']."""
    parts = re.split(r",|;|\band\b", answer)
    return [p for p in (normalize_answer(x) for x in parts) if p] or [normalize_answer(answer)]
