from rwr.config import EvaluateConfig, PromptFormat
from rwr.eval.benchmarks import EvalItem
from rwr.eval.judge import normalize_answer, offline_judge
from rwr.eval.metrics import longmemeval_scores
from rwr.eval.run import build_prompt, hypothesis
from rwr.formats import parse_rwr, rwr_target, to_note_question

FMT = PromptFormat()
MARKERS = EvaluateConfig().abstention_markers


def test_normalization_and_offline_judge():
    assert normalize_answer("The  Golden-Dragon!") == "goldendragon"
    assert offline_judge("Rex", "Your dog is called Rex.", False, MARKERS)
    assert not offline_judge("Rex", "Max", False, MARKERS)
    assert not offline_judge("", "anything", False, MARKERS)
    assert offline_judge("You never said.", "The information is not mentioned in the chat history.", True, MARKERS)
    assert not offline_judge("You never said.", "Rex", True, MARKERS)


def test_rwr_format_round_trip():
    q = "History...\nQuestion: What is my dog's name?\nAnswer:"
    nq = to_note_question(q, FMT)
    assert nq == "History...\nQuestion: What is my dog's name?\n" + FMT.note_prompt
    out = rwr_target("My dog's name is Rex.", "Rex", FMT)
    assert parse_rwr(out, FMT) == ("My dog's name is Rex.", "Rex")
    assert parse_rwr("no cue", FMT) == ("no cue", None)


def test_prompts_per_mode_match_training_format():
    item = EvalItem("1", "ctx\nQuestion: q?\nAnswer:", "a", system_prompt="SYS")
    assert build_prompt(item, "direct", FMT) == FMT.chat_template.format(system="SYS", question=item.question)
    assert build_prompt(item, "rwr", FMT).endswith(FMT.note_prompt + "\n\n### Assistant:\n")
    assert hypothesis("note\nAnswer: Rex", "rwr", FMT) == ("note", "Rex")
    assert hypothesis("Rex\nextra", "direct", FMT) == ("", "Rex")


def test_longmemeval_scores_micro_macro_abstention():
    rows = (
        [{"question_type": "single-session-user", "abstention": False, "correct": c} for c in (1, 1, 0, 0)]
        + [{"question_type": "temporal-reasoning", "abstention": True, "correct": 1}]
        + [{"question_type": "temporal-reasoning", "abstention": False, "correct": 0}]
    )
    s = longmemeval_scores(rows)
    assert s["SU"] == 50.0 and s["TR"] == 50.0 and s["SA"] == 0.0 and s["n_SA"] == 0
    assert s["avg"] == round(100 * 3 / 6, 2)
    assert s["task_avg"] == 50.0  # mean over the types present
    assert s["abstention"] == 100.0 and s["n"] == 6
