"""Token usage and cost of a runner's requests (per role: teacher, verifier, judge)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from rwr.config import ChatPrice


@dataclass
class Usage:
    """Counts over the requests a runner was asked for. Tokens and `cost_usd` cover every response used
    (cached or not: the cost of the data set); `cost_usd_this_run` only what this run paid for."""

    requests: int = 0
    """Requests asked for (duplicates included)."""
    unique: int = 0
    cache_hits: int = 0
    """Unique requests answered from the cache."""
    sent: int = 0
    """Unique requests answered by the backend in this run."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_usd_this_run: float = 0.0

    def metrics(self, prefix: str) -> dict[str, float]:
        """Flat metrics named '<prefix>_<field>' (e.g. teacher_prompt_tokens)."""
        return {f"{prefix}_{k}": round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def response_cost(prompt_tokens: int, completion_tokens: int, price: ChatPrice | None, source: str) -> float:
    """USD for one response; batch responses get the price's batch discount."""
    if price is None:
        return 0.0
    usd = (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1e6
    return usd * (price.batch_discount if source == "batch" else 1.0)


def find_price(prices: Mapping[str, ChatPrice], model: str) -> ChatPrice | None:
    return prices.get(model)
