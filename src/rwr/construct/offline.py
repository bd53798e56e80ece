"""Offline teacher and verifier for the mini profile (no model, no network).

The teacher is *extractive*: it returns the context sentences that share the most (IDF-weighted) content
words with the query, in their original order, without the chat's leading discourse markers ("By the way, ")
when asked to drop them. It does not read the answer. It is a stand-in for the paper's
Llama-3.1-8B-Instruct teacher and is only as good as lexical overlap allows.
The verifier keeps a note iff it contains the normalized gold answer (every part of a composite answer).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from rwr.construct.split import answer_parts, sentences, units
from rwr.eval.judge import normalize_answer

_STOP = set("""a an the is are was were be been am i me my you your we our he she it its they them their
this that these those do did does to of in on at for with and or but what which who whom when where why how
can could would should will shall may might must please about from by as up so if then than too very just
also any some tell know""".split())


def _terms(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'s", ""))
    # Crude stemming (adopt/adopted, recommend/recommended) keeps this dependency-free.
    return [w[:5] for w in words if w not in _STOP]


def drop_opener(sentence: str, openers: Sequence[str]) -> str:
    """`sentence` without the longest of `openers` it starts with (case-insensitive), first letter capitalized:
    ("By the way, my dog's name is Rex.", ["By the way,"]) -> "My dog's name is Rex."."""
    for opener in sorted(openers, key=len, reverse=True):
        if opener and sentence.lower().startswith(opener.lower()) and not (
                opener[-1].isalnum() and sentence[len(opener):len(opener) + 1].isalnum()):  # "So" is not "Some"
            rest = sentence[len(opener):].lstrip()
            return rest[:1].upper() + rest[1:] if rest else sentence
    return sentence


def extract_note(context: str, query: str, max_sentences: int, questions: bool = True,
                 openers: Sequence[str] = ()) -> str | None:
    """The query-relevant sentences of `context` (statements only unless `questions`), each without a leading
    discourse marker from `openers`, or None when no sentence shares a content word."""
    sents = [s for _, _, u in units(context) for s in sentences(u) if questions or not s.rstrip().endswith("?")]
    if not sents:
        return None
    df = Counter(t for s in sents for t in set(_terms(s)))
    q = set(_terms(query))
    scored = []
    for i, s in enumerate(sents):
        overlap = q & set(_terms(s))
        score = sum(math.log(1 + len(sents) / df[t]) for t in overlap)
        if score > 0:
            scored.append((score, i))
    if not scored:
        return None
    top = sorted(i for _, i in sorted(scored, reverse=True)[:max_sentences])
    return " ".join(drop_opener(sents[i], openers) for i in top)


def verify_note(note: str, answer: str) -> bool:
    """Consistent iff every normalized part of the gold answer occurs in the normalized note."""
    text = normalize_answer(note)
    return all(p in text for p in answer_parts(answer))


def locate_answer_units(context: str, answer: str) -> list[tuple[int, int]]:
    """Spans of the units (chat turns / paragraphs) that contain any part of the answer."""
    parts = answer_parts(answer)
    return [(a, b) for a, b, text in units(context) if any(p in normalize_answer(text) for p in parts)]
