"""Chat requests with a stable content hash, and the parsed view of a chat-completion response."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from rwr.config import ChatBackendConfig
from rwr.llm.errors import LLMError


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion: model, messages and sampling. Its `key` identifies the response in the cache."""

    model: str
    messages: tuple[tuple[str, str], ...]
    """(role, content) pairs."""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int | None = None

    @classmethod
    def from_prompt(cls, prompt: str, cfg: ChatBackendConfig) -> ChatRequest:
        """A one-turn request (with the configured system prompt, if any) using cfg's model and sampling."""
        messages = ((("system", cfg.system_prompt),) if cfg.system_prompt else ()) + (("user", prompt),)
        return cls(cfg.model, messages, cfg.temperature, cfg.top_p, cfg.max_tokens, cfg.seed)

    def body(self) -> dict[str, Any]:
        """The /v1/chat/completions request body (also the `body` of a Batch API line)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": r, "content": c} for r, c in self.messages],
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    @property
    def key(self) -> str:
        """sha256 of the canonical JSON body: equal requests share a key; any change gives a new one."""
        return body_key(self.body())


def body_key(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChatResponse:
    """The parts of a chat.completion body that callers use."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model: str

    @classmethod
    def from_body(cls, body: dict[str, Any], where: str = "response") -> ChatResponse:
        try:
            choice = body["choices"][0]
            usage = body.get("usage") or {}
            return cls(
                text=choice["message"].get("content") or "",
                finish_reason=choice.get("finish_reason") or "",
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                model=str(body.get("model", "")),
            )
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
            raise LLMError(f"{where}: not a chat.completion body ({type(e).__name__}: {e})") from None
