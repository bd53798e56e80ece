"""The construct stage through LLM backends (local test servers), batch mode, selection and mixing."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from chat_server import ChatServer, free_port, prompt_of
from omegaconf import OmegaConf

from rwr.config import BaseConfig, ChatBackendConfig, ChatPrice, ConstructConfig, PromptFormat
from rwr.construct.build import construct
from rwr.construct.llm import parse_paragraphs, parse_verdict
from rwr.construct.pipeline import run_construct
from rwr.construct.select import select_examples, source_records
from rwr.llm import BatchPending, LLMError, ResponseCache
from rwr.llm.batch import import_batch
from rwr.tracking import StageRun

ROOT = Path(__file__).resolve().parents[1]
FMT = PromptFormat()
CONTEXT = (
    "Read the facts.\n\nThe Eiffel Tower is in Paris. It was built in 1889.\n\nThe Colosseum is in Rome."
    "\n\nMount Fuji is in Japan."
)
# query -> (answer, teacher note, verifier reply, locate reply); see the responders below
PLAN = {
    "Where is the Eiffel Tower?": ("Paris", "The Eiffel Tower is in Paris.", "CONSISTENT", "2"),
    "Where is the Colosseum?": ("Rome", "The Colosseum is in Rome.", "Probably consistent", "Paragraph 3"),
    "Where is Mount Fuji?": ("Japan", "Mount Fuji is in China.", "inconsistent.", "3"),
    "Where is the Louvre?": ("Paris", "", "CONSISTENT", "NONE"),
    "Where is Big Ben?": ("London", ("Big Ben is in " * 50, "length"), "CONSISTENT", "1, 2, 3, 4"),
}


def _records():
    recs = [
        {
            "id": f"r{i}",
            "system_prompt": "SYS",
            "question": f"{CONTEXT}\nQuestion: {q}\nAnswer:",
            "response": a,
        }
        for i, (q, (a, *_)) in enumerate(PLAN.items())
    ]
    recs.append({"id": "nomark", "system_prompt": "", "question": CONTEXT + " What now?", "response": "x"})
    recs.append(
        {"id": "short", "system_prompt": "", "question": "Hi.\nQuestion: Who?\nAnswer:", "response": "x"}
    )
    return recs


def _query(prompt):
    return next(q for q in PLAN if q in prompt)


def teacher_reply(body):
    prompt = prompt_of(body)
    q = _query(prompt)
    return PLAN[q][3] if prompt.startswith("Below is a context") else PLAN[q][1]


def verifier_reply(body):
    return PLAN[_query(prompt_of(body))][2]


def _cfg(teacher_url, verifier_url, **kw):
    llm = {"api_key_env": "", "max_retries": 1, "timeout_s": 10}
    return ConstructConfig(
        **{
            "teacher": "llm",
            "verifier": "llm",
            "min_context_chars": 40,
            "n_summary": 10,
            "n_empty": 10,
            "n_orca": 7,
            "teacher_llm": ChatBackendConfig(model="teacher-model", base_url=teacher_url, **llm),
            "verifier_llm": ChatBackendConfig(
                model="verifier-model", base_url=verifier_url, max_tokens=8, **llm
            ),
            **kw,
        }
    )


def _run(tmp_path, cfg, out="sft"):
    return run_construct(
        _records(),
        BaseConfig(),
        cfg,
        tmp_path / out,
        tmp_path / f"{out}.json",
        StageRun(None),
        root=tmp_path,
        progress=False,
    )


def _read(path):
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def test_llm_stage_prompts_counts_outputs_and_cache(tmp_path):
    with ChatServer(teacher_reply) as teacher, ChatServer(verifier_reply) as verifier:
        stats = _run(tmp_path, _cfg(teacher.url, verifier.url))
        # prompts arrive exactly as templated
        notes = {prompt_of(b) for b in teacher.answered if not prompt_of(b).startswith("Below")}
        assert CONTEXT + " Where is the Eiffel Tower? Please extract a note relevant to the query:" in notes
        locate = next(
            prompt_of(b)
            for b in teacher.answered
            if prompt_of(b).startswith("Below") and "Eiffel Tower?" in prompt_of(b)
        )
        assert (
            "[1] Read the facts.\n[2] The Eiffel Tower is in Paris. It was built in 1889.\n"
            "[3] The Colosseum is in Rome.\n[4] Mount Fuji is in Japan.\n\n"
            "Question: Where is the Eiffel Tower?"
            "\nCorrect answer: Paris\n\n"
        ) in locate
        check = next(prompt_of(b) for b in verifier.answered if "Eiffel" in prompt_of(b))
        assert check == ConstructConfig().verifier_template.format(
            query="Where is the Eiffel Tower?", answer="Paris", note="The Eiffel Tower is in Paris."
        )
        assert {b["model"] for b in teacher.answered} == {"teacher-model"}
        assert {b["model"] for b in verifier.answered} == {"verifier-model"}
        assert {b["max_tokens"] for b in verifier.answered} == {8} and {
            b["temperature"] for b in verifier.answered
        } == {0}
        assert teacher.posts == 10 and verifier.posts == 3  # 5 notes + 5 locates; 3 usable notes
        # every rule and drop reason is counted
        expected = {
            "sources": 7,
            "selected": 5,
            "dropped_no_query_marker": 1,
            "dropped_short_context": 1,
            "summary_dropped_teacher_no_note": 1,
            "summary_dropped_note_truncated": 1,
            "verifier_judged": 3,
            "summary_dropped_verifier_rejected": 2,
            "summary_verdict_unparseable": 1,
            "verifier_rejection_rate_pct": 66.67,
            "empty_dropped_locate_unparseable": 1,
            "empty_dropped_answer_still_present": 1,
            "empty_dropped_answer_not_located": 1,
            "empty_dropped_nothing_left": 1,
            "summary": 1,
            "empty": 1,
            "sft_set": 7,
            "rwr_set": 9,
            "teacher_sent": 10,
            "verifier_sent": 3,
            "teacher_cache_hits": 0,
        }
        assert {k: stats[k] for k in expected} == expected
        assert stats["verifier_prompt_tokens"] > 0 and stats["teacher_completion_tokens"] > 0
        assert json.loads((tmp_path / "sft.json").read_text()) == stats
        (summary,), (empty,) = _read(tmp_path / "sft/summary.jsonl"), _read(tmp_path / "sft/empty.jsonl")
        assert summary["response"] == "The Eiffel Tower is in Paris.\nAnswer: Paris"
        assert summary["question"].endswith("Question: Where is the Eiffel Tower?\n" + FMT.note_prompt)
        assert "Paris" not in empty["question"] and "Rome" in empty["question"]
        assert empty["response"] == f"{FMT.empty_note}\nAnswer: {FMT.empty_answer}"
        # a rerun answers everything from the cache
        teacher.reset_counts(), verifier.reset_counts()
        again = _run(tmp_path, _cfg(teacher.url, verifier.url), out="sft2")
        assert teacher.posts == verifier.posts == 0
        assert again["teacher_cache_hits"] == 10 and again["teacher_sent"] == 0
        assert _read(tmp_path / "sft2/rwr.jsonl") == _read(tmp_path / "sft/rwr.jsonl")


def test_failure_leaves_no_outputs_and_keeps_paid_responses(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with ChatServer(teacher_reply) as teacher:
        with pytest.raises(LLMError, match=rf"{dead}/chat/completions: cannot connect"):
            _run(tmp_path, _cfg(teacher.url, dead))
        assert not (tmp_path / "sft").exists() and not (tmp_path / "sft.json").exists()
        assert [p.name for p in tmp_path.iterdir()] == ["cache"]  # no temp directory left behind
        with ChatServer(verifier_reply) as verifier:
            teacher.reset_counts()
            _run(tmp_path, _cfg(teacher.url, verifier.url))
            assert teacher.posts == 0 and verifier.posts == 3


def _run_batch(pending: Path, responder, results: Path) -> None:
    """What `vllm run-batch` does with the exported file, with the test responder as the model."""
    lines = []
    for x in _read(pending):
        out = responder(x["body"])
        text, finish = out if isinstance(out, tuple) else (out, "stop")
        body = {
            "model": x["body"]["model"],
            "choices": [
                {"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2},
        }
        lines.append(
            {
                "id": "x",
                "custom_id": x["custom_id"],
                "response": {"status_code": 200, "body": body},
                "error": None,
            }
        )
    results.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_batch_round_trip_through_the_stage(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"  # never contacted in batch mode
    cfg = _cfg(url, url, prices={"verifier-model": ChatPrice(input_per_mtok=1.0, output_per_mtok=1.0)})
    cfg.teacher_llm.mode = cfg.verifier_llm.mode = "batch"
    cache = tmp_path / "cache/llm/construct.jsonl"
    for role, responder, n in (("teacher", teacher_reply, 10), ("verifier", verifier_reply, 3)):
        with pytest.raises(BatchPending) as info:
            _run(tmp_path, cfg)
        assert (info.value.role, info.value.n) == (role, n) and not (tmp_path / "sft").exists()
        _run_batch(info.value.path, responder, tmp_path / f"{role}-results.jsonl")
        assert (
            import_batch(tmp_path / f"{role}-results.jsonl", info.value.path, ResponseCache(cache))[
                "imported"
            ]
            == n
        )
    stats = _run(tmp_path, cfg)
    assert (stats["summary"], stats["empty"], stats["teacher_sent"], stats["verifier_cache_hits"]) == (
        1,
        1,
        0,
        3,
    )
    assert stats["verifier_cost_usd"] == pytest.approx(3 * 12 / 1e6 * 0.5)  # batch price


def test_verdict_and_paragraph_parsing_is_strict():
    assert parse_verdict(" CONSISTENT\n", "CONSISTENT", "INCONSISTENT") is True
    assert parse_verdict("inconsistent.", "CONSISTENT", "INCONSISTENT") is False
    for bad in ("Consistent, mostly", "**CONSISTENT**", "", "yes", "CONSISTENT.."):
        assert parse_verdict(bad, "CONSISTENT", "INCONSISTENT") is None
    assert parse_paragraphs("2, 5", 5) == [1, 4] and parse_paragraphs("[3]", 3) == [2]
    assert parse_paragraphs("none", 3) == [] and parse_paragraphs(" 1,1 .", 3) == [0]
    for bad in ("Paragraph 2", "2 and 3", "0", "6", "", "2, x"):
        assert parse_paragraphs(bad, 5) is None


def test_selector_rules_are_counted_on_hand_written_records():
    ctx = "Some background context that is long enough."
    recs = [
        {"question": f"{ctx}\nQuestion: first?\nAnswer:"},
        {"question": f"{ctx} Q: second?"},
        {"question": f"{ctx}\nQuestion:   \nAnswer:"},
        {"question": "no marker at all, long enough to be a context."},
        {"question": "short\nQuestion: third?"},
        {"question": ctx * 5 + "\nQuestion: fourth?"},
    ]
    recs = [{"id": str(i), "system_prompt": "", "response": "a", **r} for i, r in enumerate(recs)]
    cfg = ConstructConfig(query_markers=["\nQuestion:", " Q:"], min_context_chars=20, max_context_chars=100)
    examples, counts = select_examples(recs, cfg, FMT, seed=0)
    assert [(e.context, e.query) for e in examples] == [(ctx, "first?"), (ctx, "second?")]
    assert examples[0].tail == "\nQuestion: first?\nAnswer:"
    assert counts == Counter(
        sources=6,
        selected=2,
        selected_marker_0=1,
        selected_marker_1=1,
        dropped_empty_query=1,
        dropped_no_query_marker=1,
        dropped_short_context=1,
        dropped_long_context=1,
    )
    sampled, counts = select_examples(
        recs * 3, ConstructConfig(**{**cfg.__dict__, "max_sources": 4}), FMT, seed=5
    )
    assert len(sampled) == 4 and counts["not_sent_over_max_sources"] == 2
    assert (
        sampled == select_examples(recs * 3, ConstructConfig(**{**cfg.__dict__, "max_sources": 4}), FMT, 5)[0]
    )
    pool = [{"id": str(i)} for i in range(5)]
    ids = {
        p: [r["id"] for r in source_records(pool, ConstructConfig(n_orca=3, source_pool=p))]
        for p in ("sft", "rest", "all")
    }
    assert ids == {"sft": ["0", "1", "2"], "rest": ["3", "4"], "all": ["0", "1", "2", "3", "4"]}


def test_mixing_sizes_and_ratio(tmp_path):
    def rec(i, pet, name):
        turns = [
            {"role": "user", "content": f"My {pet}'s name is {name}."},
            {"role": "assistant", "content": "Nice."},
            {"role": "user", "content": "I like tea."},
            {"role": "assistant", "content": "Good."},
        ]
        return {
            "id": f"o{i}",
            "system_prompt": "S",
            "question": f"Chat: {json.dumps(turns)}\nQuestion: What is my {pet}'s name?\nAnswer:",
            "response": name,
        }

    orca = [rec(i, "dog", f"Rex{i}") for i in range(20)]
    cfg = ConstructConfig(min_context_chars=20, n_orca=12, n_summary=4, n_empty=2, source_pool="rest")
    stats = run_construct(
        orca, BaseConfig(), cfg, tmp_path / "o", tmp_path / "m.json", StageRun(None), tmp_path
    )
    assert (stats["sources"], stats["summary_candidates"], stats["empty_candidates"]) == (8, 8, 8)
    rwr = _read(tmp_path / "o/rwr.jsonl")
    kinds = Counter(r["id"].split(".")[1] if "." in r["id"] else "orca" for r in rwr)
    assert kinds == {"orca": 12, "summary": 4, "empty": 2}
    assert {r["id"] for r in _read(tmp_path / "o/sft.jsonl")} == {f"o{i}" for i in range(12)}
    sources = {r["id"].split(".")[0] for r in rwr if "." in r["id"]}
    assert sources <= {f"o{i}" for i in range(12, 20)}  # 'rest': disjoint from the SFT records
    summaries, empties, _ = construct(orca, cfg, FMT, seed=1)
    assert construct(orca, cfg, FMT, seed=1) == (summaries, empties, _)  # deterministic


def test_api_key_never_appears_in_params_mlflow_logs_or_outputs(tmp_path):
    """The real stage script, in a subprocess, pointed at the local servers through params."""
    sentinel = "sk-SENTINEL-0a1b2c3d4e5f"
    (tmp_path / "orca.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _records()))
    params = OmegaConf.load(ROOT / "params.yaml")
    with ChatServer(teacher_reply) as teacher, ChatServer(verifier_reply) as verifier:
        cfg = OmegaConf.structured(_cfg(teacher.url, verifier.url))
        cfg.verifier_llm.api_key_env = "RWR_TEST_VERIFIER_KEY"
        params.construct = cfg
        OmegaConf.save(params, tmp_path / "params.yaml")
        env = {
            **os.environ,
            "RWR_PARAMS": str(tmp_path / "params.yaml"),
            "RWR_TRACKING": "on",
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
            "RWR_LOG_LEVEL": "DEBUG",
            "RWR_TEST_VERIFIER_KEY": sentinel,
            "OPENAI_LOG": "debug",
        }
        p = subprocess.run(
            [
                sys.executable,
                str(ROOT / "stages/construct.py"),
                "--orca",
                "orca.jsonl",
                "--out",
                "sft",
                "--metrics",
                "metrics.json",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, p.stderr[-3000:]
        assert {h["authorization"] for h in verifier.headers} == {f"Bearer {sentinel}"}  # the key was used
    assert json.loads((tmp_path / "metrics.json").read_text())["summary"] == 1
    assert (tmp_path / "mlflow.db").exists() and any((tmp_path / "mlartifacts").rglob("*.json"))
    assert "RWR_TEST_VERIFIER_KEY" in (tmp_path / "mlflow.db").read_bytes().decode(
        "latin-1"
    )  # the NAME is logged
    assert sentinel not in p.stdout + p.stderr and "MLflow run" in p.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert sentinel.encode() not in path.read_bytes(), path
