"""The chat layer (rwr.llm) against a real local HTTP server: caching, retries, failures, batch, backends."""

import json

import pytest
from chat_server import ChatServer, free_port, prompt_of

from rwr.config import ChatBackendConfig, ChatPrice
from rwr.io import DataError
from rwr.llm import BatchPending, ChatRequest, ChatRunner, LLMError, ResponseCache, make_runner
from rwr.llm.__main__ import main as llm_main
from rwr.llm.batch import import_batch
from rwr.llm.openai_backend import OpenAIBackend

PRICES = {"test-model": ChatPrice(input_per_mtok=1.0, output_per_mtok=2.0)}


def echo(body):
    return "echo: " + prompt_of(body)


def _cfg(url, **kw):
    return ChatBackendConfig(
        **{
            "model": "test-model",
            "base_url": url,
            "api_key_env": "",
            "max_retries": 2,
            "timeout_s": 10,
            "max_concurrency": 3,
            **kw,
        }
    )


def _runner(tmp_path, cfg, **kw):
    return make_runner(
        "teacher", cfg, ResponseCache(tmp_path / "cache.jsonl"), PRICES, tmp_path, progress=False, **kw
    )


def _requests(cfg, n=5):
    return [ChatRequest.from_prompt(f"prompt {i}", cfg) for i in range(n)]


def test_request_key_is_stable_and_sensitive():
    cfg = ChatBackendConfig(model="m")
    a, b = ChatRequest.from_prompt("hi", cfg), ChatRequest.from_prompt("hi", cfg)
    assert a.key == b.key and len(a.key) == 64
    assert ChatRequest.from_prompt("hi", ChatBackendConfig(model="m", temperature=0.5)).key != a.key
    assert ChatRequest.from_prompt("hi", ChatBackendConfig(model="m2")).key != a.key
    assert ChatRequest.from_prompt("hi", ChatBackendConfig(model="m", system_prompt="s")).key != a.key
    assert (
        "seed" not in a.body()
        and ChatRequest.from_prompt("hi", ChatBackendConfig(model="m", seed=1)).body()["seed"] == 1
    )


def test_cache_survives_a_truncated_last_line_and_rejects_corruption(tmp_path, caplog):
    path = tmp_path / "c.jsonl"
    cache = ResponseCache(path)
    cache.put("k1", {"model": "m"}, {"choices": []})
    cache.put("k2", {"model": "m"}, {"choices": []})
    with open(path, "a") as f:
        f.write('{"key": "k3", "resp')  # the process died in the middle of a write
    again = ResponseCache(path)
    assert len(again) == 2 and "truncated last line" in caplog.text
    again.put("k4", {}, {})
    assert len(ResponseCache(path)) == 3
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "garbage", *lines[1:]]) + "\n")
    with pytest.raises(DataError, match=r"c.jsonl: line 2"):
        ResponseCache(path)


def test_prompts_arrive_as_sent_and_a_second_run_makes_no_request(tmp_path):
    with ChatServer(echo) as srv:
        cfg = _cfg(srv.url, max_tokens=7, seed=3)
        reqs = _requests(cfg) + _requests(cfg, 2)  # duplicates are sent once
        runner = _runner(tmp_path, cfg)
        out = runner.run(reqs)
        assert [r.text for r in out] == [f"echo: prompt {i}" for i in (0, 1, 2, 3, 4, 0, 1)]
        assert srv.posts == 5
        assert sorted(srv.answered, key=prompt_of) == [r.body() for r in _requests(cfg)]
        assert srv.answered[0]["max_tokens"] == 7 and srv.answered[0]["seed"] == 3
        u = runner.usage
        assert (u.requests, u.unique, u.sent, u.cache_hits) == (7, 5, 5, 0)
        assert u.prompt_tokens == 10 and u.completion_tokens == 15
        assert u.cost_usd == pytest.approx((10 * 1.0 + 15 * 2.0) / 1e6) == u.cost_usd_this_run
        again = _runner(tmp_path, cfg)
        assert [r.text for r in again.run(reqs)] == [r.text for r in out]
        assert srv.posts == 5  # zero new requests
        assert again.usage.cache_hits == 5 and again.usage.sent == 0 and again.usage.cost_usd_this_run == 0
        assert again.usage.cost_usd == pytest.approx(u.cost_usd)


def test_429_and_500_are_retried(tmp_path):
    with ChatServer(echo) as srv:
        srv.fail = [429, 500]
        cfg = _cfg(srv.url, max_concurrency=1)
        assert _runner(tmp_path, cfg).run(_requests(cfg, 2))[1].text == "echo: prompt 1"
        assert srv.posts == 4 and len(srv.answered) == 2


def test_exhausted_retries_and_client_errors_name_the_url(tmp_path):
    with ChatServer(echo) as srv:
        cfg = _cfg(srv.url, max_retries=1, max_concurrency=1)
        srv.fail = [429, 429]
        with pytest.raises(LLMError, match=rf"{srv.url}/chat/completions: HTTP 429.*forced 429"):
            _runner(tmp_path, cfg).run(_requests(cfg, 1))
        srv.fail = [400]
        with pytest.raises(LLMError, match=rf"{srv.url}/chat/completions: HTTP 400"):
            _runner(tmp_path, cfg).run(_requests(cfg, 1))
        assert srv.posts == 3  # 400 is not retried
        srv.fail = [401]
        with pytest.raises(LLMError, match=r"authentication failed \(HTTP 401\); check the key"):
            _runner(tmp_path, cfg).run(_requests(cfg, 1))


def test_a_malformed_response_is_an_error_and_not_cached(tmp_path):
    with ChatServer(lambda body: {"object": "chat.completion", "choices": []}) as srv:
        cfg = _cfg(srv.url)
        with pytest.raises(LLMError, match=r"chat/completions: response: not a chat.completion body"):
            _runner(tmp_path, cfg).run(_requests(cfg, 1))
        assert len(ResponseCache(tmp_path / "cache.jsonl")) == 0


def test_dead_endpoint_names_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    cfg = _cfg(url, max_retries=1)
    with pytest.raises(LLMError, match=rf"{url}/chat/completions: cannot connect.*server running"):
        _runner(tmp_path, cfg).run(_requests(cfg, 2))
    assert not (tmp_path / "cache.jsonl").exists()


def test_timeout_names_the_url(tmp_path):
    with ChatServer(echo) as srv:
        srv.delay = 1.0
        cfg = _cfg(srv.url, max_retries=0, timeout_s=0.2)
        with pytest.raises(LLMError, match=rf"{srv.url}/chat/completions: no answer within 0.2s"):
            _runner(tmp_path, cfg).run(_requests(cfg, 1))


def test_a_crash_half_way_loses_no_paid_response(tmp_path):
    with ChatServer(echo) as srv:
        srv.fail_when = lambda body: 400 if prompt_of(body) == "prompt 4" else None
        cfg = _cfg(srv.url, max_concurrency=2)
        reqs = _requests(cfg, 8)
        with pytest.raises(LLMError, match=r"HTTP 400[\s\S]*responses were received and cached"):
            _runner(tmp_path, cfg).run(reqs)
        paid = {prompt_of(b) for b in srv.answered}
        assert paid and len(paid) < 8
        cache = ResponseCache(tmp_path / "cache.jsonl")
        assert {prompt_of(e["request"]) for e in cache._entries.values()} == paid  # every paid one is cached
        srv.fail_when = None
        srv.reset_counts()
        _runner(tmp_path, cfg).run(reqs)
        assert {prompt_of(b) for b in srv.answered} == {f"prompt {i}" for i in range(8)} - paid


def test_key_comes_from_the_named_environment_variable_only(tmp_path, monkeypatch):
    monkeypatch.delenv("RWR_TEST_KEY", raising=False)
    with pytest.raises(LLMError, match=r"environment variable RWR_TEST_KEY is not set"):
        OpenAIBackend(ChatBackendConfig(model="m", api_key_env="RWR_TEST_KEY"))
    monkeypatch.setenv("RWR_TEST_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-leak")
    with ChatServer(echo) as srv:
        cfg = _cfg(srv.url)
        _runner(tmp_path, ChatBackendConfig(**{**cfg.__dict__, "api_key_env": "RWR_TEST_KEY"})).run(
            _requests(cfg, 1)
        )
        _runner(tmp_path / "b", cfg).run(_requests(cfg, 1))  # api_key_env '' (vLLM without a key)
        assert [h["authorization"] for h in srv.headers] == ["Bearer sk-from-env", "Bearer EMPTY"]
    assert "sk-from-env" not in repr(OpenAIBackend(ChatBackendConfig(model="m", api_key_env="RWR_TEST_KEY")))


def test_batch_export_import_round_trip(tmp_path, capsys):
    cfg = _cfg("http://127.0.0.1:9/v1", mode="batch")
    reqs = _requests(cfg, 3)
    with pytest.raises(BatchPending, match=r"3 teacher request\(s\)[\s\S]*vllm run-batch") as info:
        _runner(tmp_path, cfg).run(reqs + reqs[:1])
    lines = [json.loads(x) for x in info.value.path.read_text().splitlines()]
    assert info.value.path == tmp_path / "cache/llm/batches/teacher-pending.jsonl"
    assert [set(x) for x in lines] == [{"custom_id", "method", "url", "body"}] * 3
    assert lines[0]["method"] == "POST" and lines[0]["url"] == "/v1/chat/completions"
    assert [x["body"] for x in lines] == [r.body() for r in reqs] and lines[0]["custom_id"] == reqs[0].key
    # What OpenAI Batch / `vllm run-batch` write back: one success per request, except one failure.
    results = tmp_path / "results.jsonl"
    out = []
    for i, x in enumerate(lines):
        body = {
            "model": "test-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"batch {i}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10},
        }
        ok = i != 2
        out.append(
            {
                "id": f"b{i}",
                "custom_id": x["custom_id"],
                "error": None if ok else {"message": "x"},
                "response": {"status_code": 200 if ok else 500, "body": body if ok else None},
            }
        )
    out.append(
        {"custom_id": "not-ours", "response": {"status_code": 200, "body": out[0]["response"]["body"]}}
    )
    results.write_text("".join(json.dumps(x) + "\n" for x in out))
    cache_path = tmp_path / "cache.jsonl"
    assert (
        llm_main(
            ["import-batch", str(results), "--requests", str(info.value.path), "--cache", str(cache_path)]
        )
        == 0
    )
    counts = json.loads(capsys.readouterr().out)
    assert counts == {"imported": 2, "failed": 1, "unknown_custom_id": 1, "requests": 3, "still_pending": 1}
    assert import_batch(results, info.value.path, ResponseCache(cache_path))["already_cached"] == 2
    with pytest.raises(BatchPending, match=r"1 teacher request"):  # only the failed one is exported again
        _runner(tmp_path, cfg).run(reqs)
    done = _runner(tmp_path, cfg)
    assert [r.text for r in done.run(reqs[:2])] == ["batch 0", "batch 1"]
    assert done.usage.cost_usd == pytest.approx(2 * (100 * 1.0 + 10 * 2.0) / 1e6 * 0.5)  # batch price
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**lines[0], "custom_id": "x"}) + "\n")
    assert llm_main(["import-batch", str(results), "--requests", str(bad), "--cache", str(cache_path)]) == 2
    assert "does not match the hash" in capsys.readouterr().err


def test_transformers_backend_runs_a_tiny_model_in_process(tmp_path, tiny_tokenizer):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer
    tok.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tok),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        )
    )
    model.save_pretrained(tmp_path / "teacher")
    tok.save_pretrained(tmp_path / "teacher")
    cfg = ChatBackendConfig(
        backend="transformers", model=str(tmp_path / "teacher"), max_tokens=4, device="cpu"
    )
    runner = _runner(tmp_path, cfg)
    out = runner.run([ChatRequest.from_prompt("my dog is Rex", cfg), ChatRequest.from_prompt("hello", cfg)])
    assert all(isinstance(r.text, str) and r.completion_tokens <= 4 and r.prompt_tokens > 3 for r in out)
    assert runner.usage.sent == 2 and runner.backend.endpoint.startswith("transformers:")
    again = ChatRunner("teacher", runner.backend, ResponseCache(tmp_path / "cache.jsonl"), progress=False)
    assert [r.text for r in again.run([ChatRequest.from_prompt("my dog is Rex", cfg)])] == [out[0].text]
    assert again.usage.cache_hits == 1 and again.usage.sent == 0
