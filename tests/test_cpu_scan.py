"""Exactness of the CPU Mamba scan (fused numba and torch paths) against transformers' reference math."""

from __future__ import annotations

import logging

import pytest
import torch
from transformers import MambaConfig, MambaForCausalLM
from transformers.models.mamba import modeling_mamba as mm

from rwr.models import cpu_scan, fast_mamba

TOL = 1e-5  # max abs diff, fp32
FUSED = cpu_scan.cpu_scan_backend() == "fused-numba"
NEEDS_NUMBA = pytest.mark.skipif(not FUSED, reason="fused numba kernels unavailable")
BACKENDS = [
    pytest.param(cpu_scan.selective_scan_fused, id="fused", marks=NEEDS_NUMBA),
    pytest.param(cpu_scan.selective_scan_torch, id="torch"),
]


def _reference(name: str):
    """transformers' own function (its CPU fallback), even while install_cpu_mamba() is active."""
    with fast_mamba.reference_mamba():
        return getattr(mm, name)


def _inputs(b: int, d: int, nl: int, n: int, seed: int, softplus: bool = True) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    delta = torch.randn(b, d, nl, generator=g) * 0.5 - 1.0  # softplus -> dt ~ 0.3
    return {
        "u": torch.randn(b, d, nl, generator=g),
        "delta": delta if softplus else torch.nn.functional.softplus(delta),  # dt > 0 either way
        "A": -torch.exp(torch.randn(d, n, generator=g) * 0.5),
        "B": torch.randn(b, n, nl, generator=g),
        "C": torch.randn(b, n, nl, generator=g),
        "D": torch.randn(d, generator=g),
        "z": torch.randn(b, d, nl, generator=g),
        "delta_bias": torch.randn(d, generator=g) * 0.1,
    }


def _run(fn, inp, use, softplus, last):
    """Output, last state and the gradients of every used input for a fixed random linear loss."""
    xs = {k: (v.clone().requires_grad_() if k in use else None) for k, v in inp.items()}
    res = fn(
        xs["u"],
        xs["delta"],
        xs["A"],
        xs["B"],
        xs["C"],
        xs["D"],
        xs["z"],
        xs["delta_bias"],
        delta_softplus=softplus,
        return_last_state=last,
    )
    out, state = res if last else (res, None)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(1)) * 0.25  # keeps |grad| <~ 15
    loss = (out * w).sum() + (state.sum() if last else 0.0)
    loss.backward()
    return {"out": out, "state": state, **{k: x.grad for k, x in xs.items() if x is not None}}


SHAPES = [(2, 3, 1, 4), (2, 5, 67, 16), (1, 8, 130, 16), (3, 4, 129, 8)]  # L=1, odd L, > 2 chunks
OPTIONS = [  # (inputs used, delta_softplus, return_last_state)
    ({"u", "delta", "A", "B", "C"}, False, False),
    ({"u", "delta", "A", "B", "C", "D", "z", "delta_bias"}, True, False),
    ({"u", "delta", "A", "B", "C", "D", "z", "delta_bias"}, True, True),
    ({"u", "delta", "A", "B", "C", "D"}, True, True),
]


@pytest.mark.parametrize("fn", BACKENDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("opt", OPTIONS, ids=["plain", "full", "full+state", "D+state"])
def test_scan_matches_reference(fn, shape, opt):
    use, softplus, last = opt
    inp = _inputs(*shape, seed=sum(shape), softplus=softplus)
    ref = _run(_reference("mamba_selective_scan"), inp, use, softplus, last)
    got = _run(fn, inp, use, softplus, last)
    assert got.keys() == ref.keys()
    for k, r in ref.items():
        if r is None:
            continue
        assert got[k].shape == r.shape and got[k].dtype == r.dtype, k
        assert (got[k] - r).abs().max().item() <= TOL, (k, (got[k] - r).abs().max().item())


@NEEDS_NUMBA
def test_expf_accuracy():
    """The kernels' hand-written vectorisable exp is within ~2 ulp everywhere, edge cases included."""
    import numpy as np
    from numba import njit

    @njit
    def apply(x, out):
        for i in range(x.size):
            out[i] = cpu_scan._expf(x[i])

    x = np.concatenate(
        [
            np.linspace(-110, 90, 200001, dtype=np.float32),
            np.array(
                [0.0, -0.0, np.inf, -np.inf, np.nan, 88.72, 88.73, -87.3, -103.9, -1e30, 1e30],
                np.float32,
            ),
        ]
    )
    out = np.empty_like(x)
    apply(x, out)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = np.exp(x.astype(np.float64))  # float64 overflows only for x = 1e30, as wanted
        ok = np.isclose(out, ref, rtol=2.5e-7, atol=1e-44) | (np.isnan(out) & np.isnan(ref))
        ok |= np.isinf(out) & (ref > np.finfo(np.float32).max)
    assert ok.all(), x[~ok][:10]


@pytest.mark.parametrize("fused", [pytest.param(True, marks=NEEDS_NUMBA), False])
@pytest.mark.parametrize("opts", [(True,) * 4, (False,) * 4], ids=["full", "bare"])
def test_state_update_matches_reference(fused, opts, monkeypatch):
    use_d, use_z, use_bias, softplus = opts
    if not fused:
        monkeypatch.setattr(cpu_scan, "_FORCED", "torch")
    g = torch.Generator().manual_seed(3)
    b, d, n = 3, 6, 16
    state = torch.randn(b, d, n, generator=g)
    args = [
        torch.randn(b, d, generator=g),
        torch.randn(b, d, generator=g) * 0.5 - 1,
        -torch.exp(torch.randn(d, n, generator=g) * 0.5),
        torch.randn(b, n, generator=g),
        torch.randn(b, n, generator=g),
    ]
    kw = {
        "D": torch.randn(d, generator=g) if use_d else None,
        "z": torch.randn(b, d, generator=g) if use_z else None,
        "dt_bias": torch.randn(d, generator=g) if use_bias else None,
        "dt_softplus": softplus,
    }
    s_ref, s_got = state.clone(), state.clone()
    ref = _reference("mamba_selective_state_update")(s_ref, *args, **kw)
    got = cpu_scan.selective_state_update_cpu(s_got, *args, **kw)
    assert (got - ref).abs().max() <= TOL and (s_got - s_ref).abs().max() <= TOL


# ---------------------------------------------------------------------------------------------------------
# Whole model: transformers' MambaForCausalLM with and without install_cpu_mamba()
# ---------------------------------------------------------------------------------------------------------
def _tiny_model(seed: int = 0) -> MambaForCausalLM:
    torch.manual_seed(seed)
    cfg = MambaConfig(
        vocab_size=64,
        hidden_size=32,
        num_hidden_layers=2,
        state_size=16,
        expand=2,
        conv_kernel=4,
        eos_token_id=None,
        pad_token_id=0,
    )
    return MambaForCausalLM(cfg)


def _logits_and_grads(model, ids):
    model.zero_grad()
    out = model(input_ids=ids, labels=ids)
    out.loss.backward()
    return out.logits.detach(), {k: p.grad.clone() for k, p in model.named_parameters()}


@pytest.mark.parametrize("backend", [pytest.param("fused-numba", marks=NEEDS_NUMBA), "torch"])
def test_model_logits_and_grads_match_reference(backend):
    model = _tiny_model()
    model.train()
    ids = torch.randint(0, 64, (2, 37), generator=torch.Generator().manual_seed(5))
    assert fast_mamba.install_cpu_mamba() in ("fused-numba", "torch")
    assert fast_mamba.install_cpu_mamba() == cpu_scan.cpu_scan_backend()  # idempotent
    with fast_mamba.reference_mamba():
        ref_logits, ref_grads = _logits_and_grads(model, ids)
    with cpu_scan.use_scan_backend(backend):
        logits, grads = _logits_and_grads(model, ids)
    assert (logits - ref_logits).abs().max() <= TOL
    for k, r in ref_grads.items():
        assert (grads[k] - r).abs().max() <= TOL, k


def test_cached_generate_matches_full_forwards():
    model = _tiny_model(seed=1).eval()
    fast_mamba.install_cpu_mamba()
    prompt = torch.randint(1, 64, (2, 9), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        gen = model.generate(prompt, max_new_tokens=12, do_sample=False, use_cache=True)
        ids = prompt
        for _ in range(12):  # no cache: each token from a full forward over the whole prefix
            nxt = model(input_ids=ids, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            ids = torch.cat([ids, nxt], dim=1)
        with fast_mamba.reference_mamba():
            ref_gen = model.generate(prompt, max_new_tokens=12, do_sample=False, use_cache=True)
    assert torch.equal(gen, ids)
    assert torch.equal(gen, ref_gen)


def test_non_cpu_inputs_go_to_the_original(monkeypatch):
    fast_mamba.install_cpu_mamba()
    calls = []
    original = lambda *a, **k: calls.append(a) or "orig"  # noqa: E731
    monkeypatch.setitem(fast_mamba._ORIGINALS, "mamba_selective_scan", original)
    dispatch = fast_mamba._make("mamba_selective_scan", lambda *a, **k: "cpu")
    meta = torch.empty(1, 2, 3, device="meta")
    assert dispatch(meta, meta) == "orig" and len(calls) == 1
    assert dispatch(torch.zeros(1), torch.zeros(1)) == "cpu"


def test_require_cuda_kernels_raises_without_kernels(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(fast_mamba, "_cuda_kernels_importable", lambda: (False, "ImportError: no mamba_ssm"))
    with pytest.raises(RuntimeError, match="mamba-ssm"):
        fast_mamba.require_cuda_kernels()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    fast_mamba.require_cuda_kernels()  # no CUDA: nothing required


def test_fast_path_report_cpu():
    backend = fast_mamba.install_cpu_mamba()
    rep = fast_mamba.fast_path_report("cpu")
    assert rep["mamba_scan"] == backend and rep["fast_kernels"] == (backend == "fused-numba")


def test_numba_failure_falls_back_with_one_log_line(monkeypatch, caplog):
    monkeypatch.setattr(cpu_scan, "_BACKEND", None)
    monkeypatch.setattr(cpu_scan, "_NUMBA_ERROR", ImportError("No module named 'numba'"))
    with caplog.at_level(logging.INFO, logger="rwr"):
        assert cpu_scan.cpu_scan_backend() == "torch"
        assert cpu_scan.cpu_scan_backend() == "torch"
    lines = [r for r in caplog.records if r.name == "rwr"]
    assert len(lines) == 1 and "torch path" in lines[0].getMessage() and "numba" in lines[0].getMessage()


@pytest.mark.parametrize("seq_len", [1, 5])
def test_causal_conv_matches_reference(seq_len):
    fast_mamba.install_cpu_mamba()
    g = torch.Generator().manual_seed(11)
    x, w, bias = (
        torch.randn(2, 6, seq_len, generator=g),
        torch.randn(6, 4, generator=g),
        torch.randn(6, generator=g),
    )
    state = torch.randn(2, 6, 4, generator=g)
    s_ref, s_got = state.clone(), state.clone()
    ref = _reference("causal_conv1d_update")(x, s_ref, w, bias, activation="silu")
    got = mm.causal_conv1d_update(x, s_got, w, bias, activation="silu")
    assert (got - ref).abs().max() <= TOL and torch.equal(s_got, s_ref)
    ref = _reference("causal_conv1d_fn")(x, w, bias, activation="silu")
    assert (mm.causal_conv1d_fn(x, w, bias, activation="silu") - ref).abs().max() <= TOL
