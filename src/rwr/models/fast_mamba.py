"""Route transformers' Mamba-1 onto the project's exact CPU scan; insist on the real kernels on CUDA.

Patch point: the module-level names ``mamba_selective_scan`` and ``mamba_selective_state_update`` in
``transformers.models.mamba.modeling_mamba``. ``mamba_scan_forward`` (prefill, training and the cached
one-token step) looks both up as module globals at call time, whether or not the ``kernels`` package wrapped
them in hub-kernel modules, so swapping the globals reaches every path without touching ``MambaMixer``.
Each replacement checks the device: CPU tensors go to :mod:`rwr.models.cpu_scan`, anything else to the
original object (mamba-ssm on CUDA, or transformers' own fallback).

The depthwise causal conv (``causal_conv1d_fn``, ``causal_conv1d_update``) is also replaced on CPU by the same
math, padded on the left only (the reference pads both sides, then drops ``k - 1`` outputs), and
``mamba_inner_fn`` returns ``None`` on CPU as before: all without the hub wrappers' "falling back to the much
slower reference implementation" warnings, which would be wrong here.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F

from rwr.models import cpu_scan

log = logging.getLogger("rwr")

_PATCHED = (
    "mamba_selective_scan",
    "mamba_selective_state_update",
    "causal_conv1d_fn",
    "causal_conv1d_update",
    "mamba_inner_fn",
)
_ORIGINALS: dict[str, Any] = {}  # name -> transformers' object, filled on first install


def _mm():
    return importlib.import_module("transformers.models.mamba.modeling_mamba")


def _on_cpu(args: tuple, kwargs: dict) -> bool:
    """True when the first tensor argument lives on the CPU (the hub wrappers decide the same way)."""
    for a in (*args, *kwargs.values()):
        if isinstance(a, torch.Tensor):
            return a.device.type == "cpu"
    return False


def _cpu_causal_conv1d(hidden_states, weight, bias=None, activation=None, **kwargs):
    """Depthwise causal conv on CPU, same result as transformers' ``causal_conv1d_fn`` fallback.

    Pads only on the left, so F.conv1d produces exactly ``seq_len`` outputs instead of ``seq_len + k - 1``.
    """
    seq_len = hidden_states.shape[-1]
    x = F.pad(hidden_states.to(weight.dtype), (weight.shape[-1] - 1, 0))
    out = F.conv1d(x, weight.unsqueeze(1), bias, groups=hidden_states.shape[1])
    assert out.shape[-1] == seq_len
    return _activation(out, activation).to(hidden_states.dtype)


def _cpu_causal_conv1d_update(hidden_states, conv_state, weight, bias=None, activation=None):
    """Cached conv step on CPU: transformers' fallback math, minus its "much slower" warning.

    For one token the depthwise conv is a (d, k) dot product; F.conv1d's oneDNN call costs ~0.1 ms here.
    """
    seq_len = hidden_states.shape[-1]
    window = torch.cat([conv_state, hidden_states], dim=-1).to(weight.dtype)
    conv_state.copy_(window[:, :, -conv_state.shape[-1] :])
    if seq_len == 1 and window.shape[-1] >= weight.shape[-1]:
        out = (window[:, :, -weight.shape[-1] :] * weight).sum(-1, keepdim=True)
        out = out + bias[:, None] if bias is not None else out
    else:
        out = F.conv1d(window, weight.unsqueeze(1), bias, groups=hidden_states.shape[1])[:, :, -seq_len:]
    return _activation(out, activation).to(hidden_states.dtype)


def _activation(x: torch.Tensor, name: str | None) -> torch.Tensor:
    if name is None:
        return x
    if name in ("silu", "swish"):
        return F.silu(x)
    from transformers.activations import ACT2FN

    return ACT2FN[name](x)


def _make(name: str, cpu_impl: Callable) -> Callable:
    original = _ORIGINALS[name]

    def dispatch(*args, **kwargs):
        packed = kwargs.get("seq_idx") is not None or kwargs.get("cu_seqlens") is not None
        if _on_cpu(args, kwargs) and not packed:  # packed sequences: the original raises a clear error
            return cpu_impl(*args, **kwargs)
        return original(*args, **kwargs)

    dispatch.__name__ = dispatch.__qualname__ = f"rwr_{name}"
    dispatch.__doc__ = f"rwr CPU path for transformers' {name}; non-CPU inputs go to the original."
    dispatch._rwr_patched = True  # type: ignore[attr-defined]
    return dispatch


def _scan_cpu(*args, use_mambapy=False, use_associative_scan=False, **kwargs):
    """transformers' ``mamba_selective_scan`` signature; its torch-only scan options do not apply here."""
    return cpu_scan.selective_scan_cpu(*args, **kwargs)


def _state_update_cpu(state, x, dt, A, B, C, D=None, dt_bias=None, dt_softplus=False, z=None, **_):
    """transformers' ``mamba_selective_state_update`` signature (z comes after dt_softplus there)."""
    return cpu_scan.selective_state_update_cpu(state, x, dt, A, B, C, D, z, dt_bias, dt_softplus)


def _inner_fn_cpu(*args, **kwargs):
    return None  # no fused whole-mixer kernel on CPU: MambaMixer then runs conv + scan separately


_CPU_IMPLS: dict[str, Callable] = {
    "mamba_selective_scan": _scan_cpu,
    "mamba_selective_state_update": _state_update_cpu,
    "causal_conv1d_fn": _cpu_causal_conv1d,
    "causal_conv1d_update": _cpu_causal_conv1d_update,
    "mamba_inner_fn": _inner_fn_cpu,
}


def install_cpu_mamba() -> str:
    """Install the CPU path into transformers' Mamba (idempotent); returns the CPU scan backend name."""
    mm = _mm()
    for name in _PATCHED:
        current = getattr(mm, name)
        if getattr(current, "_rwr_patched", False):
            continue
        _ORIGINALS.setdefault(name, current)
        setattr(mm, name, _make(name, _CPU_IMPLS[name]))
    return cpu_scan.cpu_scan_backend()


def uninstall_cpu_mamba() -> None:
    """Restore transformers' original functions."""
    mm = _mm()
    for name, original in _ORIGINALS.items():
        setattr(mm, name, original)


@contextlib.contextmanager
def reference_mamba() -> Iterator[None]:
    """Temporarily run transformers' own (reference) Mamba code, e.g. to check the CPU path against it."""
    mm = _mm()
    saved = {name: getattr(mm, name) for name in _PATCHED}
    try:
        for name, original in _ORIGINALS.items():
            setattr(mm, name, original)
        yield
    finally:
        for name, obj in saved.items():
            setattr(mm, name, obj)


def _cuda_kernels_importable() -> tuple[bool, str]:
    """Whether mamba-ssm's selective scan and causal-conv1d import (defensively: they fail on CPU boxes)."""
    try:
        importlib.import_module("mamba_ssm.ops.selective_scan_interface")
        importlib.import_module("causal_conv1d")
    except Exception as exc:  # ImportError, or OSError/RuntimeError from a broken CUDA extension
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def require_cuda_kernels(device: str | torch.device | None = None) -> None:
    """Raise when CUDA is in use but mamba-ssm / causal-conv1d are missing (no silent slow path on GPU).

    ``device``: the device the run uses; ``None`` means "CUDA if available".
    """
    cuda = torch.device(device).type == "cuda" if device is not None else torch.cuda.is_available()
    if not cuda:
        return
    ok, why = _cuda_kernels_importable()
    if not ok:
        raise RuntimeError(
            "CUDA is available but the Mamba CUDA kernels cannot be imported "
            f"({why}). Install them with `pip install -e .[gpu]` (mamba-ssm, causal-conv1d); "
            "without them transformers silently falls back to a very slow reference scan."
        )


def fast_path_report(device: str | torch.device) -> dict[str, Any]:
    """Which Mamba scan a run on ``device`` uses, for tagging runs: mamba_scan, fast_kernels, device."""
    dev = torch.device(device)
    if dev.type == "cuda":
        ok, _ = _cuda_kernels_importable()
        return {
            "device": dev.type,
            "mamba_scan": "cuda-kernels" if ok else "torch-reference",
            "fast_kernels": ok,
        }
    if dev.type == "cpu":
        installed = getattr(getattr(_mm(), "mamba_selective_scan"), "_rwr_patched", False)
        backend = cpu_scan.cpu_scan_backend() if installed else "torch-reference"
        return {"device": "cpu", "mamba_scan": backend, "fast_kernels": backend == "fused-numba"}
    return {"device": dev.type, "mamba_scan": "torch-reference", "fast_kernels": False}
