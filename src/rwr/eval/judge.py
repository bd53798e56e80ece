"""The offline judge of the mini profile (a stand-in for LongMemEval's GPT-4o judge).

Non-abstention items: correct iff the normalized gold answer occurs in the normalized response.
Abstention items (`_abs` in the question id, as the official judge decides): correct iff the response
contains one of the configured abstention markers. The GPT-4o judge with the official prompts replaces this
in the paper profile.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse whitespace (SQuAD/DPR normalization)."""
    text = str(text).lower().translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def offline_judge(answer: str, response: str, abstention: bool, markers: Sequence[str]) -> bool:
    resp = normalize_answer(response)
    if abstention:
        return any(normalize_answer(m) in resp for m in markers if normalize_answer(m))
    gold = normalize_answer(answer)
    return bool(gold) and gold in resp
