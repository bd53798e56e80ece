"""`rwr score` on small files in the official formats: LongMemEval (offline and GPT-4o path), HELMET, short tasks."""

import json
import random

import pytest
from chat_server import ChatServer

from rwr.cli import main
from rwr.config import DataConfig, HelmetConfig
from rwr.data.bench_build import write_helmet_synthetic, write_short_synthetic
from rwr.data.longmemeval import write_longmemeval
from rwr.data.synthetic import longmemeval_set
from rwr.eval.helmet import label_mapping


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _lme(tmp_path):
    items = longmemeval_set(random.Random(3), "oracle", 1, ["multi-session"], 1, 0, [1, 2], 0.2, 0.5)
    data = tmp_path / "longmemeval_oracle.json"
    write_longmemeval(data, items)
    hyps = [{"question_id": x["question_id"],
             "hypothesis": "I don't have that information." if "_abs" in x["question_id"]
             else (x["answer"] if i % 2 == 0 else "no idea")} for i, x in enumerate(items)]
    hyps.append({"question_id": "not-in-data", "hypothesis": "x"})
    return items, data, _jsonl(tmp_path / "hyp.jsonl", hyps)


def test_score_longmemeval_offline(tmp_path, capsys):
    items, data, hyp = _lme(tmp_path)
    assert main(["score", "longmemeval", "--data", str(data), "--predictions", str(hyp)]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((tmp_path / "hyp.jsonl.metrics.json").read_text())
    assert printed == written and written["n"] == 6 and written["n_missing"] == 0 and written["judge"] == "offline"
    assert {"SU", "SA", "SP", "MR", "KU", "TR", "avg", "task_avg", "abstention"} <= set(written)
    log = [json.loads(x) for x in (tmp_path / "hyp.jsonl.eval-results-offline").read_text().splitlines()]
    assert len(log) == 6 and all(set(e["autoeval_label"]) == {"model", "label"} for e in log)


def test_score_longmemeval_with_the_gpt4o_judge_path(tmp_path, capsys):
    items, data, hyp = _lme(tmp_path)
    with ChatServer(lambda body: "yes") as server:
        rc = main(["score", "longmemeval", "--data", str(data), "--predictions", str(hyp), "--judge", "openai",
                   "--base-url", server.url, "--api-key-env", "", "--cache", str(tmp_path / "judge.jsonl")])
        assert rc == 0 and server.posts == 6
        assert all(b["model"] == "gpt-4o-2024-08-06" and b["max_tokens"] == 10 for b in server.answered)
    m = json.loads(capsys.readouterr().out)
    assert m["avg"] == 100.0 and m["judge"] == "gpt-4o-2024-08-06" and "kappa_offline" in m
    assert m["judge_sent"] == 6


def test_score_every_helmet_family(tmp_path, capsys):
    write_helmet_synthetic(DataConfig(helmet_rag_questions=2, helmet_recall_rows=3, helmet_icl_test=4), 5, tmp_path)
    cases = {}
    for task in ("kilt_nq", "kilt_hotpotqa", "json_kv", "ruler_niah_mk_3", "ruler_niah_mv"):
        rows = [json.loads(x) for x in (tmp_path / f"{task}.jsonl").read_text().splitlines()]
        gold = rows[0].get("answers", rows[0].get("answer"))
        right = gold[0] if isinstance(gold, list) else gold
        if task == "ruler_niah_mv":
            right = " ".join(gold[:2])  # half the values: recall 0.5
        cases[task] = ([{"id": 0, "output": f"Answer: {right}"}, {"id": "1", "output": "wrong"}], len(rows))
    test = [json.loads(x) for x in (tmp_path / "icl_trec_coarse.test.jsonl").read_text().splitlines()]
    label = label_mapping(test[0]["text"], 6, 42)[test[0]["label"]]
    cases["icl_trec_coarse"] = ([{"id": "0", "output": f"label: {label}\nlabel: 99"}, {"id": "1", "output": "99"}],
                                len(test))
    expected = {"kilt_nq": 50.0, "kilt_hotpotqa": 50.0, "json_kv": 50.0, "ruler_niah_mk_3": 50.0,
                "ruler_niah_mv": 25.0, "icl_trec_coarse": 50.0}
    for task, (preds, n_rows) in cases.items():
        data = tmp_path / (f"{task}.test.jsonl" if task.startswith("icl_") else f"{task}.jsonl")
        pred = _jsonl(tmp_path / f"{task}.pred.jsonl", preds)
        assert main(["score", task, "--data", str(data), "--predictions", str(pred), "--num-labels", "6"]) == 0
        m = json.loads(capsys.readouterr().out)
        assert m[task] == expected[task], task
        assert m["n"] == 2 and m["n_missing"] == n_rows - 2


def test_score_reads_helmet_eval_py_output_json(tmp_path, capsys):
    """HELMET's eval.py output: {"args", "data": [{**test_item, **output}], ...}; references come from the rows."""
    out = {"args": {"datasets": "kilt_nq", "seed": 42},
           "data": [{"id": "q7", "question": "who?", "answer": ["Ada Lovelace", "Lovelace"],
                     "output": "Answer: Lovelace wrote it", "input_len": 900},
                    {"id": "q9", "question": "when?", "answer": ["1843"], "output": "Answer: 1900"}],
           "metrics": {}, "averaged_metrics": {"substring_exact_match": 50.0}}
    f = tmp_path / "kilt_nq_eval_nq-dev-1000-k105_in16384_size100_shots2.json"
    f.write_text(json.dumps(out))
    assert main(["score", "kilt_nq", "--predictions", str(f)]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["kilt_nq"] == 50.0 and m["n"] == 2 and m["n_missing"] == 0
    icl = {"args": {"datasets": "icl_banking77"}, "data": [{"answer": "12", "output": "label: 12"}]}
    g = tmp_path / "icl.json"
    g.write_text(json.dumps(icl))
    assert main(["score", "icl_banking77", "--predictions", str(g)]) == 0
    assert json.loads(capsys.readouterr().out)["icl_banking77"] == 100.0
    assert main(["score", "json_kv", "--predictions", str(f)]) != 0  # another dataset's output is refused
    assert "kilt_nq" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"args": {"datasets": "kilt_nq"}, "data": [{"answer": ["x"]}]}))
    assert main(["score", "kilt_nq", "--predictions", str(broken)]) == 2
    assert "broken.json: data[0] lacks 'output'" in capsys.readouterr().err
    plain = _jsonl(tmp_path / "plain.jsonl", [{"id": "0", "output": "x"}])
    assert main(["score", "kilt_nq", "--predictions", str(plain)]) == 2  # ours needs the data file
    assert "--data is required" in capsys.readouterr().err


def test_score_runs_for_every_helmet_task(tmp_path, capsys):
    from rwr.config import HELMET_TASKS

    write_helmet_synthetic(DataConfig(helmet_rag_questions=1, helmet_rag_depths=1, helmet_recall_rows=1,
                                      helmet_icl_test=1), 5, tmp_path)
    for task in HELMET_TASKS:
        data = tmp_path / (f"{task}.test.jsonl" if task.startswith("icl_") else f"{task}.jsonl")
        pred = _jsonl(tmp_path / f"{task}.pred.jsonl", [{"id": "0", "output": "x"}])
        assert main(["score", task, "--data", str(data), "--predictions", str(pred)]) == 0, task
        m = json.loads(capsys.readouterr().out)
        assert m["n"] == 1 and task in m and m[task] == 0.0


def test_score_every_short_task_and_our_own_predictions_file(tmp_path, capsys):
    write_short_synthetic(DataConfig(short_rows=3), 5, tmp_path)
    gold = {"samsum": lambda r: r["summary"], "rte": lambda r: "yes" if r["label"] == 0 else "no",
            "gsm8k": lambda r: "The answer is " + r["answer"].split("####")[-1].strip() + ".",
            "nq": lambda r: r["answer"][0]}
    for task, right in gold.items():
        rows = [json.loads(x) for x in (tmp_path / f"{task}.jsonl").read_text().splitlines()]
        preds = [{"id": "0", "task": task, "round": 0, "hypothesis": right(rows[0]), "output": "ignored"},
                 {"id": "0", "task": task, "round": 1, "hypothesis": "round 2 is ignored"},
                 {"id": "1", "task": "other", "hypothesis": "other tasks are ignored"}]
        pred = _jsonl(tmp_path / f"{task}.pred.jsonl", preds)
        out = tmp_path / f"{task}.metrics.json"
        assert main(["score", task, "--data", str(tmp_path / f"{task}.jsonl"), "--predictions", str(pred),
                     "--out", str(out)]) == 0
        m = json.loads(out.read_text())
        assert m[task] == pytest.approx(100.0) and m["n"] == 1 and m["n_missing"] == 2
        capsys.readouterr()


def test_score_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["score", "kilt_nq", "--data", str(tmp_path / "missing.jsonl"),
                 "--predictions", str(tmp_path / "p.jsonl")]) == 2
    assert "not found" in capsys.readouterr().err
    assert HelmetConfig().seed == 42
