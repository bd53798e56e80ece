"""LongMemEval's GPT-4o judge: template choice, the exact request on the wire, verdict cache, rounds, kappa."""

import pytest
from chat_server import ChatServer, prompt_of

from rwr.config import JUDGE_MODEL, ChatBackendConfig, ChatPrice
from rwr.eval import lme_judge as J
from rwr.eval.metrics import cohen_kappa, combine_rounds
from rwr.eval.score import aggregate, score_rows

TYPES = {
    "single-session-user": J.TEMPLATE_QA,
    "single-session-assistant": J.TEMPLATE_QA,
    "multi-session": J.TEMPLATE_QA,
    "temporal-reasoning": J.TEMPLATE_TEMPORAL,
    "knowledge-update": J.TEMPLATE_KNOWLEDGE_UPDATE,
    "single-session-preference": J.TEMPLATE_PREFERENCE,
}


def test_template_selection_six_types_and_abstention():
    for qtype, template in TYPES.items():
        assert J.judge_template(qtype, "q1") is template
        assert J.judge_template(qtype, "q1_abs") is J.TEMPLATE_ABSTENTION  # the id decides, not the type
    assert len({J.TEMPLATE_QA, J.TEMPLATE_TEMPORAL, J.TEMPLATE_KNOWLEDGE_UPDATE, J.TEMPLATE_PREFERENCE,
                J.TEMPLATE_ABSTENTION}) == 5
    with pytest.raises(ValueError):
        J.judge_template("open-domain", "q1")
    # Spot checks of the verbatim text (evaluate_qa.py): the trailing space before the blank line, the rubric.
    assert "answer no. \n\nQuestion: {}\n\nCorrect Answer: {}" in J.TEMPLATE_QA
    assert "(e.g., predicting 19 days when the answer is 18)" in J.TEMPLATE_TEMPORAL
    assert "\n\nRubric: {}\n\nModel Response: {}" in J.TEMPLATE_PREFERENCE
    assert J.TEMPLATE_ABSTENTION.endswith("Does the model correctly identify the question as unanswerable? "
                                          "Answer yes or no only.")


def test_label_is_yes_in_lowercased_reply():
    assert J.judge_label("Yes") and J.judge_label(" yes.") and J.judge_label("YES, it is")
    assert not J.judge_label("No") and not J.judge_label("")


def _rows():
    return [
        {"id": "a1", "task": "longmemeval", "question": "What is my dog's name?", "answers": ["Rex"],
         "question_type": "single-session-user", "abstention": False, "hypothesis": "Your dog is Rex."},
        {"id": "a2_abs", "task": "longmemeval", "question": "What is my cat's name?",
         "answers": ["You never mentioned a cat."], "question_type": "multi-session", "abstention": True,
         "hypothesis": "I don't know."},
        {"id": "a3", "task": "longmemeval", "question": "When did I move?", "answers": ["18 days ago"],
         "question_type": "temporal-reasoning", "abstention": False, "hypothesis": "19 days ago"},
    ]


def test_judge_over_http_sends_the_official_request_and_caches(tmp_path):
    replies = {"Your dog is Rex.": "Yes.", "I don't know.": "yes", "19 days ago": "No"}

    def responder(body):
        return next(v for k, v in replies.items() if f"Model Response: {k}\n" in prompt_of(body))

    with ChatServer(responder) as server:
        llm = ChatBackendConfig(model=JUDGE_MODEL, base_url=server.url, api_key_env="", max_tokens=10,
                                max_retries=0)
        prices = {JUDGE_MODEL: ChatPrice(input_per_mtok=2.5, output_per_mtok=10.0)}
        judge = J.make_judge(llm, tmp_path / "judge.jsonl", prices, tmp_path, progress=False)
        rows = _rows()
        score_rows(rows, ["don't know"], judge)
        assert [r["correct"] for r in rows] == [True, True, False]
        assert server.posts == 3
        sent = {prompt_of(b): b for b in server.answered}
        for r in rows:  # exactly the official prompt, one user message, the official sampling
            expected = J.judge_template(r["question_type"], r["id"]).format(r["question"], r["answers"][0],
                                                                             r["hypothesis"])
            body = sent[expected]
            assert body["messages"] == [{"role": "user", "content": expected}]
            assert body["model"] == "gpt-4o-2024-08-06" and body["temperature"] == 0 and body["max_tokens"] == 10
            assert "seed" not in body
        # A second judge over the same cache asks nothing; a second round is its own request (seed 1).
        judge2 = J.make_judge(llm, tmp_path / "judge.jsonl", prices, tmp_path, progress=False)
        score_rows(_rows(), ["don't know"], judge2)
        assert server.posts == 3 and judge2.runner.usage.cache_hits == 3
        score_rows(_rows(), ["don't know"], judge2, round_=1)
        assert server.posts == 6 and {b.get("seed") for b in server.answered[3:]} == {1}
    m = aggregate(rows)
    assert m["SU"] == 100.0 and m["MR"] == 100.0 and m["TR"] == 0.0 and m["abstention"] == 100.0
    assert "kappa_offline" in m and m["offline_avg"] == round(100 * 2 / 3, 2)  # offline: Rex, abstention marker


def test_cohen_kappa_and_rounds():
    assert cohen_kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert cohen_kappa([True, True, False, False], [True, False, True, False]) == 0.0
    assert cohen_kappa([True, True, True, False], [True, True, False, False]) == 0.5
    assert cohen_kappa([True, True], [True, True]) == 1.0  # degenerate chance agreement
    with pytest.raises(ValueError):
        cohen_kappa([True], [])
    m = combine_rounds([{"avg": 10.0, "n": 4, "SU": 0.0}, {"avg": 20.0, "n": 4, "SU": 0.0},
                        {"avg": 30.0, "n": 4, "SU": 0.0}])
    assert m["avg"] == 20.0 and m["avg_std"] == 10.0 and m["n"] == 4 and m["rounds"] == 3 and m["SU_std"] == 0.0
    assert combine_rounds([{"avg": 5.0}])["avg_std"] == 0.0
