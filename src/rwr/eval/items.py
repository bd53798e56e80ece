"""The uniform evaluation item every benchmark loader produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from rwr.infer.prompt import ContextPrompt


@dataclass
class EvalItem:
    id: str
    """Unique within its task: LongMemEval question_id, OpenOrca id, or the row index in a HELMET/short file."""
    task: str
    """'longmemeval', 'orca_dev', a HELMET task (kilt_nq, json_kv, ...) or a short task (samsum, ...)."""
    prompt: ContextPrompt
    answers: list[str] = field(default_factory=list)
    question: str = ""
    """The bare question (what the LongMemEval judge is shown)."""
    question_type: str = ""
    """LongMemEval question_type; HELMET category (rag, icl, recall)."""
    abstention: bool = False
    max_new_tokens: int = 0
    """Answer budget (0 = evaluate.max_new_tokens)."""
    stop_newline: bool = False
    """Stop the answer at a newline token (HELMET RAG and ICL; short-task NQ and RTE)."""
    truncated: bool = False
    """The context was cut to fit the length budget."""

    @property
    def answer(self) -> str:
        return self.answers[0] if self.answers else ""
