import json

import pytest

from rwr.config import DataConfig
from rwr.data import synthetic as S
from rwr.data.longmemeval import (
    QUESTION_TYPES,
    load_longmemeval,
    reader_prompt,
    session_blocks,
    validate_item,
)
from rwr.data.orca import load_orca
from rwr.io import DataError

# A hand-written entry in the official schema (README "Dataset Format"), including has_answer and an
# integer answer, which the loader must cast to str.
OFFICIAL = [
    {
        "question_id": "e47becba",
        "question_type": "single-session-user",
        "question": "What degree did I graduate with?",
        "answer": "Business Administration",
        "question_date": "2023/05/30 (Tue) 23:40",
        "haystack_session_ids": ["sharegpt_1", "answer_280352e9"],
        "haystack_dates": ["2023/05/20 (Sat) 02:21", "2023/05/01 (Mon) 10:00"],
        "haystack_sessions": [
            [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
            [{"role": "user", "content": "I graduated with a degree in Business Administration.",
              "has_answer": True}, {"role": "assistant", "content": "Congrats!"}],
        ],
        "answer_session_ids": ["answer_280352e9"],
    },
    {
        "question_id": "gpt4_2655b836_abs",
        "question_type": "temporal-reasoning",
        "question": "How many days before my trip did I buy the tent?",
        "answer": 7,
        "question_date": "2023/06/01 (Thu) 10:00",
        "haystack_session_ids": ["answer_1"],
        "haystack_dates": ["2023/05/01 (Mon) 10:00"],
        "haystack_sessions": [[{"role": "user", "content": "I bought a tent."}]],
        "answer_session_ids": ["answer_1"],
    },
]


def test_loader_reads_official_schema(tmp_path):
    p = tmp_path / "longmemeval_oracle.json"
    p.write_text(json.dumps(OFFICIAL))
    items = load_longmemeval(p)
    assert [x["question_id"] for x in items] == ["e47becba", "gpt4_2655b836_abs"]
    assert items[1]["answer"] == "7"
    prompt = reader_prompt(items[0])
    # Sessions are sorted by date and has_answer is stripped, as the official reader does.
    assert prompt.index("2023/05/01") < prompt.index("2023/05/20")
    assert "has_answer" not in prompt
    assert prompt.endswith("Current Date: 2023/05/30 (Tue) 23:40\nQuestion: What degree did I graduate with?\nAnswer:")
    assert session_blocks(items[0])[0].startswith("\n### Session 1:\nSession Date: 2023/05/01 (Mon) 10:00\n")


def test_loader_accepts_jsonl(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in OFFICIAL))
    assert len(load_longmemeval(p)) == 2


def test_malformed_entry_names_file_and_record(tmp_path):
    bad = [dict(OFFICIAL[0]), {k: v for k, v in OFFICIAL[1].items() if k != "question_date"}]
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad))
    msg = r"bad.json: record 1 \(question_id=gpt4_2655b836_abs\): missing key 'question_date'"
    with pytest.raises(DataError, match=msg):
        load_longmemeval(p)
    p.write_text("[{not json")
    with pytest.raises(DataError, match="bad.json"):
        load_longmemeval(p)


def test_orca_loader_names_line(tmp_path):
    p = tmp_path / "orca.jsonl"
    p.write_text('{"id": "1", "system_prompt": "", "question": "q", "response": "a"}\n{"id": "2"\n')
    with pytest.raises(DataError, match=r"orca.jsonl: line 2"):
        load_orca(p)
    p.write_text('{"id": "1", "system_prompt": "", "question": "q"}\n')
    with pytest.raises(DataError, match=r"orca.jsonl: record 1: missing key 'response'"):
        load_orca(p)


@pytest.mark.parametrize("variant", ["oracle", "s"])
def test_synthetic_longmemeval_is_schema_valid(rng, variant):
    cfg = DataConfig()
    items = S.longmemeval_set(rng, variant, 3, cfg.lme_abstention_types, 1, 6, [2, 3], 0.25, 0.5)
    assert {x["question_type"] for x in items} == set(QUESTION_TYPES)
    assert sum("_abs" in x["question_id"] for x in items) == len(cfg.lme_abstention_types)
    for i, x in enumerate(items):
        validate_item(x, f"record {i}")
        json.dumps(x)
        if "_abs" not in x["question_id"]:
            assert x["answer_session_ids"], x
            evid = [t for s in x["haystack_sessions"] for t in s if t.get("has_answer")]
            assert evid
        n = len(x["haystack_sessions"])
        assert n == (len(x["answer_session_ids"]) or n) if variant == "oracle" else n >= 6


def test_synthetic_answers_are_in_the_history(rng):
    """Every part of every answer is a phrase of the chat (temporal answers too: the user says "Today I got to
    buy a new car."), so a note quoting the chat passes the offline containment verifier."""
    for qtype in QUESTION_TYPES:
        for _ in range(5):
            x = S.longmemeval_item(rng, qtype, False, "s", 4, [1, 2], 0.25, 0.5)
            text = json.dumps(x["haystack_sessions"]).lower()
            for part in x["answer"].lower().split(" and "):
                assert part in text, (qtype, part)


def test_orca_record_schema(rng):
    r = S.orca_record(rng, 3, "syn", DataConfig().orca_history, "SYS")
    assert set(r) == {"id", "system_prompt", "question", "response"}
    assert "\nQuestion: " in r["question"] and r["question"].endswith("Answer:")


@pytest.mark.parametrize("n_sessions", [1, 3])
def test_evidence_keeps_its_order_even_in_one_session(rng, n_sessions):
    """Knowledge-update and temporal answers depend on the order of the evidence, also when it shares a session."""
    for qtype in ("knowledge-update", "temporal-reasoning", "multi-session"):
        for _ in range(40):
            plan = S.plan_question(rng, qtype, 0.5)
            sessions, *_ = S.build_history(rng, plan, n_sessions, [1, 3], 0.25, 0.5)
            turns = [t for sess in sessions for t in sess]
            order = [next(i for i, t in enumerate(turns) if t is ex[0]) for ex in plan.evidence]
            assert order == sorted(order), qtype


def test_pretrain_documents_with_recall_exchanges(rng):
    from rwr.config import SyntheticHistory

    docs = [S.pretrain_document(rng, SyntheticHistory(sessions=[1, 1], turns=[1, 2]), 1.0) for _ in range(30)]
    assert all(d.rstrip().endswith('"}]') and '"role": "assistant"' in d for d in docs)
    last_user = [d.rsplit('"role": "user", "content": ', 1)[1] for d in docs]
    assert sum(q.split('"')[1].startswith(("What", "Which")) for q in last_user) >= 25  # ends with a question


def test_quoted_recall_answers_quote_the_evidence_turns_then_answer():
    import json
    import random

    from rwr.config import SyntheticHistory
    from rwr.construct.split import answer_parts, sentences
    from rwr.eval.judge import normalize_answer

    hist = SyntheticHistory(sessions=[1, 1], turns=[1, 2])
    for i in range(20):
        doc = S.pretrain_document(random.Random(i), hist, 1.0, (1, 1), quote_rate=1.0)
        turns = json.loads("[" + doc.rsplit("[", 1)[1])
        answer = turns[-1]["content"]
        quote, short = answer.rsplit(" So, ", 1)
        # the answer is in what is quoted
        assert short.endswith(".") and all(p in normalize_answer(quote) for p in answer_parts(short[:-1]))
        assert all(s in doc[: doc.rindex(answer)] for s in sentences(quote))  # and the quote is from the chat
    # quote_rate 0 draws nothing extra: the documents are exactly those of before the option existed
    assert S.pretrain_document(random.Random(5), hist, 1.0, (1, 1)) == \
        S.pretrain_document(random.Random(5), hist, 1.0, (1, 1), quote_rate=0.0)
    assert " So, " not in S.pretrain_document(random.Random(5), hist, 1.0, (1, 1))


def test_packing_keeps_documents_whole(tiny_tokenizer):
    from rwr.train.data import packed_lm_dataset

    texts = ["alpha beta gamma", "delta", "epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho"]
    ds = packed_lm_dataset(texts, tiny_tokenizer, 12)
    eos = tiny_tokenizer.eos_token_id
    flat = [i for ex in ds.examples for i in ex["input_ids"]]
    docs = [tiny_tokenizer(t, add_special_tokens=False)["input_ids"] + [eos] for t in texts]
    assert flat == [i for d in docs for i in d]  # nothing lost, order kept
    assert all(len(ex["input_ids"]) <= 12 for ex in ds.examples)
    for d in docs:
        if len(d) <= 12:  # a document that fits a block is never cut
            assert any(ex["input_ids"][k:k + len(d)] == d for ex in ds.examples for k in range(12))
