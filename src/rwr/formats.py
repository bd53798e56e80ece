"""Text formats shared by construction, training and evaluation, so the three can never drift apart.

A record (OpenOrca style: system_prompt, question, response) becomes model text through the chat template.
Direct questions end with the answer cue ("Answer:"). The RwR form of a question replaces that trailing cue
with the note prompt ("Please extract a note relevant to the query:", the paper's teacher prompt); its target
is the note, then the answer cue and the answer. The evaluation's RwR mode builds its prompts with the same
function, so the model is asked exactly as it was trained.
"""

from __future__ import annotations

import re
from typing import Any

from rwr.config import PromptFormat


def prompt_text(record: dict[str, Any], fmt: PromptFormat) -> str:
    """The model-facing prompt of a record: system prompt + question in the chat template."""
    return fmt.chat_template.format(system=record.get("system_prompt") or fmt.system_prompt,
                                    question=record["question"])


def to_note_question(question: str, fmt: PromptFormat) -> str:
    """The RwR form of a question: the trailing answer cue (if any) replaced by the note prompt."""
    stripped = re.sub(r"\s*" + re.escape(fmt.answer_cue) + r"\s*$", "", question)
    return f"{stripped}\n{fmt.note_prompt}"


def rwr_target(note: str, answer: str, fmt: PromptFormat) -> str:
    """The RwR training target: the note, then the answer after the answer cue."""
    return f"{note}\n{fmt.answer_cue} {answer}"


def parse_rwr(output: str, fmt: PromptFormat) -> tuple[str, str | None]:
    """Split a generated RwR output into (note, answer); answer is None if the cue never appears."""
    idx = output.rfind(fmt.answer_cue)
    if idx < 0:
        return output.strip(), None
    return output[:idx].strip(), output[idx + len(fmt.answer_cue):].strip()
