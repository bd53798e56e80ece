"""Timing: exponent fit, plot data, and a tiny end-to-end ladder on CPU (Mamba, Phi and the hybrid)."""

import pytest

from rwr.config import ModelSpec
from rwr.models.build import build_model, save_model
from rwr.timing import arch_exponents, plot_png, scaling_exponent, time_systems, wide_ladder


def test_scaling_exponent_recovers_power_laws():
    lin = [{"length": n, "total_s": 0.01 * n} for n in (100, 200, 400, 800)]
    quad = [{"length": n, "total_s": 1e-6 * n * n} for n in (100, 200, 400, 800)]
    assert scaling_exponent(lin) == pytest.approx(1.0, abs=1e-3)
    assert scaling_exponent(quad) == pytest.approx(2.0, abs=1e-3)
    assert scaling_exponent(quad + [{"length": 10, "total_s": 5.0}], min_length=100) == pytest.approx(2.0, abs=1e-3)
    assert scaling_exponent([{"length": 100, "skipped": "oom"}, {"length": 200, "total_s": 1.0}]) is None


def test_tiny_ladder_end_to_end(tmp_path, tiny_tokenizer):
    for name, arch in (("mamba", "mamba"), ("phi", "phi"), ("hybrid", "falcon_h1")):
        spec = ModelSpec(arch=arch, hidden_size=32, num_layers=2, state_size=4, num_heads=2, ssm_head_dim=16)
        save_model(build_model(spec, tiny_tokenizer, 0), tiny_tokenizer, tmp_path / name)
    summary, points = time_systems(["mamba", "phi", "hybrid"], tmp_path, [16, 32, 64], {"oracle": 24}, new_tokens=3,
                                   warmup=1, repeats=2, seed=0, max_seconds=0, fit_min_length=0, device="cpu")
    assert {s["arch"] for s in summary.values()} == {"mamba", "phi", "falcon_h1"}
    m = summary["mamba"]
    assert m["mamba_scan"] in ("fused-numba", "torch") and m["oracle_length"] == 24
    assert m["oracle_total_s"] >= m["oracle_prefill_s"] > 0 and m["exponent_total"] is not None
    rows = wide_ladder(points)
    assert [r["length"] for r in rows] == [16, 32, 64] and set(rows[0]) == {"length", "mamba", "phi", "hybrid"}
    assert set(arch_exponents(summary)) == {"mamba", "phi", "falcon_h1"}
    plot_png(points, summary, tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").stat().st_size > 1000


def test_gpu_check_configs_build_and_exit_without_cuda(monkeypatch):
    import importlib.util
    from pathlib import Path

    import torch
    from transformers import AutoModelForCausalLM

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    for arch, cfg in gpu_check.configs("tiny").items():
        model = AutoModelForCausalLM.from_config(cfg).eval()
        with torch.inference_mode():
            assert model(torch.randint(1, 100, (1, 8))).logits.shape == (1, 8, cfg.vocab_size), arch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == 2
