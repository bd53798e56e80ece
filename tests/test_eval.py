import random

import torch

from rwr.config import BaseConfig, EvaluateConfig, ModelSpec, PromptFormat, SamplingConfig, SSAConfig
from rwr.data.longmemeval import reader_prompt
from rwr.data.synthetic import longmemeval_set
from rwr.eval.benchmarks import longmemeval_prompt
from rwr.eval.evaluate import limit_per_task, modes_for, run_mode
from rwr.eval.items import EvalItem
from rwr.eval.judge import normalize_answer, offline_judge
from rwr.eval.metrics import longmemeval_scores
from rwr.eval.run import hypothesis_of
from rwr.formats import parse_rwr, rwr_target, to_note_question
from rwr.infer.generate import generate, newline_token_ids
from rwr.infer.modes import Answer, ModelEngine
from rwr.infer.prompt import plain_prompt
from rwr.models.build import build_model, prepare_backend

FMT = PromptFormat()
MARKERS = EvaluateConfig().abstention_markers


class NoRun:
    """A tracking run that records nothing (every StageRun method is a no-op)."""

    def __getattr__(self, name):
        return lambda *a, **k: None


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


def test_longmemeval_prompt_is_the_official_reader_prompt():
    x = longmemeval_set(random.Random(0), "s", 1, [], 0, 4, [1, 2], 0.3, 0.5)[0]
    p = longmemeval_prompt(x)
    assert p.body() + p.cue == reader_prompt(x) and len(p.units) == 4
    assert p.rwr_text(FMT).endswith(f"Question: {x['question']}\n{FMT.note_prompt}\n\n### Assistant:\n")


def test_hypothesis_per_mode():
    cfg = EvaluateConfig()
    item = EvalItem("1", "longmemeval", plain_prompt("q\nAnswer:"), ["a"])
    assert hypothesis_of(item, Answer(answer="Rex\nextra"), "direct", cfg) == "Rex"
    cfg.hypothesis = "full"
    assert hypothesis_of(item, Answer(answer=" Rex\nextra "), "direct", cfg) == "Rex\nextra"
    helmet = EvalItem("1", "kilt_nq", plain_prompt("q"), ["a"])
    assert hypothesis_of(helmet, Answer(answer="x\nAnswer: a"), "direct", cfg) == "x\nAnswer: a"  # raw for HELMET


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


def test_modes_per_benchmark_and_limit():
    cfg = EvaluateConfig(modes={"m": ["rwr", "ssa"]}, ssa_benchmarks=["longmemeval_s"])
    assert modes_for("m", "longmemeval_s", cfg) == ["rwr", "ssa"]
    assert modes_for("m", "helmet", cfg) == ["rwr"] and modes_for("other", "helmet", cfg) == ["direct"]
    items = [EvalItem(str(i), t, plain_prompt("q")) for t in ("a", "b") for i in range(3)]
    assert [(it.task, it.id) for it in limit_per_task(items, 2)] == [("a", "0"), ("a", "1"), ("b", "0"), ("b", "1")]


def _tiny(tok):
    prepare_backend(torch.device("cpu"))  # the project's CPU scan, as load_model installs it in the stage
    return build_model(ModelSpec(arch="mamba", hidden_size=16, num_layers=2, state_size=4), tok, seed=0).eval()


def test_generate_stops_at_extra_token_ids_and_strings(tiny_tokenizer):
    model = _tiny(tiny_tokenizer)
    free = generate(model, tiny_tokenizer, "Hello there", 6)
    assert free.new_tokens <= 6 and free.prompt_tokens > 0
    everything = list(range(len(tiny_tokenizer)))
    assert generate(model, tiny_tokenizer, "Hello there", 6, stop_token_ids=everything).new_tokens == 1
    assert newline_token_ids(tiny_tokenizer) == [tiny_tokenizer.convert_tokens_to_ids("Ċ")]  # byte-level newline
    if free.text:
        stopped = generate(model, tiny_tokenizer, "Hello there", 6, stop_strings=(free.text[:1],))
        assert stopped.new_tokens <= free.new_tokens and free.text[:1] in stopped.text
    a = generate(model, tiny_tokenizer, "Hello", 5, do_sample=True, seed=3)
    b = generate(model, tiny_tokenizer, "Hello", 5, do_sample=True, seed=3)
    assert a.text == b.text  # seeded sampling is reproducible


def test_run_mode_end_to_end_on_a_tiny_model(tiny_tokenizer):
    model = _tiny(tiny_tokenizer)
    xs = longmemeval_set(random.Random(1), "s", 1, ["multi-session"], 1, 4, [1, 1], 0.3, 0.5)[:2]
    items = [EvalItem(x["question_id"], "longmemeval", longmemeval_prompt(x), [x["answer"]], question=x["question"],
                      question_type=x["question_type"], abstention="_abs" in x["question_id"]) for x in xs]
    cfg = EvaluateConfig(max_new_tokens=3, note_max_new_tokens=2, rounds=2,
                         sampling=SamplingConfig(do_sample=True, temperature=1.0),
                         ssa=SSAConfig(segment_tokens=100, note_max_new_tokens=3))
    engine = ModelEngine(model, tiny_tokenizer, cfg.sampling)
    for mode in ("direct", "rwr", "ssa"):
        metrics, rows = run_mode(engine, items, mode, cfg, BaseConfig(), None)
        assert len(rows) == 4 and {r["round"] for r in rows} == {0, 1}
        assert metrics["rounds"] == 2 and "avg_std" in metrics and metrics["n"] == 2
        assert all(r["judge"] == "offline" and "score" in r for r in rows)
        if mode == "ssa":
            assert all(r["segments"] >= 2 and r["calls"] == r["segments"] + 1 for r in rows)
            assert metrics["calls_mean"] > 2


def test_outputs_kept_for_a_pending_judge_are_reused_not_regenerated(tiny_tokenizer, tmp_path):
    """An LLM judge in batch mode stops the stage after generation; the rerun must judge the same outputs."""
    from rwr.eval.evaluate import generate_rounds

    model = _tiny(tiny_tokenizer)
    xs = longmemeval_set(random.Random(1), "oracle", 1, [], 0, 0, [1, 1], 0.3, 0.5)[:2]
    items = [EvalItem(x["question_id"], "longmemeval", longmemeval_prompt(x), [x["answer"]], question=x["question"],
                      question_type=x["question_type"]) for x in xs]
    cfg = EvaluateConfig(max_new_tokens=3, rounds=2, sampling=SamplingConfig(do_sample=True))
    engine = ModelEngine(model, tiny_tokenizer, cfg.sampling)
    keep = tmp_path / "gen.jsonl"
    first = generate_rounds(engine, items, "direct", cfg, BaseConfig(), keep)
    assert keep.exists() and len(first) == 2

    class Exploding:
        def __getattr__(self, name):
            raise AssertionError("the model must not run again")

    again = generate_rounds(Exploding(), items, "direct", cfg, BaseConfig(), keep)
    assert again == first


def test_evaluate_with_a_batch_judge_keeps_outputs_then_judges_them(tiny_tokenizer, tmp_path, monkeypatch):
    """Stage level: the first run exports the judge requests and stops; the rerun does not generate again."""
    import contextlib

    import pytest

    from rwr.config import ChatBackendConfig
    from rwr.data.longmemeval import write_longmemeval
    from rwr.eval import evaluate as E
    from rwr.llm import BatchPending
    from rwr.models.build import save_model

    model_dir = tmp_path / "models" / "tiny"
    save_model(_tiny(tiny_tokenizer), tiny_tokenizer, model_dir)
    raw = tmp_path / "raw"
    write_longmemeval(raw / "longmemeval_oracle.json",
                      longmemeval_set(random.Random(2), "oracle", 1, [], 0, 0, [1, 1], 0.3, 0.5)[:2])
    cfg = EvaluateConfig(models=["tiny"], benchmarks=["longmemeval_oracle"], max_new_tokens=2, judge="openai",
                         modes={"tiny": ["direct"]},
                         judge_llm=ChatBackendConfig(model="gpt-4o-2024-08-06", api_key_env="", mode="batch"))

    calls = []
    real_predict = E.predict
    monkeypatch.setattr(E, "predict", lambda *a, **k: calls.append(1) or real_predict(*a, **k))
    for _ in range(2):
        with pytest.raises(BatchPending):
            E.evaluate_model("tiny", cfg, BaseConfig(), model_dir, raw, tmp_path / "out",
                             lambda b: contextlib.nullcontext(NoRun()), root=tmp_path)
    assert len(calls) == 1  # generated once, reused by the rerun
    assert len(list((tmp_path / "cache" / "generations").glob("tiny-longmemeval_oracle-direct-*.jsonl"))) == 1
    assert not (tmp_path / "out").exists()  # nothing half-written while the judge is pending


def test_evaluate_model_runs_each_benchmark_once_loaded_and_names_an_unlisted_model(tiny_tokenizer, tmp_path,
                                                                                    monkeypatch):
    """One stage run per model: the model is loaded once, each benchmark gets its own tracking run, and the
    outputs land as <out>/<benchmark>/<mode>/ all together."""
    import contextlib

    import pytest

    from rwr.data.longmemeval import write_longmemeval
    from rwr.eval import evaluate as E
    from rwr.models.build import save_model

    save_model(_tiny(tiny_tokenizer), tiny_tokenizer, tmp_path / "models" / "tiny")
    raw = tmp_path / "raw"
    for variant in ("oracle", "s"):
        write_longmemeval(raw / f"longmemeval_{variant}.json",
                          longmemeval_set(random.Random(2), variant, 1, [], 0, 0, [1, 1], 0.3, 0.5)[:2])
    cfg = EvaluateConfig(models=["tiny"], benchmarks=["longmemeval_oracle", "longmemeval_s"], max_new_tokens=2,
                         modes={"tiny": ["direct"]})

    opened, loads = [], []
    real_load = E.load_model
    monkeypatch.setattr(E, "load_model", lambda *a, **k: loads.append(1) or real_load(*a, **k))

    def open_run(benchmark):
        opened.append(benchmark)
        return contextlib.nullcontext(NoRun())

    out = tmp_path / "results" / "tiny" / "predictions"
    results = E.evaluate_model("tiny", cfg, BaseConfig(), tmp_path / "models" / "tiny", raw, out, open_run,
                               root=tmp_path)
    assert opened == ["longmemeval_oracle", "longmemeval_s"] and len(loads) == 1
    assert set(results) == set(opened) and all(r["direct"]["n"] == 2 for r in results.values())
    for b in opened:
        assert len((out / b / "direct" / "predictions.jsonl").read_text().splitlines()) == 2
    with pytest.raises(ValueError, match="'other'.*evaluate.models"):
        E.evaluate_model("other", cfg, BaseConfig(), tmp_path / "models" / "tiny", raw, out, open_run)


def test_evaluate_model_with_a_batch_judge_generates_each_benchmark_once(tiny_tokenizer, tmp_path, monkeypatch):
    """Two LongMemEval files, judge in batch mode: each run stops at the first benchmark with pending requests;
    after each import the next run judges the outputs kept for the earlier benchmarks instead of regenerating,
    and the kept outputs go only once everything is written."""
    import contextlib
    import json

    import pytest

    from rwr.config import ChatBackendConfig
    from rwr.data.longmemeval import write_longmemeval
    from rwr.eval import evaluate as E
    from rwr.llm import BatchPending
    from rwr.llm.batch import import_batch
    from rwr.llm.cache import ResponseCache
    from rwr.models.build import save_model

    save_model(_tiny(tiny_tokenizer), tiny_tokenizer, tmp_path / "models" / "tiny")
    raw = tmp_path / "raw"
    for seed, variant in enumerate(("oracle", "s")):  # other questions in each file: no shared judge prompt
        write_longmemeval(raw / f"longmemeval_{variant}.json",
                          longmemeval_set(random.Random(seed), variant, 1, [], 0, 0, [1, 1], 0.3, 0.5)[:2])
    cfg = EvaluateConfig(models=["tiny"], benchmarks=["longmemeval_oracle", "longmemeval_s"], max_new_tokens=2,
                         modes={"tiny": ["direct"]}, judge="openai",
                         judge_llm=ChatBackendConfig(model="gpt-4o-2024-08-06", api_key_env="", mode="batch"))

    generated = []
    real_predict = E.predict
    monkeypatch.setattr(E, "predict", lambda eng, items, *a, **k: generated.append(items[0].id) or
                        real_predict(eng, items, *a, **k))
    out = tmp_path / "results" / "tiny" / "predictions"

    def run():
        return E.evaluate_model("tiny", cfg, BaseConfig(), tmp_path / "models" / "tiny", raw, out,
                                lambda b: contextlib.nullcontext(NoRun()), root=tmp_path)

    def answer(pending: BatchPending):  # what the Batch API writes back: "yes" to every request
        lines = [json.loads(x) for x in pending.path.read_text().splitlines()]
        body = {"model": "gpt-4o-2024-08-06", "usage": {"prompt_tokens": 10, "completion_tokens": 1},
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "yes"}, "finish_reason": "stop"}]}
        results = tmp_path / "results.jsonl"
        results.write_text("".join(json.dumps({"custom_id": x["custom_id"], "error": None,
                                               "response": {"status_code": 200, "body": body}}) + "\n"
                                   for x in lines))
        import_batch(results, pending.path, ResponseCache(tmp_path / "cache" / "llm" / "judge.jsonl"))

    kept = tmp_path / "cache" / "generations"
    for expected in (1, 2):  # oracle's requests, then S's
        with pytest.raises(BatchPending) as info:
            run()
        assert len(generated) == expected and not out.exists()
        assert len(list(kept.glob("tiny-*.jsonl"))) == expected
        answer(info.value)
    results = run()
    assert len(generated) == 2  # each benchmark generated once over three runs
    assert results["longmemeval_oracle"]["direct"]["n"] == 2 and results["longmemeval_s"]["direct"]["n"] == 2
    assert not list(kept.glob("*.jsonl")) and (out / "longmemeval_s" / "direct" / "predictions.jsonl").exists()
