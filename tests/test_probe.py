from types import SimpleNamespace

import pytest
import torch

from rwr.config import PromptFormat
from rwr.eval.probe import RoleTally, probe, target_roles
from rwr.formats import prompt_text, rwr_target, to_note_question

FMT = PromptFormat()
RECORD = {"system_prompt": "", "response": "Max",
          "question": 'Chat: [{"role": "user", "content": "By the way, my dog\'s name is Max."}]\nQuestion: What is '
                      "my dog's name?\nAnswer:"}
NOTE = "By the way, my dog's name is Max."


def _roles_by_text(tok, target, answer):
    enc = tok(target, add_special_tokens=False, return_offsets_mapping=True)
    roles = target_roles(target, answer, enc["offset_mapping"], FMT.answer_cue)
    return [(target[a:b], r) for (a, b), r in zip(enc["offset_mapping"], roles)]


def test_roles_split_frame_value_and_answer(tiny_tokenizer):
    target = rwr_target(NOTE, "Max", FMT)
    pieces = _roles_by_text(tiny_tokenizer, target, "Max")
    assert "".join(t for t, r in pieces if r == "note_value").strip() == "Max"
    assert "".join(t for t, r in pieces if r == "answer").strip() == "Answer: Max"
    assert "".join(t for t, r in pieces if r == "template").startswith("By the way, my dog's name is")


def test_roles_of_a_composite_answer_mark_every_part(tiny_tokenizer):
    target = rwr_target("My cat's name is Luna. My dog's name is Rex.", "Rex and Luna", FMT)
    values = "".join(t for t, r in _roles_by_text(tiny_tokenizer, target, "Rex and Luna") if r == "note_value")
    assert values.replace(" ", "") == "LunaRex"


def test_direct_form_is_all_answer_and_a_missing_cue_is_an_error():
    assert target_roles("Max", "Max", [(0, 3)], None) == ["answer"]
    with pytest.raises(ValueError, match="answer cue"):
        target_roles("My dog's name is Max.", "Max", [(0, 2)], FMT.answer_cue)


class _Oracle(torch.nn.Module):
    """Predicts the true next token of one fixed sequence (or always token 0 when `wrong`)."""

    def __init__(self, ids, vocab, wrong=False):
        super().__init__()
        self.ids, self.vocab, self.wrong = ids, vocab, wrong
        self.device = torch.device("cpu")

    def forward(self, input_ids):
        assert input_ids[0].tolist() == self.ids
        logits = torch.zeros(1, len(self.ids), self.vocab)
        for t in range(len(self.ids) - 1):
            logits[0, t, 0 if self.wrong else self.ids[t + 1]] = 1.0
        return SimpleNamespace(logits=logits)


@pytest.mark.parametrize("note", [NOTE, None])
def test_probe_scores_the_next_token_not_the_current_one(tiny_tokenizer, note):
    tok = tiny_tokenizer
    question = to_note_question(RECORD["question"], FMT) if note else RECORD["question"]
    target = rwr_target(note, "Max", FMT) if note else "Max"
    ids = tok(prompt_text({**RECORD, "question": question}, FMT), add_special_tokens=False)["input_ids"] + \
        tok(target, add_special_tokens=False)["input_ids"]
    roles, right = probe(_Oracle(ids, len(tok)), tok, RECORD, note, FMT)
    assert right and all(right)
    assert set(roles) == ({"template", "note_value", "answer"} if note else {"answer"})
    _, right = probe(_Oracle(ids, len(tok), wrong=True), tok, RECORD, note, FMT)
    assert not any(right)


def test_tally_counts_tokens_and_whole_records():
    t = RoleTally()
    t.add(["template", "note_value", "answer"], [True, False, True])
    t.add(["template", "note_value", "answer"], [True, True, True])
    s = t.summary()
    assert s["note_value"] == {"token_acc": 50.0, "all_right": 50.0, "records": 2}
    assert s["template"]["all_right"] == 100.0
