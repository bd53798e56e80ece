"""OpenAI-compatible chat completions (the OpenAI API, `vllm serve`) through the official async client.

The key comes only from the environment variable whose NAME is configured (`api_key_env`); it is never
stored in params, logged or written. Retries with exponential backoff (connection errors, 408, 409, 429,
>= 500) and timeouts are the client's own; what still fails raises LLMError naming the endpoint URL.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai

from rwr.config import ChatBackendConfig
from rwr.llm.errors import LLMError
from rwr.llm.request import ChatRequest

# Sent when no key is configured: the client insists on one, and without an explicit value it would fall
# back to $OPENAI_API_KEY and leak the OpenAI key to a self-hosted server.
NO_KEY = "EMPTY"


def read_api_key(env_name: str) -> str:
    """The key from $env_name ('' = no key needed); an unset variable is an error naming the variable."""
    if not env_name:
        return NO_KEY
    value = os.environ.get(env_name, "")
    if not value:
        raise LLMError(
            f"environment variable {env_name} is not set (it is named by api_key_env in params); "
            f"export it, or set api_key_env: '' for a server without a key"
        )
    return value


class OpenAIBackend:
    """Sends ChatRequests to `{base_url}/chat/completions`; returns the raw chat.completion body."""

    def __init__(self, cfg: ChatBackendConfig) -> None:
        self.cfg = cfg
        self.endpoint = cfg.base_url.rstrip("/") + "/chat/completions"
        self.max_concurrency = cfg.max_concurrency
        self._api_key = read_api_key(cfg.api_key_env)  # fail before any request, not half-way

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend({self.endpoint!r}, model={self.cfg.model!r})"

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Callable[[ChatRequest], Awaitable[dict[str, Any]]]]:
        """An open client for one asyncio.run (the client's connection pool belongs to one event loop)."""
        cfg = self.cfg
        timeout = openai.Timeout(cfg.timeout_s, connect=cfg.connect_timeout_s)
        async with openai.AsyncOpenAI(
            base_url=cfg.base_url, api_key=self._api_key, max_retries=cfg.max_retries, timeout=timeout
        ) as client:

            async def call(req: ChatRequest) -> dict[str, Any]:
                try:
                    completion = await client.chat.completions.create(**req.body())
                except openai.APITimeoutError:
                    raise LLMError(
                        f"{self.endpoint}: no answer within {cfg.timeout_s:g}s "
                        f"(after {cfg.max_retries} retries; timeout_s in params)"
                    ) from None
                except openai.APIConnectionError as e:
                    raise LLMError(
                        f"{self.endpoint}: cannot connect (after {cfg.max_retries} retries: "
                        f"{e.__cause__ or e}); is the server running and base_url right?"
                    ) from None
                except openai.AuthenticationError as e:
                    raise LLMError(
                        f"{self.endpoint}: authentication failed (HTTP {e.status_code}); check the key "
                        f"in ${cfg.api_key_env or '<none configured>'}"
                    ) from None
                except openai.APIStatusError as e:
                    raise LLMError(
                        f"{self.endpoint}: HTTP {e.status_code} for model {req.model!r} "
                        f"(after {cfg.max_retries} retries where retryable): {_brief(e)}"
                    ) from None
                return completion.model_dump(mode="json")

            yield call


def _brief(e: openai.APIStatusError) -> str:
    """The server's error message, shortened (bodies can be long HTML pages)."""
    body = e.body
    msg = body.get("message") if isinstance(body, dict) else None
    return str(msg or e.message)[:300]
