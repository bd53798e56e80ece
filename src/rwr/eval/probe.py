"""Teacher-forced probe of where an RwR model's notes go wrong.

Given a record, a gold note and a model, the model reads prompt + gold target once (no sampling) and each
target token is scored as right when it is the model's argmax. Tokens get a role, so that a low RwR score can
be traced to one skill:
- `template`: note tokens that are not the answer value (the sentence frame, copied from the chat);
- `note_value`: note tokens inside an occurrence of the answer (recall from the chat, given a right frame);
- `answer`: tokens after the answer cue (copying the value from the note just written).
The direct form (prompt ending in the answer cue, target = the answer) has `answer` tokens only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from rwr.config import PromptFormat
from rwr.construct.split import answer_parts
from rwr.formats import prompt_text, rwr_target, to_note_question

ROLES = ("template", "note_value", "answer")


def target_roles(target: str, answer: str, offsets: Sequence[tuple[int, int]], answer_cue: str | None) -> list[str]:
    """The role of each target token (given by its character offsets in `target`). `answer_cue` None means
    the direct form: every token is an answer token."""
    if answer_cue is None:
        return ["answer"] * len(offsets)
    cue_at = target.rfind(answer_cue)
    if cue_at < 0:
        raise ValueError(f"target has no answer cue {answer_cue!r}: {target!r}")
    low = target.lower()
    spans = []
    for part in answer_parts(answer):
        at = low.find(part)
        while 0 <= at < cue_at:
            spans.append((at, at + len(part)))
            at = low.find(part, at + 1)
    roles = []
    for a, b in offsets:
        if a >= cue_at:
            roles.append("answer")
        elif any(a < e and b > s for s, e in spans):
            roles.append("note_value")
        else:
            roles.append("template")
    return roles


@dataclass
class RoleTally:
    """Token accuracy per role, and per record whether every token of a role was right."""

    tokens: dict[str, list[int]] = field(default_factory=lambda: {r: [0, 0] for r in ROLES})
    records: dict[str, list[int]] = field(default_factory=lambda: {r: [0, 0] for r in ROLES})

    def add(self, roles: Sequence[str], right: Sequence[bool]) -> None:
        for role in ROLES:
            hits = [ok for r, ok in zip(roles, right) if r == role]
            if hits:
                self.tokens[role][0] += sum(hits)
                self.tokens[role][1] += len(hits)
                self.records[role][0] += all(hits)
                self.records[role][1] += 1

    def summary(self) -> dict[str, Any]:
        pct = lambda h, n: round(100 * h / n, 1) if n else None  # noqa: E731
        return {role: {"token_acc": pct(*self.tokens[role]), "all_right": pct(*self.records[role]),
                       "records": self.records[role][1]} for role in ROLES}


@torch.no_grad()
def probe(model, tokenizer, record: dict[str, Any], note: str | None,
          fmt: PromptFormat) -> tuple[list[str], list[bool]]:
    """Roles and argmax-correctness of the target tokens of `record` in RwR form (with `note`) or, when
    `note` is None, in direct form."""
    if note is None:
        question, target, cue = record["question"], record["response"], None
    else:
        question = to_note_question(record["question"], fmt)
        target, cue = rwr_target(note, record["response"], fmt), fmt.answer_cue
    prompt = tokenizer(prompt_text({**record, "question": question}, fmt), add_special_tokens=False)["input_ids"]
    enc = tokenizer(target, add_special_tokens=False, return_offsets_mapping=True)
    ids = torch.tensor([prompt + enc["input_ids"]], device=model.device)
    pred = model(ids).logits[0, len(prompt) - 1:-1].argmax(-1).tolist()
    return target_roles(target, record["response"], enc["offset_mapping"], cue), \
        [p == g for p, g in zip(pred, enc["input_ids"])]
