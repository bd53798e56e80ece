"""Synthetic short-task rows for the mini profile, in the real data sets' schemas.

samsum {id, dialogue, summary}; rte (GLUE) {sentence1, sentence2, label (0 = entailment), idx};
gsm8k {question, answer ending '#### <number>'} (some numbers with thousands commas); nq_open {question,
answer: [str]}. All functions are pure given a `random.Random`.
"""

from __future__ import annotations

import random
from typing import Any

from rwr.data import world as W

Row = dict[str, Any]
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def samsum_row(rng: random.Random, i: int) -> Row:
    a, b = rng.sample(W._NAMES, 2)
    place, day, food = rng.choice(W._RESTAURANTS), rng.choice(_DAYS), rng.choice(W._FOODS)
    dialogue = "\r\n".join([f"{a}: Are you free on {day}?", f"{b}: Yes! What do you have in mind?",
                            f"{a}: Let's have {food} at {place}.", f"{b}: Great, see you there."])
    return {"id": f"synthetic-samsum-{i}", "dialogue": dialogue,
            "summary": f"{a} and {b} will have {food} at {place} on {day}."}


def rte_row(rng: random.Random, i: int) -> Row:
    name = rng.choice(W._NAMES)
    city, other = rng.sample(W._CITIES, 2)
    job = rng.choice(W._JOBS)
    entailed = rng.random() < 0.5
    return {"sentence1": f"{name} lives in {city} and works as a {job}.",
            "sentence2": f"{name} lives in {city if entailed else other}.", "label": 0 if entailed else 1, "idx": i}


def gsm8k_row(rng: random.Random) -> Row:
    name = rng.choice(W._NAMES)
    if rng.random() < 0.3:  # thousands: the answer needs comma handling
        a, b = rng.randint(1000, 5000), rng.randint(100, 900)
        q = f"{name} saved ${a:,} and then earned ${b:,} more. How many dollars does {name} have now?"
        return {"question": q, "answer": f"{name} has {a:,} + {b:,} = {a + b:,} dollars.\n#### {a + b:,}"}
    a, b, c = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 5)
    q = f"{name} has {a} boxes with {b} apples each and eats {c} apples. How many apples are left?"
    left = a * b - c
    return {"question": q, "answer": f"{name} has {a} * {b} = {a * b} apples.\n"
                                     f"After eating {c}, {a * b} - {c} = {left} apples are left.\n#### {left}"}


def nq_row(rng: random.Random) -> Row:
    country, capital = rng.choice([("france", "Paris"), ("germany", "Berlin"), ("spain", "Madrid"), ("japan", "Tokyo"),
                                   ("portugal", "Lisbon"), ("austria", "Vienna"), ("norway", "Oslo"),
                                   ("egypt", "Cairo"), ("peru", "Lima"), ("greece", "Athens")])
    return {"question": f"what is the capital city of {country}", "answer": [capital, f"{capital} city"]}


def short_rows(rng: random.Random, task: str, n: int) -> list[Row]:
    if task == "samsum":
        return [samsum_row(rng, i) for i in range(n)]
    if task == "rte":
        return [rte_row(rng, i) for i in range(n)]
    if task == "gsm8k":
        return [gsm8k_row(rng) for _ in range(n)]
    if task == "nq":
        return [nq_row(rng) for _ in range(n)]
    raise ValueError(f"unknown short task {task!r}")
