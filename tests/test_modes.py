"""Answer modes (direct, RwR, SSA) over structured prompts, SSA segmentation, and context truncation."""

import pytest

from rwr.config import PromptFormat, SSAConfig
from rwr.formats import prompt_text
from rwr.infer.generate import Generation
from rwr.infer.modes import answer, answer_ssa, is_empty_note
from rwr.infer.prompt import ContextPrompt, fit_to_budget, plain_prompt, truncate_context
from rwr.infer.segment import pack_segments

FMT = PromptFormat()


class FakeEngine:
    """Scripted replies; counts words as tokens."""

    def __init__(self, reply):
        self.reply, self.calls = reply, []

    def generate(self, prompt, max_new_tokens, *, stop_newline=False, stop_strings=(), seed=None):
        self.calls.append({"prompt": prompt, "budget": max_new_tokens, "stop_newline": stop_newline,
                           "stop_strings": stop_strings})
        text = self.reply(prompt)
        return Generation(text, len(prompt.split()), len(text.split()), 0.5, 0.25)

    def count(self, text):
        return len(text.split())


def test_pack_segments_never_cuts_and_respects_budget():
    lengths = [3, 4, 2, 5, 1, 1, 6]
    segs, oversize = pack_segments(lengths, budget=7)
    assert [i for s in segs for i in s] == list(range(len(lengths)))  # every unit once, in order
    assert all(sum(lengths[i] for i in s) <= 7 for s in segs)
    assert segs == [[0, 1], [2, 3], [4, 5], [6]] and oversize == 0  # greedy: a unit that would overflow starts anew


def test_pack_segments_unit_longer_than_budget_is_its_own_segment():
    segs, oversize = pack_segments([2, 10, 3, 3], budget=5)
    assert segs == [[0], [1], [2], [3]] and oversize == 1
    assert pack_segments([], 5) == ([[]], 0)  # no context: the question is still asked once
    with pytest.raises(ValueError):
        pack_segments([1], 0)


LME_LIKE = ContextPrompt("History:\n", ("S1 dog Rex. ", "S2 weather talk. ", "S3 city Paris. "), "",
                         "\nQuestion: what is my dog's name?", "\nAnswer:", "SYS")


def test_direct_and_rwr_prompts_match_the_training_format():
    eng = FakeEngine(lambda p: "My dog is Rex.\nAnswer: Rex\nmore")
    a = answer("direct", eng, LME_LIKE, FMT, budget=8, note_budget=4, ssa=SSAConfig())
    expected = prompt_text({"system_prompt": "SYS", "question": LME_LIKE.body() + "\nAnswer:"}, FMT)
    assert eng.calls[0]["prompt"] == expected
    assert a.answer == a.output and eng.calls[0]["budget"] == 8
    a = answer("rwr", eng, LME_LIKE, FMT, budget=8, note_budget=4, ssa=SSAConfig(), stop_newline=True)
    assert eng.calls[1]["prompt"].endswith("what is my dog's name?\n" + FMT.note_prompt + "\n\n### Assistant:\n")
    assert eng.calls[1]["budget"] == 12 and not eng.calls[1]["stop_newline"]  # the note spans lines
    assert (a.note, a.answer) == ("My dog is Rex.", "Rex")  # first line of the answer (stop-at-newline task)


def test_ssa_one_note_per_segment_drops_empty_and_answers_from_the_notes():
    def reply(prompt):
        if "Answer:" in prompt.split("### Assistant:\n")[-1]:  # the final step continues after the notes
            return " Rex"
        if "dog Rex" in prompt:
            return "The dog is Rex.\nAnswer: Rex"
        return "empty\nAnswer: The information is not mentioned."

    eng = FakeEngine(reply)
    a = answer_ssa(eng, LME_LIKE, FMT, SSAConfig(segment_tokens=3, note_max_new_tokens=9), budget=5)
    assert a.segments == 3 and a.notes_kept == 1 and a.calls == 4
    assert all(c["stop_strings"] == (FMT.answer_cue,) and c["budget"] == 9 for c in eng.calls[:3])
    assert "S1 dog Rex." in eng.calls[0]["prompt"] and "S2" not in eng.calls[0]["prompt"]
    final = eng.calls[-1]["prompt"]
    assert final == LME_LIKE.rwr_text(FMT, []) + "The dog is Rex.\n" + FMT.answer_cue
    assert "S1" not in final and a.answer == "Rex" and a.note == "The dog is Rex."
    assert a.prompt_tokens == sum(len(c["prompt"].split()) for c in eng.calls)


def test_ssa_all_empty_notes_ask_with_the_empty_note_and_context_variant():
    eng = FakeEngine(lambda p: "empty")
    a = answer_ssa(eng, LME_LIKE, FMT, SSAConfig(segment_tokens=100), budget=5)
    assert a.segments == 1 and a.notes_kept == 0 and a.note == FMT.empty_note
    eng = FakeEngine(lambda p: "note A\nAnswer: x")
    a = answer_ssa(eng, LME_LIKE, FMT, SSAConfig(segment_tokens=3, final="context"), budget=5)
    assert eng.calls[-1]["prompt"] == LME_LIKE.direct_text(FMT, ["note A\nnote A\nnote A"])
    assert is_empty_note("Empty.\nAnswer: nothing", FMT) and not is_empty_note("empty shelves", FMT)


def test_plain_prompt_rwr_strips_the_trailing_answer_cue():
    p = plain_prompt("ctx\nQuestion: q?\nAnswer:", "SYS")
    assert p.direct_text(FMT) == FMT.chat_template.format(system="SYS", question="ctx\nQuestion: q?\nAnswer:")
    assert p.rwr_text(FMT).endswith("Question: q?\n" + FMT.note_prompt + "\n\n### Assistant:\n")


def test_truncate_context_keeps_the_front_and_cuts_only_the_end():
    p = ContextPrompt("P:", ("aaaa", "bbbb", "cccc"), "\n\n", "\nQ", "\nA:")
    assert truncate_context(p, 100) is p
    assert truncate_context(p, 7).units == ("aaaa", "b")  # 4 + 2 (sep) + 1
    assert truncate_context(p, 5).units == ("aaaa",)  # the cut falls inside a separator
    assert truncate_context(p, 0).units == ()


def test_fit_to_budget_uses_the_offset_mapping(tiny_tokenizer):
    units = tuple(f"Document (Title: T{i}): The sky is blue and the grass is green number {i}." for i in range(30))
    p = ContextPrompt("Use the documents.\n\n", units, "\n\n", "\n\nQuestion: what color is the sky", "\nAnswer:")
    full = len(tiny_tokenizer(p.direct_text(FMT), add_special_tokens=False)["input_ids"])
    fitted, cut = fit_to_budget(p, FMT, tiny_tokenizer, full - 50)
    n = len(tiny_tokenizer(fitted.direct_text(FMT), add_special_tokens=False)["input_ids"])
    assert cut and full - 60 <= n <= full - 50
    assert fitted.units[:-1] == units[: len(fitted.units) - 1] and fitted.suffix == p.suffix  # only the end goes
    assert fit_to_budget(p, FMT, tiny_tokenizer, full) == (p, False)
