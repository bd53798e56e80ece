"""LongMemEval's GPT-4o judge (xiaowu0162/LongMemEval src/evaluation/evaluate_qa.py), through rwr.llm.

The five prompt templates are quoted verbatim. The abstention template is used iff '_abs' is in the
question_id; otherwise question_type picks the template (single-session-user, single-session-assistant and
multi-session share one). The call is one user message at temperature 0 with max_tokens 10 to
gpt-4o-2024-08-06; the verdict is `'yes' in reply.lower()`. Verdicts are cached (the request hash covers the
model, prompt and sampling), so a rerun or another mode with the same hypothesis is never paid twice.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass

from rwr.config import ChatBackendConfig, ChatPrice
from rwr.llm import ChatRequest, ChatRunner, ResponseCache, make_runner

TEMPLATE_QA = (
    "I will give you a question, a correct answer, and a response from a model. Please answer yes if the response "
    "contains the correct answer. Otherwise, answer no. If the response is equivalent to the correct answer or "
    "contains all the intermediate steps to get the correct answer, you should also answer yes. If the response "
    "only contains a subset of the information required by the answer, answer no. \n\nQuestion: {}\n\nCorrect "
    "Answer: {}\n\nModel Response: {}\n\nIs the model response correct? Answer yes or no only."
)
TEMPLATE_TEMPORAL = (
    "I will give you a question, a correct answer, and a response from a model. Please answer yes if the response "
    "contains the correct answer. Otherwise, answer no. If the response is equivalent to the correct answer or "
    "contains all the intermediate steps to get the correct answer, you should also answer yes. If the response "
    "only contains a subset of the information required by the answer, answer no. In addition, do not penalize "
    "off-by-one errors for the number of days. If the question asks for the number of days/weeks/months, etc., and "
    "the model makes off-by-one errors (e.g., predicting 19 days when the answer is 18), the model's response is "
    "still correct. \n\nQuestion: {}\n\nCorrect Answer: {}\n\nModel Response: {}\n\nIs the model response correct? "
    "Answer yes or no only."
)
TEMPLATE_KNOWLEDGE_UPDATE = (
    "I will give you a question, a correct answer, and a response from a model. Please answer yes if the response "
    "contains the correct answer. Otherwise, answer no. If the response contains some previous information along "
    "with an updated answer, the response should be considered as correct as long as the updated answer is the "
    "required answer.\n\nQuestion: {}\n\nCorrect Answer: {}\n\nModel Response: {}\n\nIs the model response "
    "correct? Answer yes or no only."
)
TEMPLATE_PREFERENCE = (
    "I will give you a question, a rubric for desired personalized response, and a response from a model. Please "
    "answer yes if the response satisfies the desired response. Otherwise, answer no. The model does not need to "
    "reflect all the points in the rubric. The response is correct as long as it recalls and utilizes the user's "
    "personal information correctly.\n\nQuestion: {}\n\nRubric: {}\n\nModel Response: {}\n\nIs the model "
    "response correct? Answer yes or no only."
)
TEMPLATE_ABSTENTION = (
    "I will give you an unanswerable question, an explanation, and a response from a model. Please answer yes if "
    "the model correctly identifies the question as unanswerable. The model could say that the information is "
    "incomplete, or some other information is given but the asked information is not.\n\nQuestion: {}\n\n"
    "Explanation: {}\n\nModel Response: {}\n\nDoes the model correctly identify the question as unanswerable? "
    "Answer yes or no only."
)
_BY_TYPE = {
    "single-session-user": TEMPLATE_QA,
    "single-session-assistant": TEMPLATE_QA,
    "multi-session": TEMPLATE_QA,
    "temporal-reasoning": TEMPLATE_TEMPORAL,
    "knowledge-update": TEMPLATE_KNOWLEDGE_UPDATE,
    "single-session-preference": TEMPLATE_PREFERENCE,
}


def judge_template(question_type: str, question_id: str) -> str:
    """The official template: abstention iff '_abs' in the id, else by question_type."""
    if "_abs" in question_id:
        return TEMPLATE_ABSTENTION
    if question_type not in _BY_TYPE:
        raise ValueError(f"no judge template for question_type {question_type!r}")
    return _BY_TYPE[question_type]


def judge_prompt(question_type: str, question_id: str, question: str, answer: str, response: str) -> str:
    return judge_template(question_type, question_id).format(question, answer, response)


def judge_label(reply: str) -> bool:
    """evaluate_qa.py: label = 'yes' in eval_response.lower() (the reply stripped)."""
    return "yes" in reply.strip().lower()


@dataclass(frozen=True)
class JudgeCase:
    question_id: str
    question_type: str
    question: str
    answer: str
    hypothesis: str


class LLMJudge:
    """The official judge prompts sent through a ChatRunner (cache first, bounded concurrency, batch export)."""

    def __init__(self, runner: ChatRunner, llm: ChatBackendConfig) -> None:
        self.runner, self.llm = runner, llm

    @property
    def model(self) -> str:
        return self.llm.model

    def request(self, case: JudgeCase, round_: int = 0) -> ChatRequest:
        """Round 0 sends the configured seed (none by default, like evaluate_qa.py); later rounds send
        seed + round, so every round is its own request (and cache entry)."""
        prompt = judge_prompt(case.question_type, case.question_id, case.question, case.answer, case.hypothesis)
        req = ChatRequest(self.llm.model, (("user", prompt),), self.llm.temperature, self.llm.top_p,
                          self.llm.max_tokens, self.llm.seed)
        return req if round_ == 0 else dataclasses.replace(req, seed=(self.llm.seed or 0) + round_)

    def judge(self, cases: Sequence[JudgeCase], round_: int = 0) -> list[tuple[bool, str]]:
        """(label, reply) per case, in order."""
        replies = self.runner.run([self.request(c, round_) for c in cases])
        return [(judge_label(r.text), r.text) for r in replies]


def make_judge(llm: ChatBackendConfig, cache_path: str | os.PathLike, prices: dict[str, ChatPrice],
               root: str | os.PathLike = ".", progress: bool = True) -> LLMJudge:
    return LLMJudge(make_runner("judge", llm, ResponseCache(cache_path), prices, root, progress), llm)
