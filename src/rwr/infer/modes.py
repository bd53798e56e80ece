"""Answer modes shared by every benchmark: direct, rwr (note first, then the answer) and ssa.

- direct: the benchmark prompt; the model answers after the cue.
- rwr: the RwR prompt (question without its cue, then the note prompt), as in construction and training;
  the model writes a note, the answer cue and the answer. The text scored is the part after the cue.
- ssa (paper section 3.2): the context's units are packed into segments under a token budget; each segment
  gets the RwR prompt with only that segment as context and yields a note; notes judged empty are dropped;
  one answer comes from the joined notes (see SSAConfig for the two ways of asking it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rwr.config import PromptFormat, SamplingConfig, SSAConfig
from rwr.eval.judge import normalize_answer
from rwr.formats import parse_rwr
from rwr.infer.generate import Generation, generate, newline_token_ids
from rwr.infer.prompt import ContextPrompt
from rwr.infer.segment import pack_segments


class Engine(Protocol):
    """What the modes need from a model: generation of one prompt, and token counts."""

    def generate(self, prompt: str, max_new_tokens: int, *, stop_newline: bool = False,
                 stop_strings: Sequence[str] = (), seed: int | None = None) -> Generation: ...

    def count(self, text: str) -> int: ...


class ModelEngine:
    """A transformers causal LM + tokenizer as an Engine, with the evaluation's decoding settings."""

    def __init__(self, model, tokenizer, sampling: SamplingConfig | None = None) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.sampling = sampling or SamplingConfig()
        self._newlines = newline_token_ids(tokenizer)

    def generate(self, prompt: str, max_new_tokens: int, *, stop_newline: bool = False,
                 stop_strings: Sequence[str] = (), seed: int | None = None) -> Generation:
        s = self.sampling
        return generate(self.model, self.tokenizer, prompt, max_new_tokens,
                        stop_token_ids=self._newlines if stop_newline else (), stop_strings=stop_strings,
                        do_sample=s.do_sample, temperature=s.temperature, top_p=s.top_p, seed=seed)

    def count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass
class Answer:
    """One item's answer in one mode, with the cost of getting it."""

    output: str = ""
    """The last generation, raw."""
    answer: str = ""
    """The text scored: direct = the output; rwr/ssa = the part after the answer cue."""
    note: str = ""
    """rwr: the note; ssa: the joined kept notes."""
    prompt_tokens: int = 0
    """Prompt tokens processed, summed over the mode's model calls."""
    max_prompt_tokens: int = 0
    """The longest single prompt (what the model has to hold at once)."""
    new_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    calls: int = 0
    segments: int = 0
    notes_kept: int = 0
    oversize_units: int = 0
    segment_notes: list[str] = field(default_factory=list)

    def add(self, gen: Generation) -> Generation:
        self.prompt_tokens += gen.prompt_tokens
        self.max_prompt_tokens = max(self.max_prompt_tokens, gen.prompt_tokens)
        self.new_tokens += gen.new_tokens
        self.prefill_seconds += gen.prefill_seconds
        self.decode_seconds += gen.decode_seconds
        self.calls += 1
        return gen


def first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def is_empty_note(note: str, fmt: PromptFormat) -> bool:
    """A note is 'empty' when blank or when its first line is the empty note ('empty')."""
    return not note.strip() or normalize_answer(first_line(note)) == normalize_answer(fmt.empty_note)


def _after_cue(output: str, fmt: PromptFormat) -> tuple[str, str]:
    note, ans = parse_rwr(output, fmt)
    return note, ans if ans is not None else output.strip()


def answer_direct(engine: Engine, p: ContextPrompt, fmt: PromptFormat, budget: int, stop_newline: bool = False,
                  seed: int | None = None) -> Answer:
    a = Answer()
    gen = a.add(engine.generate(p.direct_text(fmt), budget, stop_newline=stop_newline, seed=seed))
    a.output = a.answer = gen.text
    return a


def answer_rwr(engine: Engine, p: ContextPrompt, fmt: PromptFormat, budget: int, note_budget: int,
               stop_newline: bool = False, seed: int | None = None) -> Answer:
    """The note and the answer in one generation; a task that stops at a newline keeps the answer's first line
    (the note spans lines, so generation cannot stop there)."""
    a = Answer()
    gen = a.add(engine.generate(p.rwr_text(fmt), budget + note_budget, seed=seed))
    a.output = gen.text
    a.note, a.answer = _after_cue(gen.text, fmt)
    if stop_newline:
        a.answer = first_line(a.answer)
    return a


def answer_ssa(engine: Engine, p: ContextPrompt, fmt: PromptFormat, cfg: SSAConfig, budget: int,
               stop_newline: bool = False, seed: int | None = None) -> Answer:
    a = Answer()
    segments, a.oversize_units = pack_segments([engine.count(u) for u in p.units], cfg.segment_tokens)
    a.segments = len(segments)
    kept = []
    for k, seg in enumerate(segments):
        units = [p.units[i] for i in seg]
        gen = a.add(engine.generate(p.rwr_text(fmt, units), cfg.note_max_new_tokens, stop_strings=(fmt.answer_cue,),
                                    seed=None if seed is None else seed * 1000 + k))
        note, _ = parse_rwr(gen.text, fmt)
        a.segment_notes.append(note)
        if not is_empty_note(note, fmt):
            kept.append(note)
    a.notes_kept = len(kept)
    a.note = cfg.note_joiner.join(kept) if kept else fmt.empty_note
    if cfg.final == "continue":
        prompt = p.rwr_text(fmt, []) + a.note + "\n" + fmt.answer_cue
    else:
        prompt = p.direct_text(fmt, [a.note])
    gen = a.add(engine.generate(prompt, budget, stop_newline=stop_newline, seed=seed))
    a.output = gen.text
    a.answer = first_line(gen.text) if stop_newline else gen.text.strip()
    return a


def answer(mode: str, engine: Engine, p: ContextPrompt, fmt: PromptFormat, *, budget: int, note_budget: int,
           ssa: SSAConfig, stop_newline: bool = False, seed: int | None = None) -> Answer:
    if mode == "direct":
        return answer_direct(engine, p, fmt, budget, stop_newline, seed)
    if mode == "rwr":
        return answer_rwr(engine, p, fmt, budget, note_budget, stop_newline, seed)
    if mode == "ssa":
        return answer_ssa(engine, p, fmt, ssa, budget, stop_newline, seed)
    raise ValueError(f"unknown answer mode {mode!r}; expected direct, rwr or ssa")
