"""Synthetic HELMET-format files for the mini profile, built the way HELMET's own data are built.

- RAG (KILT-style rows {id, question, answers, ctxs: [{title, text, has_answer}]}): each question is
  repeated with its gold passage at `depths` evenly spaced positions among distractor passages (the
  "multikilt ..._dep<d>" files); hotpotqa needs two gold passages (bridge questions); popqa rows carry
  s_pop, some above the 10^3 threshold that `kilt_popqa_3` filters out. Demo files hold 3 passages a row.
- json_kv (lost-in-the-middle kv retrieval): a 'JSON data:' header and a JSON object of uuid pairs; the
  question is one key, the answer its value; 'demos' are other pairs.
- RULER niah: needles "One of the special magic {type} for {key} is: {value}." in a haystack; multikey_2
  has a haystack of other number needles, multikey_3 of uuid needles, multivalue 4 values for one key in
  filler text.
- ICL: {text, label} rows whose text names a label-specific topic, and the label count.
All functions are pure given a `random.Random`.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from rwr.data import world as W

Row = dict[str, Any]

_SYLLABLES = "ka lo mi ra ven tor sel dun bri pha gor lin mas tev quo zan rel fio dak sum".split()
_ADJ = "amber brisk calm dusty eager frosty gentle hollow ivory jolly keen lunar misty noble".split()
_NOUN = "otter harbor lantern meadow falcon pebble willow canyon ember glacier orchard comet".split()
_FILLER = ("The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.", "There and back again.",
           "Rivers run to the sea.", "Old towns keep their stories.", "Bread is baked at dawn.",
           "Winter nights are long.", "The market opens early.")


def made_up_name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------------------------------------------- RAG
# relation: (question, statement, value pool)
_RELATIONS = [
    ("where was {s} born", "{s} was born in {o}.", W._CITIES),
    ("what is the favorite color of {s}", "The favorite color of {s} is {o}.", W._COLORS),
    ("what instrument does {s} play", "{s} plays the {o} in a local band.", W._INSTRUMENTS),
    ("what is the job of {s}", "{s} works as a {o}.", W._JOBS),
    ("which language does {s} speak", "{s} speaks {o} at home.", W._LANGS),
]


def _passage(rng: random.Random, title: str, sentence: str, has_answer: bool) -> dict[str, Any]:
    filler = rng.sample(_FILLER, 2)
    return {"title": title, "text": " ".join([filler[0], sentence, filler[1]]), "has_answer": has_answer}


def _distractor(rng: random.Random) -> dict[str, Any]:
    s = made_up_name(rng)
    _, statement, pool = rng.choice(_RELATIONS)
    return _passage(rng, s, statement.format(s=s, o=rng.choice(pool)), False)


def _rag_question(rng: random.Random, task: str) -> tuple[str, list[str], list[dict[str, Any]]]:
    """(question, answers, gold passages)."""
    if task == "kilt_hotpotqa":  # bridge: who founded X -> where was that person born
        org, person = made_up_name(rng, 3) + " Works", made_up_name(rng)
        city = rng.choice(W._CITIES)
        golds = [_passage(rng, org, f"{org} was founded by {person}.", False),
                 _passage(rng, person, f"{person} was born in {city}.", True)]
        return f"Where was the founder of {org} born?", [city], golds
    s = made_up_name(rng)
    question, statement, pool = rng.choice(_RELATIONS)
    o = rng.choice(pool)
    return question.format(s=s), [o], [_passage(rng, s, statement.format(s=s, o=o), True)]


def rag_rows(rng: random.Random, task: str, n_questions: int, depths: int, k: int) -> list[Row]:
    rows = []
    for q in range(n_questions):
        question, answers, golds = _rag_question(rng, task)
        distractors = [_distractor(rng) for _ in range(max(0, k - len(golds)))]
        # Every third popqa question is popular (log10 s_pop >= 3), so kilt_popqa_3's filter has work to do.
        popular = q % 3 == 2
        extra = {"s_pop": rng.randint(1500, 9000) if popular else rng.randint(5, 900)} if "popqa" in task else {}
        for d in range(depths):
            pos = round(d * (k - len(golds)) / max(1, depths - 1))
            ctxs = distractors[:pos] + golds + distractors[pos:]
            rows.append({"id": f"{task}-{q}", "question": question, "answers": answers, "ctxs": ctxs, **extra})
    return rows


def rag_demo_rows(rng: random.Random, task: str, n: int) -> list[Row]:
    rows = []
    for q in range(n):
        question, answers, golds = _rag_question(rng, task)
        ctxs = golds + [_distractor(rng) for _ in range(3 - len(golds))]
        rng.shuffle(ctxs)
        extra = {"s_pop": rng.randint(5, 900)} if "popqa" in task else {}
        rows.append({"id": f"{task}-demo-{q}", "question": question, "answers": answers, "ctxs": ctxs, **extra})
    return rows


# ----------------------------------------------------------------------------------------------- json_kv
def json_kv_rows(rng: random.Random, n: int, pairs: int, demos: int = 2) -> list[Row]:
    import json

    rows = []
    for _ in range(n):
        kv = {uid(rng): uid(rng) for _ in range(pairs)}
        key = rng.choice(list(kv))
        rows.append({"context": "JSON data:\n" + json.dumps(kv, indent=4), "question": key, "answer": kv[key],
                     "num_kvs": pairs, "demos": [[uid(rng), uid(rng)] for _ in range(demos)]})
    return rows


# -------------------------------------------------------------------------------------------------- RULER
def _needle(kind: str, key: str, value: str) -> str:
    return f"One of the special magic {kind} for {key} is: {value}."


def _word_key(rng: random.Random) -> str:
    return f"{rng.choice(_ADJ)}-{rng.choice(_NOUN)}"


def ruler_rows(rng: random.Random, task: str, n: int, sentences: int) -> list[Row]:
    rows = []
    for _ in range(n):
        if task == "ruler_niah_mk_3":
            kind, key = "uuids", uid(rng)
            values = [uid(rng)]
            hay = [_needle(kind, uid(rng), uid(rng)) for _ in range(sentences)]
        elif task == "ruler_niah_mk_2":
            kind, key = "numbers", _word_key(rng)
            values = [str(rng.randint(10**6, 10**7 - 1))]
            others = {_word_key(rng) for _ in range(sentences)} - {key}
            hay = [_needle(kind, k, str(rng.randint(10**6, 10**7 - 1))) for k in sorted(others)]
        else:  # multivalue: 4 values of one key in filler text
            kind, key = "numbers", _word_key(rng)
            values = [str(rng.randint(10**6, 10**7 - 1)) for _ in range(4)]
            hay = [rng.choice(_FILLER) for _ in range(sentences)]
        for v in values:
            hay.insert(rng.randint(0, len(hay)), _needle(kind, key, v))
        singular = kind[:-1] if len(values) == 1 else kind  # RULER names one needle value in the singular
        rows.append({"context": " ".join(hay), "query": key, "answer": values, "type_needle_v": singular})
    return rows


# ---------------------------------------------------------------------------------------------------- ICL
def icl_rows(rng: random.Random, n_labels: int, per_label: int, n_test: int) -> tuple[list[Row], list[Row]]:
    """(train, test) of {text, label}: each label has a topic word that its texts mention."""
    topics = rng.sample([*W._FOODS, *W._SPORTS, *W._CARS, *W._HOBBIES, *W._FLOWERS, *W._PLANTS], n_labels)
    frames = ("I need help with my {t} right now.", "Can you tell me more about {t}?", "Something is wrong with {t}.",
              "How do I get started with {t}?", "Is {t} available this weekend?", "My friend asked about {t}.")

    def row(label: int) -> Row:
        return {"text": rng.choice(frames).format(t=topics[label]) + f" ({made_up_name(rng)})", "label": label}

    train = [row(lab) for lab in range(n_labels) for _ in range(per_label)]
    rng.shuffle(train)
    test = [row(rng.randrange(n_labels)) for _ in range(n_test)]
    return train, test
