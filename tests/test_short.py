"""Short-context tasks: metrics on hand-made cases, loaders on local files of the real schemas."""

import json

import pytest

from rwr.config import DataConfig, HubSource, PromptFormat, ShortConfig
from rwr.data.bench_build import write_short_real
from rwr.eval import short_metrics as M
from rwr.eval.short import load_short
from rwr.io import DataError

FMT = PromptFormat()


def test_rouge_mean_of_three_f1():
    assert M.rouge_mean_f1("Anna and Ben meet on Monday.", "Anna and Ben meet on Monday.") == pytest.approx(1.0)
    assert M.rouge_mean_f1("", "Anna and Ben meet.") == 0.0
    partial = M.rouge_mean_f1("Anna meets Ben", "Anna and Ben meet on Monday")
    assert 0 < partial < 1
    assert M.score_output("samsum", "x y", ["x y", "q"]) == pytest.approx(1.0)  # best reference


def test_rte_two_way():
    assert M.rte_label("Yes, it does.") == "yes" and M.rte_label("no") == "no"
    assert M.rte_label("Not entailment") == "no" and M.rte_label("entailment") == "yes"
    assert M.rte_label("") is None and M.rte_label("maybe") is None
    assert M.score_output("rte", "No.", ["no"]) == 1.0 and M.score_output("rte", "maybe", ["no"]) == 0.0


def test_gsm8k_final_number_with_commas():
    assert M.gsm8k_gold("3 + 5 = 8\n#### 1,234") == 1234
    assert M.last_number("So the total is $1,234.") == 1234.0
    assert M.gsm8k_correct("First 12, then 1,234 apples.", "1234")
    assert M.gsm8k_correct("The answer is 18.50", "18.5")
    assert M.gsm8k_correct("It is -3", "-3")
    assert not M.gsm8k_correct("no number here", "5") and not M.gsm8k_correct("5 then 6", "5")


def test_nq_exact_match_after_normalization():
    assert M.score_output("nq", "The Paris!", ["paris", "City of Light"]) == 1.0
    assert M.score_output("nq", "Paris, France", ["Paris"]) == 0.0  # exact, not substring
    assert M.score_output("nq", "", ["Paris"]) == 0.0


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_loaders_via_datasets_on_local_files_of_the_real_schemas(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _write(src / "samsum.jsonl", [{"id": "13818513", "dialogue": "Amanda: I baked cookies.\r\nJerry: Sure!",
                                   "summary": "Amanda baked cookies."}])
    _write(src / "rte.jsonl", [{"sentence1": "A dog runs.", "sentence2": "An animal runs.", "label": 0, "idx": 0},
                               {"sentence1": "A", "sentence2": "B", "label": -1, "idx": 1}])
    _write(src / "gsm8k.jsonl", [{"question": "2+2?", "answer": "2+2=4\n#### 4"}])
    _write(src / "nq.jsonl", [{"question": "who wrote hamlet", "answer": ["Shakespeare", "William Shakespeare"]}])
    cfg = DataConfig(real_short_sources={t: HubSource(str(src / f"{t}.jsonl"), split="validation")
                                         for t in ("samsum", "rte", "gsm8k", "nq")})
    raw = tmp_path / "raw"
    stats = write_short_real(cfg, raw)
    assert stats["short_rte"] == 2
    items = load_short(raw, ShortConfig())
    by = {it.task: it for it in items}
    assert len(items) == 4  # the unlabeled RTE row is skipped
    assert by["rte"].answers == ["yes"] and by["gsm8k"].answers == ["4"]
    assert by["nq"].answers == ["Shakespeare", "William Shakespeare"] and by["nq"].stop_newline
    assert by["samsum"].prompt.cue == "\nSummary:" and by["samsum"].max_new_tokens == 96
    assert by["gsm8k"].prompt.direct_text(FMT).endswith("Question: 2+2?\nAnswer:\n\n### Assistant:\n")
    _write(src / "nq.jsonl", [{"query": "x"}])
    with pytest.raises(DataError, match="lacks column"):
        write_short_real(DataConfig(real_short_sources={"nq": HubSource(str(src / "nq.jsonl"))}), raw)
