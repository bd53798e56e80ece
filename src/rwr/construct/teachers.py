"""The teacher/verifier protocol of RwR construction, and its offline (mini-profile) implementations.

A teacher writes a note for each example (D_f) and names the paragraphs of c that hold the answer (D_e);
a verifier judges whether a note is consistent with the gold answer. Both work on whole lists so LLM
backends can send requests concurrently (or export them as one batch). The code around them (removal of
paragraphs, the check that the answer is gone, counting) is the same for every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rwr.construct.offline import extract_note, verify_note
from rwr.construct.select import Example
from rwr.construct.split import answer_parts
from rwr.eval.judge import normalize_answer


@dataclass(frozen=True)
class Note:
    """A teacher's note; `text` is None when unusable, and `issue` says why ('no_note' or 'truncated')."""

    text: str | None
    issue: str = ""


Located = list[int] | None
"""0-based indices into Example.units holding the answer; [] = none found; None = unparseable reply."""


class Teacher(Protocol):
    name: str

    def teach(
        self, note_for: Sequence[Example], locate_for: Sequence[Example]
    ) -> tuple[list[Note], list[Located]]:
        """Notes for `note_for` and answer paragraphs for `locate_for`, in order."""


class Verifier(Protocol):
    name: str

    def verify(self, examples: Sequence[Example], notes: Sequence[str]) -> list[bool | None]:
        """True = consistent with the answer, False = inconsistent, None = unparseable verdict."""


class OfflineTeacher:
    """Extractive notes (query-relevant sentences) and lexical answer location; no model, no network."""

    name = "offline-extractive"

    def __init__(self, max_sentences: int, questions: bool = True, openers: Sequence[str] = ()) -> None:
        self.max_sentences = max_sentences
        self.questions = questions
        self.openers = tuple(openers)

    def teach(
        self, note_for: Sequence[Example], locate_for: Sequence[Example]
    ) -> tuple[list[Note], list[Located]]:
        notes = []
        for ex in note_for:
            text = extract_note(ex.context, ex.query, self.max_sentences, self.questions, self.openers)
            notes.append(Note(text, "" if text is not None else "no_note"))
        located: list[Located] = []
        for ex in locate_for:
            parts = answer_parts(ex.answer)
            located.append(
                [i for i, (_, _, t) in enumerate(ex.units) if any(p in normalize_answer(t) for p in parts)]
            )
        return notes, located


class OfflineVerifier:
    """Consistent iff the note contains every normalized part of the gold answer."""

    name = "offline-containment"

    def verify(self, examples: Sequence[Example], notes: Sequence[str]) -> list[bool | None]:
        return [verify_note(n, ex.answer) for ex, n in zip(examples, notes, strict=True)]
