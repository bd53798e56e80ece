"""HELMET: metrics on hand-made cases, its sampling and label remapping, loaders on files in its formats."""

import json
import random
from collections import Counter

from rwr.config import DataConfig, HelmetConfig, PromptFormat
from rwr.data.bench_build import write_helmet_synthetic
from rwr.data.helmet_files import helmet_manifest
from rwr.eval import helmet as H
from rwr.eval.helmet_metrics import (
    exact_match,
    helmet_scores,
    parse_output,
    ruler_recall,
    score_output,
    substring_exact_match,
)

FMT = PromptFormat()


def test_normalized_matches_articles_punctuation_and_multiple_golds():
    assert exact_match("The Eiffel Tower!", ["eiffel tower"])
    assert exact_match("an apple", ["Apple", "pear"]) and not exact_match("apple pie", ["apple"])
    assert substring_exact_match("It is in Paris, France.", ["London", "paris"])
    assert not substring_exact_match("", ["Paris"]) and substring_exact_match("anything", [""])
    assert not exact_match("", ["Paris"])


def test_parse_output_prefix_first_line_and_repeated_prefix():
    assert parse_output("Answer: Paris\nmore") == "Paris"
    assert parse_output("I think\nanswer: Rome") == "Rome"  # case-insensitive prefix, wherever it is
    assert parse_output("Berlin\nAnswer") == "Berlin"  # no prefix: the first line
    assert parse_output("label: label: 3", "label:") == "3"
    assert parse_output("", "label:") == ""


def test_task_scores_max_over_raw_and_parsed():
    assert score_output("kilt_nq", "The answer is Paris", ["Paris"])[0] == 1.0
    assert score_output("kilt_nq", "Answer: the Louvre", ["Louvre"]) == (1.0, "the Louvre")
    assert score_output("json_kv", "Corresponding value: abc-1", ["abc-1"])[0] == 1.0
    assert score_output("icl_banking77", "label: 12\nlabel: 3", ["12"]) == (1.0, "12")
    assert score_output("icl_banking77", "12 or 3", ["12"])[0] == 0.0  # ICL is exact match on the parsed label
    assert ruler_recall("values: 123, 456", ["123", "456", "789", "000"]) == 0.5
    assert ruler_recall("UUID ABC-def", ["abc-DEF"]) == 1.0  # case-insensitive, no other normalization
    assert score_output("ruler_niah_mv", "", ["1"])[0] == 0.0


def test_category_averages_as_collect_results():
    per_task = {"kilt_nq": [1, 0], "kilt_hotpotqa": [1, 1], "json_kv": [0, 0], "ruler_niah_mv": [0.5, 0.5],
                "icl_nlu": [1.0]}
    s = helmet_scores(per_task)
    assert s["kilt_nq"] == 50.0 and s["rag"] == 75.0 and s["recall"] == 25.0 and s["icl"] == 100.0
    assert s["avg"] == round((75 + 25 + 100) / 3, 2) and s["n_kilt_nq"] == 2


def test_shuffle_matches_datasets_and_remapping_is_deterministic_per_item():
    import datasets

    ds = datasets.Dataset.from_list([{"i": i} for i in range(57)]).shuffle(seed=42)
    assert H.shuffled_indices(57, 42) == ds["i"]
    m1 = H.label_mapping("what is the capital of peru ?", 6, 42)
    assert m1 == H.label_mapping("what is the capital of peru ?", 6, 42) and sorted(m1) == list(range(6))
    others = {tuple(H.label_mapping(f"text {k}", 6, 42)) for k in range(20)}
    assert len(others) > 5  # items get different permutations
    assert H.label_mapping("x", 50, 42) != H.label_mapping("x", 50, 43)  # the seed enters


def test_balanced_demos_rounds_of_one_per_label():
    train = [{"text": f"t{i}", "label": i % 4} for i in range(40)]
    demos = H.balance_labels(train, 10, 42)
    assert len(demos) == 10 and demos == H.balance_labels(train, 10, 42)
    first_round = Counter(d["label"] for d in demos[:4])
    assert first_round == Counter({0: 1, 1: 1, 2: 1, 3: 1})
    few = [{"text": "a", "label": 0}, {"text": "b", "label": 1}]
    assert len(H.balance_labels(few, 6, 42)) == 6  # a label that runs out is sampled again


def test_units_rebuild_the_context_exactly():
    ctx = "JSON data:\n" + json.dumps({"k1": "v1", "k2": "v2", "k3": "v3"}, indent=4)
    head, lines, tail = H.kv_units(ctx)
    assert head + "\n".join(lines) + tail == ctx and len(lines) == 3
    text = "The sky is blue. One of the special magic numbers for x is: 12. Done"
    assert "".join(H.sentences(text)) == text and len(H.sentences(text)) == 3


def test_loaders_on_files_in_helmets_formats(tmp_path):
    cfg = DataConfig(helmet_rag_questions=5, helmet_rag_depths=3, helmet_recall_rows=6, helmet_icl_test=9)
    write_helmet_synthetic(cfg, 7, tmp_path)
    hc = HelmetConfig(max_test_samples={"rag": 2, "recall": 4, "icl": 5},
                      icl_shots={k: 20 for k in HelmetConfig().icl_shots})
    items = H.load_helmet(tmp_path, hc)
    by_task = Counter(it.task for it in items)
    assert by_task["kilt_nq"] == 6 and by_task["kilt_hotpotqa"] == 6  # 2 questions x 3 depths
    assert by_task["json_kv"] == 4 and by_task["ruler_niah_mv"] == 4 and by_task["icl_nlu"] == 5
    nq = next(it for it in items if it.task == "kilt_nq")
    text = nq.prompt.direct_text(FMT)
    assert nq.prompt.body().startswith(H.RAG_INSTRUCTION + "Document (Title: ")  # 2 demos first
    assert text.count("\nAnswer: ") == 2 + 1 and nq.stop_newline and nq.max_new_tokens == 20
    assert nq.prompt.body().endswith(f"\n\nQuestion: {nq.question}")
    rows = [json.loads(x) for x in (tmp_path / "kilt_nq.jsonl").read_text().splitlines()]
    row = rows[int(nq.id)]
    assert nq.prompt.context == "\n\n".join(f"Document (Title: {c['title']}): {c['text']}" for c in row["ctxs"])
    kv = next(it for it in items if it.task == "json_kv")
    kv_row = [json.loads(x) for x in (tmp_path / "json_kv.jsonl").read_text().splitlines()][int(kv.id)]
    assert kv.prompt.body().startswith(kv_row["context"] + H.KV_INSTRUCTION + "Key: ")
    assert kv.prompt.cue == "\nCorresponding value:" and not kv.stop_newline and kv.max_new_tokens == 100
    mv = next(it for it in items if it.task == "ruler_niah_mv")
    assert len(mv.answers) == 4 and "What are all the special magic numbers for" in mv.prompt.body()
    mk = next(it for it in items if it.task == "ruler_niah_mk_2")
    assert "A special magic number is hidden" in mk.prompt.body() and mk.prompt.cue.endswith("provided text is")
    icl = [it for it in items if it.task == "icl_trec_coarse"]
    texts = [[u.split("\nlabel: ")[0] for u in it.prompt.units] for it in icl]
    assert all(t == texts[0] for t in texts)  # HELMET gives every item the same demos, with its own labels
    assert icl[0].prompt.body().startswith(H.ICL_INSTRUCTION) and icl[0].prompt.cue == "\nlabel:"
    assert len(icl[0].prompt.units) == 20
    popqa = [json.loads(x) for x in (tmp_path / "kilt_popqa_3.jsonl").read_text().splitlines()]
    kept_ids = {it.id for it in items if it.task == "kilt_popqa_3"}
    assert all(popqa[int(i)]["s_pop"] < 1000 for i in kept_ids)  # log10(s_pop) < 3


def test_rag_sampling_keeps_all_depth_copies_of_sampled_questions():
    rows = [{"id": f"q{q}", "question": f"q{q}?", "answers": ["a"], "ctxs": [{"title": "t", "text": "x"}]}
            for q in range(5) for _ in range(3)]
    items = H.rag_items("kilt_nq", rows, rows[:3], HelmetConfig(max_test_samples={"rag": 2}, shots=1))
    picked = Counter(it.question for it in items)
    assert len(picked) == 2 and set(picked.values()) == {3}
    expect = set(random.Random(42).sample(sorted({r["id"] for r in rows}), 2))
    assert {f"q{k[1:-1]}" for k in picked} == expect


def test_manifest_names_the_16k_files():
    m = helmet_manifest(16384)
    assert m["kilt_nq.jsonl"] == "kilt/nq-dev-multikilt_1000_k105_dep6.jsonl"
    assert m["kilt_hotpotqa.jsonl"] == "kilt/hotpotqa-dev-multikilt_1000_k105_dep3.jsonl"
    assert m["kilt_popqa_3.demos.jsonl"] == "kilt/popqa_test_1000_k3_dep6.jsonl"
    assert m["json_kv.jsonl"] == "json_kv/test_k220_dep6.jsonl"
    assert m["ruler_niah_mv.jsonl"] == "ruler/niah_multivalue/validation_16384.jsonl"


def test_real_path_copies_the_length_files_and_writes_icl_sets(tmp_path):
    import shutil

    from rwr.config import IclSource
    from rwr.data.bench_build import write_helmet_real

    synth = tmp_path / "synth"
    write_helmet_synthetic(DataConfig(helmet_rag_questions=2, helmet_recall_rows=2, helmet_icl_test=4), 3, synth)
    archive = tmp_path / "helmet" / "data"
    for ours, rel in helmet_manifest(8192).items():
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(synth / ours, archive / rel)
    icl = {}
    for task in ("icl_trec_coarse", "icl_nlu"):
        for split in ("train", "test"):
            rows = [json.loads(x) for x in (synth / f"{task}.{split}.jsonl").read_text().splitlines()]
            field = "coarse_label" if task == "icl_trec_coarse" else "label"
            (tmp_path / f"{task}-{split}.jsonl").write_text(
                "".join(json.dumps({"text": r["text"], field: r["label"]}) + "\n" for r in rows))
        icl[task] = IclSource(str(tmp_path / (f"{task}-{{split}}.jsonl" if task == "icl_trec_coarse"
                                                 else f"{task}-train.jsonl")),
                              label_field="coarse_label" if task == "icl_trec_coarse" else "label",
                              test_split="test" if task == "icl_trec_coarse" else "")
    raw = tmp_path / "raw"
    stats = write_helmet_real(DataConfig(helmet_length=8192, real_helmet_dir=str(archive), real_icl_sources=icl), raw)
    assert stats["helmet_files"] == 12 and stats["helmet_icl_trec_coarse_test"] == 4
    assert stats["helmet_icl_nlu_test"] >= 1  # split off the train split, as HELMET does for nlu
    assert json.loads((raw / "icl_trec_coarse.meta.json").read_text())["num_labels"] == 6  # HELMET's count
    cfg = HelmetConfig(tasks=["kilt_nq", "json_kv", "icl_trec_coarse", "icl_nlu"],
                       icl_shots={"icl_trec_coarse": 12, "icl_nlu": 12})
    assert {it.task for it in H.load_helmet(raw, cfg)} == set(cfg.tasks)
