"""A benchmark prompt with its context kept as natural units, so that every answer mode can rebuild it.

The prompt text is `prefix + sep.join(units) + suffix + cue`: the units are the context's natural pieces
(LongMemEval sessions, HELMET passages, JSON-KV lines, needle-haystack sentences, ICL demos), `suffix`
carries the query and `cue` is the text after which the answer is generated ("\\nAnswer:"). Joining the
units gives back the benchmark's context string exactly, so the direct prompt is the benchmark's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rwr.config import PromptFormat
from rwr.formats import prompt_text, to_note_question


@dataclass(frozen=True)
class ContextPrompt:
    prefix: str
    units: tuple[str, ...]
    sep: str
    suffix: str
    cue: str
    system_prompt: str = ""

    @property
    def context(self) -> str:
        return self.sep.join(self.units)

    def body(self, units: Sequence[str] | None = None) -> str:
        """The question without its answer cue; `units` replaces the context (None = all of it)."""
        units = self.units if units is None else units
        return self.prefix + self.sep.join(units) + self.suffix

    def with_units(self, units: Sequence[str]) -> ContextPrompt:
        return replace(self, units=tuple(units))

    def direct_text(self, fmt: PromptFormat, units: Sequence[str] | None = None) -> str:
        """The benchmark prompt in the chat template; the model answers after the cue."""
        return prompt_text({"system_prompt": self.system_prompt, "question": self.body(units) + self.cue}, fmt)

    def rwr_text(self, fmt: PromptFormat, units: Sequence[str] | None = None) -> str:
        """The RwR form: the question without its cue, then the note prompt (as in construction/training)."""
        question = to_note_question(self.body(units), fmt)
        return prompt_text({"system_prompt": self.system_prompt, "question": question}, fmt)


def plain_prompt(question: str, system_prompt: str = "") -> ContextPrompt:
    """A prompt without separable context (SFT records): the whole question is the prefix."""
    return ContextPrompt(question, (), "", "", "", system_prompt)


def truncate_context(p: ContextPrompt, keep_chars: int) -> ContextPrompt:
    """Keep the first `keep_chars` characters of the context: whole units, then a cut last unit (HELMET and
    LongMemEval both cut the END of the context). Separators past the cut are dropped."""
    if keep_chars >= len(p.context):
        return p
    kept: list[str] = []
    pos = 0
    for unit in p.units:
        start = pos + (len(p.sep) if kept else 0)
        if start >= keep_chars:
            break
        piece = unit[: keep_chars - start]
        kept.append(piece)
        pos = start + len(piece)
        if len(piece) < len(unit):
            break
    return p.with_units(kept)


def fit_to_budget(p: ContextPrompt, fmt: PromptFormat, tokenizer, max_prompt_tokens: int) -> tuple[ContextPrompt, bool]:
    """Cut the end of the context so the direct prompt has at most `max_prompt_tokens` tokens; the cut is
    found with the context's offset mapping, as HELMET's `tokenize` does. Returns (prompt, truncated)."""
    if max_prompt_tokens <= 0 or not p.units:
        return p, False
    n = len(tokenizer(p.direct_text(fmt), add_special_tokens=False)["input_ids"])
    if n <= max_prompt_tokens:
        return p, False
    excess = n - max_prompt_tokens
    offsets = tokenizer(p.context, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    keep = offsets[-excess][0] if excess <= len(offsets) else 0
    out = truncate_context(p, keep)
    # Token boundaries can shift at the cut; trim a little more until the budget holds.
    while keep > 0 and len(tokenizer(out.direct_text(fmt), add_special_tokens=False)["input_ids"]) > max_prompt_tokens:
        keep = max(0, keep - 16)
        out = truncate_context(p, keep)
    return out, True
