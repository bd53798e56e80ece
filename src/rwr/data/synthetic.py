"""Synthetic generators for the mini profile, writing the real formats.

One world (rwr.data.world) feeds three outputs:
- pre-training documents: chat histories rendered as LongMemEval's reader renders them, no questions;
- OpenOrca-style SFT records (id, system_prompt, question, response): the question carries a chat history
  (the background context) and a query, in LongMemEval's reader format, so that the fine-tuning data is
  in-distribution for the evaluation format;
- LongMemEval entries for all six question types plus `_abs` items, in an oracle variant (evidence sessions
  only) and an S variant (evidence hidden among many distractor sessions).

All functions are pure given a `random.Random`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from rwr.config import SyntheticHistory
from rwr.data import world as W
from rwr.data.longmemeval import QUESTION_TYPES, READER_DIRECT, render_history

Turn = dict[str, Any]
Exchange = list[Turn]


def _exchange(user: str, assistant: str, evidence: str | None = None) -> Exchange:
    """A user/assistant pair; `evidence` marks which side carries the answer ('user' or 'assistant')."""
    u: Turn = {"role": "user", "content": user}
    a: Turn = {"role": "assistant", "content": assistant}
    if evidence == "user":
        u["has_answer"] = True
    elif evidence == "assistant":
        a["has_answer"] = True
    return [u, a]


def fact_exchange(rng: random.Random, attr: W.Attribute, value: str, echo_rate: float,
                  update: bool = False, evidence: bool = False) -> Exchange:
    text = (attr.update if update else attr.statement).format(v=value)
    opener = rng.choice(W.USER_OPENERS)
    if opener and not text.startswith("I "):
        text = text[0].lower() + text[1:]  # "Also, my dog's name..." but "Also, I live..."
    user = opener + text
    reply = attr.echo.format(v=value) if rng.random() < echo_rate else rng.choice(W.ACKS)
    return _exchange(user, reply, "user" if evidence else None)


def filler_exchange(rng: random.Random) -> Exchange:
    return _exchange(*rng.choice(W.FILLER))


@dataclass
class Plan:
    """A question with its evidence: exchanges that must appear, in this chronological order."""

    qtype: str
    question: str
    answer: str
    evidence: list[Exchange]
    used_keys: set[str] = field(default_factory=set)
    abstention: bool = False
    same_session: bool = False  # all evidence in one session (single-session types)


def plan_question(rng: random.Random, qtype: str, echo_rate: float, abstention: bool = False) -> Plan:
    """Draw a question of `qtype` and the evidence exchanges that answer it (none for the missing part of
    an abstention item)."""
    if qtype == "single-session-user" or (abstention and qtype == "knowledge-update"):
        attr = rng.choice(W.ATTRIBUTES)
        v = rng.choice(attr.values)
        if abstention:
            return Plan(qtype, attr.question, f"The user did not mention their {attr.noun}.", [], {attr.key}, True)
        return Plan(qtype, attr.question, v, [fact_exchange(rng, attr, v, echo_rate, evidence=True)],
                    {attr.key}, same_session=True)
    if qtype == "single-session-assistant":
        rec = rng.choice(W.RECOMMENDATIONS)
        v = rng.choice(rec.values)
        ex = _exchange(rec.request, rec.statement.format(v=v) + " It is a popular choice.", "assistant")
        return Plan(qtype, rec.question, v, [ex], {rec.key}, same_session=True)
    if qtype == "single-session-preference":
        pref = rng.choice(W.PREFERENCES)
        v = rng.choice(pref.values)
        ex = _exchange(pref.statement.format(v=v), rng.choice(W.ACKS), "user")
        return Plan(qtype, pref.question, v, [ex], {pref.key}, same_session=True)
    if qtype == "multi-session":
        a, b = rng.sample(W.ATTRIBUTES, 2)
        va, vb = rng.choice(a.values), rng.choice(b.values)
        question = f"What are my {a.noun} and my {b.noun}?"
        ev = [fact_exchange(rng, a, va, echo_rate, evidence=True)]
        if abstention:
            return Plan(qtype, question, f"The user mentioned their {a.noun} but not their {b.noun}.", ev,
                        {a.key, b.key}, True)
        ev.append(fact_exchange(rng, b, vb, echo_rate, evidence=True))
        rng.shuffle(ev)
        return Plan(qtype, question, f"{va} and {vb}", ev, {a.key, b.key})
    if qtype == "knowledge-update":
        attr = rng.choice(W.ATTRIBUTES)
        old, new = rng.sample(attr.values, 2)
        ev = [fact_exchange(rng, attr, old, echo_rate), fact_exchange(rng, attr, new, echo_rate, update=True,
                                                                      evidence=True)]
        return Plan(qtype, attr.question, new, ev, {attr.key})
    if qtype == "temporal-reasoning":
        e1, e2 = rng.sample(W.EVENTS, 2)  # e1 happens first
        first, second = (e1, e2) if rng.random() < 0.5 else (e2, e1)
        question = f"Which did I do first, {first.base} or {second.base}?"
        ev = [_exchange(e1.statement, rng.choice(W.EVENT_ACKS), "user")]
        keys = {e1.past, e2.past}
        if abstention:
            return Plan(qtype, question, f"The user did not mention that they {e2.past}.", ev, keys, True)
        ev.append(_exchange(e2.statement, rng.choice(W.EVENT_ACKS), "user"))
        return Plan(qtype, question, e1.base, ev, keys)
    raise ValueError(f"unknown question type {qtype!r}")


def distractor_exchange(rng: random.Random, used: set[str], echo_rate: float) -> Exchange:
    """A fact, recommendation, preference or event that does not touch the question's keys."""
    kind = rng.random()
    if kind < 0.55:
        attr = rng.choice([a for a in W.ATTRIBUTES if a.key not in used])
        return fact_exchange(rng, attr, rng.choice(attr.values), echo_rate)
    if kind < 0.7:
        rec = rng.choice([r for r in W.RECOMMENDATIONS if r.key not in used])
        return _exchange(rec.request, rec.statement.format(v=rng.choice(rec.values)) + " It is a popular choice.")
    if kind < 0.85:
        pref = rng.choice([p for p in W.PREFERENCES if p.key not in used])
        return _exchange(pref.statement.format(v=rng.choice(pref.values)), rng.choice(W.ACKS))
    event = rng.choice([e for e in W.EVENTS if e.past not in used])
    return _exchange(event.statement, rng.choice(W.EVENT_ACKS))


def _date(d: dt.datetime) -> str:
    return d.strftime("%Y/%m/%d (%a) %H:%M")


def build_history(rng: random.Random, plan: Plan, n_sessions: int, turns: list[int], distractor_rate: float,
                  echo_rate: float) -> tuple[list[list[Turn]], list[str], list[int], str]:
    """Sessions (chronological), their dates, the indices of evidence sessions, and the question date."""
    sessions: list[list[Exchange]] = []
    for _ in range(n_sessions):
        n = rng.randint(turns[0], turns[1])
        sess = []
        for _ in range(n):
            if rng.random() < distractor_rate:
                sess.append(distractor_exchange(rng, plan.used_keys, echo_rate))
            else:
                sess.append(filler_exchange(rng))
        sessions.append(sess)
    # Evidence goes into distinct sessions in chronological order (one session for single-session types).
    k = len(plan.evidence)
    if k:
        if plan.same_session or k > n_sessions:
            slots = [rng.randrange(n_sessions)] * k
        else:
            slots = sorted(rng.sample(range(n_sessions), k))
        last: dict[int, int] = {}  # evidence sharing a session keeps its chronological order
        for ex, s in zip(plan.evidence, slots):
            pos = rng.randint(last.get(s, 0), len(sessions[s]))
            sessions[s].insert(pos, ex)
            last[s] = pos + 1
        evidence_sessions = sorted(set(slots))
    else:
        evidence_sessions = []
    start = dt.datetime(2023, 1, 1) + dt.timedelta(days=rng.randrange(300), minutes=rng.randrange(1440))
    dates, cur = [], start
    for _ in sessions:
        cur = cur + dt.timedelta(days=rng.randint(1, 9), minutes=rng.randrange(600))
        dates.append(_date(cur))
    qdate = _date(cur + dt.timedelta(days=rng.randint(1, 9), minutes=rng.randrange(600)))
    flat = [[t for ex in sess for t in ex] for sess in sessions]
    return flat, dates, evidence_sessions, qdate


def _qid(rng: random.Random) -> str:
    return hashlib.sha1(str(rng.random()).encode()).hexdigest()[:8]


def longmemeval_item(rng: random.Random, qtype: str, abstention: bool, variant: str, n_sessions: int,
                     turns: list[int], distractor_rate: float, echo_rate: float) -> dict[str, Any]:
    """One LongMemEval entry. variant 'oracle': evidence sessions only; 's': among n_sessions sessions."""
    plan = plan_question(rng, qtype, echo_rate, abstention)
    n_ev = 1 if plan.same_session else max(1, len(plan.evidence))
    total = n_ev if variant == "oracle" else max(n_sessions, n_ev)
    sessions, dates, ev_idx, qdate = build_history(rng, plan, total, turns, distractor_rate, echo_rate)
    qid = _qid(rng) + ("_abs" if abstention else "")
    sids = [f"answer_{qid}_{i}" if i in ev_idx else f"synthetic_{qid}_{i}" for i in range(total)]
    if variant == "oracle" and abstention:
        sids = [f"answer_{qid}_{i}" for i in range(total)]  # oracle keeps the sessions the question is about
    item = {
        "question_id": qid,
        "question_type": qtype,
        "question": plan.question,
        "answer": plan.answer,
        "question_date": qdate,
        "haystack_dates": dates,
        "haystack_session_ids": sids,
        "haystack_sessions": sessions,
        "answer_session_ids": [s for s in sids if s.startswith("answer_")],
    }
    if variant == "oracle":
        # The official oracle file lists sessions unsorted; the reader sorts them by date.
        order = list(range(total))
        rng.shuffle(order)
        for key in ("haystack_dates", "haystack_session_ids", "haystack_sessions"):
            item[key] = [item[key][i] for i in order]
    return item


def longmemeval_set(rng: random.Random, variant: str, per_type: int, abstention_types: list[str],
                    abstention_per_type: int, n_sessions: int, turns: list[int], distractor_rate: float,
                    echo_rate: float) -> list[dict[str, Any]]:
    items = []
    for qtype in QUESTION_TYPES:
        n_abs = abstention_per_type if qtype in abstention_types else 0
        for i in range(per_type):
            items.append(longmemeval_item(rng, qtype, i < n_abs, variant, n_sessions, turns, distractor_rate,
                                          echo_rate))
    return items


def orca_record(rng: random.Random, index: int, prefix: str, hist: SyntheticHistory, system_prompt: str,
                ) -> dict[str, Any]:
    """An OpenOrca-style record whose question is a chat history plus a query (reader format)."""
    qtype = rng.choice(list(QUESTION_TYPES))
    plan = plan_question(rng, qtype, hist.echo_rate)
    n = rng.randint(hist.sessions[0], hist.sessions[1])
    sessions, dates, _, qdate = build_history(rng, plan, n, hist.turns, hist.distractor_rate, hist.echo_rate)
    item = {"haystack_dates": dates, "haystack_sessions": sessions}
    question = READER_DIRECT.format(render_history(item), qdate, plan.question)
    return {"id": f"{prefix}.{index}", "system_prompt": system_prompt, "question": question,
            "response": plan.answer}


def recall_plans(rng: random.Random, n: int, echo_rate: float) -> list[Plan]:
    """`n` questions of random types about disjoint keys (so that no two of them contradict each other)."""
    plans: list[Plan] = []
    used: set[str] = set()
    while len(plans) < n:
        plan = plan_question(rng, rng.choice(list(QUESTION_TYPES)), echo_rate)
        if not plan.used_keys & used:
            plans.append(plan)
            used |= plan.used_keys
    return plans


def quoted_answer(plan: Plan) -> str:
    """The plan's answer after a quote of the turns that hold it: "Also, my dog's name is Rex. So, Rex."."""
    quote = " ".join(t["content"] for ex in plan.evidence for t in ex if t.get("has_answer"))
    return f"{quote} So, {plan.answer}." if quote else plan.answer


def pretrain_document(rng: random.Random, hist: SyntheticHistory, recall_rate: float = 0.0,
                      recall_questions: tuple[int, int] | list[int] = (1, 1), quote_rate: float = 0.0) -> str:
    """A chat history with random facts and small talk, rendered like the reader's history block.

    With probability `recall_rate` the last session ends with recall exchanges (between recall_questions[0]
    and [1] of them): the user asks questions of random LongMemEval types about facts stated earlier in the
    chat and the assistant answers each briefly; with probability `quote_rate` an answer first quotes the turns
    that hold it (`quoted_answer`).
    """
    n = rng.randint(hist.sessions[0], hist.sessions[1])
    k = rng.randint(recall_questions[0], recall_questions[1]) if rng.random() < recall_rate else 0
    plans = recall_plans(rng, k, hist.echo_rate)
    merged = Plan("recall", "", "", [ex for p in plans for ex in p.evidence],
                  set().union(*(p.used_keys for p in plans)))
    sessions, dates, _, _ = build_history(rng, merged, n, hist.turns, max(hist.distractor_rate, 0.5),
                                          hist.echo_rate)
    for p in plans:
        answer = quoted_answer(p) if quote_rate and rng.random() < quote_rate else p.answer
        sessions[-1] = sessions[-1] + _exchange(p.question, answer)
    return render_history({"haystack_dates": dates, "haystack_sessions": sessions}).strip()
