import json

from rwr.config import ConstructConfig, PromptFormat
from rwr.construct.build import construct, mix, remove_spans
from rwr.construct.offline import drop_opener, extract_note, locate_answer_units, verify_note
from rwr.construct.split import answer_parts, split_question, units
from rwr.data.longmemeval import READER_DIRECT

FMT = PromptFormat()


def _history(turns):
    head = "\n### Session 1:\nSession Date: 2023/01/01 (Sun) 10:00\nSession Content:\n\n"
    return head + json.dumps(turns) + "\n"


TURNS = [
    {"role": "user", "content": "How do I clean a laptop keyboard?"},
    {"role": "assistant", "content": "Use compressed air."},
    {"role": "user", "content": "By the way, my dog's name is Rex."},
    {"role": "assistant", "content": "Rex is a lovely name for a dog!"},
    {"role": "user", "content": "My favorite color is teal."},
    {"role": "assistant", "content": "Good to know!"},
]


def _record(question="What is my dog's name?", answer="Rex", turns=TURNS):
    q = READER_DIRECT.format(_history(turns), "2023/02/01 (Wed) 10:00", question)
    return {"id": "r1", "system_prompt": "SYS", "question": q, "response": answer}


def test_split_on_last_marker():
    s = split_question("ctx Question: old\nmore\nQuestion: What now?\nAnswer:", ["\nQuestion:"], "Answer:")
    assert s.query == "What now?" and s.context.endswith("more")
    assert split_question("no marker here", ["\nQuestion:"], "Answer:") is None


def test_units_are_chat_turns():
    u = units(_history(TURNS))
    assert [t for _, _, t in u] == [t["content"] for t in TURNS]


def test_teacher_extracts_query_relevant_sentences():
    note = extract_note(_history(TURNS), "What is my dog's name?", 2)
    assert "my dog's name is Rex." in note and "teal" not in note
    assert verify_note(note, "Rex") and not verify_note(note, "Max")
    assert extract_note(_history(TURNS), "zzz qqq?", 2) is None


def test_teacher_can_leave_questions_out_of_notes():
    turns = [{"role": "user", "content": "Can you recommend a movie for tonight?"},
             {"role": "assistant", "content": "I recommend the movie Heat. It is a popular choice."}]
    query = "Which movie did you recommend to me?"
    both = "Can you recommend a movie for tonight? I recommend the movie Heat."
    assert extract_note(_history(turns), query, 2) == both
    assert extract_note(_history(turns), query, 2, questions=False) == "I recommend the movie Heat."


def test_teacher_drops_leading_discourse_markers_only_when_asked():
    query = "What is my dog's name?"
    assert extract_note(_history(TURNS), query, 2).startswith("By the way, my dog's name is Rex. ")
    openers = ["Oh,", "By the way,", "Oh, and", "So"]
    assert extract_note(_history(TURNS), query, 2, openers=openers).startswith("My dog's name is Rex. ")
    assert drop_opener("Oh, and I play golf.", openers) == "I play golf."  # the longest marker wins
    assert drop_opener("Oh, hello there.", openers) == "Hello there."
    assert drop_opener("Ohio is where I live.", openers) == "Ohio is where I live."  # a marker, not a prefix
    assert drop_opener("Oh,", openers) == "Oh,"  # nothing left: kept as it is
    assert drop_opener("Some days I run.", openers) == "Some days I run."  # "So" is a word, not a prefix
    assert drop_opener("So I run.", openers) == "I run."


def test_composite_answers():
    assert answer_parts("Rex and Luna") == ["rex", "luna"]
    assert verify_note("Rex is here. Luna too.", "Rex and Luna")
    assert not verify_note("Rex only", "Rex and Luna")


def test_empty_summary_removes_every_answer_turn_and_keeps_valid_json():
    ctx = _history(TURNS)
    spans = locate_answer_units(ctx, "Rex")
    assert len(spans) == 2  # the user's statement and the assistant's echo
    reduced = remove_spans(ctx, spans)
    assert "rex" not in reduced.lower()
    turns = json.loads(reduced.split("Session Content:\n\n")[1])
    assert [t["content"] for t in turns] == [TURNS[i]["content"] for i in (0, 1, 4, 5)]


def test_construct_counts_and_formats():
    recs = [_record(), _record("What is my cat's name?", "Tom"),
            {**_record(), "question": "short, no marker"}]
    summaries, empties, counts = construct(recs, ConstructConfig(min_context_chars=50), FMT, seed=0)
    assert counts["sources"] == 3 and counts["dropped_no_query_marker"] == 1
    assert counts["summary_dropped_verifier_rejected"] + counts["summary_dropped_teacher_no_note"] == 1
    assert counts["empty_dropped_answer_not_located"] == 1
    assert len(summaries) == 1 and len(empties) == 1
    s = summaries[0]
    assert s["question"].endswith("Question: What is my dog's name?\n" + FMT.note_prompt)
    assert s["response"].endswith("\nAnswer: Rex")
    e = empties[0]
    assert "Rex" not in e["question"] and e["response"] == f"{FMT.empty_note}\nAnswer: {FMT.empty_answer}"


def test_mix_sizes_and_determinism():
    orca = [{"id": str(i)} for i in range(10)]
    summ, emp = [{"id": "s"}], [{"id": "e"}]
    sft, rwr = mix(orca, summ, emp, 8, seed=3)
    assert len(sft) == 8 and len(rwr) == 10
    assert {r["id"] for r in rwr} == {str(i) for i in range(8)} | {"s", "e"}
    assert mix(orca, summ, emp, 8, seed=3) == (sft, rwr)
