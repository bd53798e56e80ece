"""A small chat-completion layer: requests with a stable hash, an append-only response cache, an
OpenAI-compatible async backend, an in-process transformers backend, usage/cost accounting and the OpenAI
Batch round trip. Used by the construct stage (teacher, verifier) and meant for the evaluation's judge.

Run as: python -m rwr.llm import-batch RESULTS --requests REQUESTS --cache CACHE
"""

from rwr.llm.cache import ResponseCache
from rwr.llm.errors import BatchPending, LLMError
from rwr.llm.request import ChatRequest, ChatResponse
from rwr.llm.runner import ChatRunner, make_runner
from rwr.llm.usage import Usage

__all__ = [
    "BatchPending",
    "ChatRequest",
    "ChatResponse",
    "ChatRunner",
    "LLMError",
    "ResponseCache",
    "Usage",
    "make_runner",
]
