"""LLM-backed teacher and verifier: prompts from params, replies parsed strictly.

Teacher notes use `note_template` (the paper's "<c> <q> Please extract a note relevant to the query:",
with c = the context before the query marker and q = the query after it). A note cut by max_tokens is
unusable. The locate prompt lists the paragraphs of c as "[i] text" lines; the reply must be paragraph
numbers separated by commas, or NONE. The verifier's reply must be exactly one of the two verdict words
(case and a final period aside); anything else is an unparseable verdict, which rejects the note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rwr.config import ChatBackendConfig, ConstructConfig
from rwr.construct.select import Example
from rwr.construct.teachers import Located, Note
from rwr.llm.request import ChatRequest, ChatResponse
from rwr.llm.runner import ChatRunner

_NUMBERS = re.compile(r"\s*(none|\[?\d+\]?(?:\s*,\s*\[?\d+\]?)*)\s*\.?\s*", re.IGNORECASE)


def render_paragraphs(ex: Example) -> str:
    return "\n".join(f"[{i}] {text}" for i, (_, _, text) in enumerate(ex.units, 1))


def parse_paragraphs(reply: str, n_units: int) -> Located:
    """'2, 5' -> [1, 4]; 'NONE' -> []; anything else, or a number outside 1..n_units -> None."""
    m = _NUMBERS.fullmatch(reply)
    if m is None:
        return None
    if m.group(1).lower() == "none":
        return []
    nums = [int(x) for x in re.findall(r"\d+", m.group(1))]
    if any(not 1 <= k <= n_units for k in nums):
        return None
    return sorted({k - 1 for k in nums})


def parse_verdict(reply: str, consistent: str, inconsistent: str) -> bool | None:
    """True/False for exactly one of the verdict words (case-insensitive, one final period allowed)."""
    word = reply.strip()
    word = word[:-1].rstrip() if word.endswith(".") else word
    if word.casefold() == consistent.casefold():
        return True
    if word.casefold() == inconsistent.casefold():
        return False
    return None


def note_from(resp: ChatResponse) -> Note:
    if resp.finish_reason == "length":
        return Note(None, "truncated")
    text = resp.text.strip()
    return Note(text, "") if text else Note(None, "no_note")


class LLMTeacher:
    """Teacher notes and answer location through a ChatRunner (one runner call, so one batch export)."""

    name = "llm"

    def __init__(self, runner: ChatRunner, llm: ChatBackendConfig, cfg: ConstructConfig) -> None:
        self.runner, self.llm, self.cfg = runner, llm, cfg

    def note_request(self, ex: Example) -> ChatRequest:
        return ChatRequest.from_prompt(
            self.cfg.note_template.format(context=ex.context, query=ex.query), self.llm
        )

    def locate_request(self, ex: Example) -> ChatRequest:
        prompt = self.cfg.locate_template.format(
            paragraphs=render_paragraphs(ex), query=ex.query, answer=ex.answer, context=ex.context
        )
        return ChatRequest.from_prompt(prompt, self.llm)

    def teach(
        self, note_for: Sequence[Example], locate_for: Sequence[Example]
    ) -> tuple[list[Note], list[Located]]:
        requests = [self.note_request(ex) for ex in note_for] + [self.locate_request(ex) for ex in locate_for]
        replies = self.runner.run(requests)
        notes = [note_from(r) for r in replies[: len(note_for)]]
        located = [
            parse_paragraphs(r.text, len(ex.units))
            for ex, r in zip(locate_for, replies[len(note_for) :], strict=True)
        ]
        return notes, located


class LLMVerifier:
    """The verifier prompt per (example, note); strict verdict parsing."""

    name = "llm"

    def __init__(self, runner: ChatRunner, llm: ChatBackendConfig, cfg: ConstructConfig) -> None:
        self.runner, self.llm, self.cfg = runner, llm, cfg

    def request(self, ex: Example, note: str) -> ChatRequest:
        prompt = self.cfg.verifier_template.format(
            note=note, answer=ex.answer, query=ex.query, context=ex.context
        )
        return ChatRequest.from_prompt(prompt, self.llm)

    def verify(self, examples: Sequence[Example], notes: Sequence[str]) -> list[bool | None]:
        replies = self.runner.run([self.request(ex, n) for ex, n in zip(examples, notes, strict=True)])
        return [
            parse_verdict(r.text, self.cfg.verdict_consistent, self.cfg.verdict_inconsistent) for r in replies
        ]
