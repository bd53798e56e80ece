"""Transformers' Mamba-1 mixer split into its two halves, so DeciMamba and ReMamba can act between them.

``MambaMixer.forward`` runs in_proj -> causal conv -> x_proj/dt_proj -> selective scan -> out_proj in one call.
DeciMamba drops tokens after dt is known and before the scan; ReMamba edits dt at some positions before the
scan. ``mixer_inputs`` is everything up to the scan, ``mixer_scan`` the scan and out_proj. Both call
transformers' module-level functions (``causal_conv1d_forward``, ``mamba_scan_forward``) at call time, so the
project's CPU scan (rwr.models.fast_mamba) or the CUDA kernels (mamba-ssm, causal-conv1d) run underneath,
and the cache (conv and recurrent states) is read and written exactly as the stock mixer does it. The order of
operations is the stock one, so an unedited pass gives bit-identical results.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import torch


def _mm():
    return importlib.import_module("transformers.models.mamba.modeling_mamba")


@dataclass
class ScanInputs:
    """One mixer's scan inputs. u, dt, gate: (b, d_inner, L); B, C: (b, L, d_state); dt before bias+softplus."""

    u: torch.Tensor
    dt: torch.Tensor
    B: torch.Tensor
    C: torch.Tensor
    gate: torch.Tensor

    def select(self, idx: torch.Tensor) -> ScanInputs:
        """Keep the time steps `idx` (1-D, ascending) of every tensor."""
        return ScanInputs(self.u[..., idx], self.dt[..., idx], self.B[:, idx], self.C[:, idx], self.gate[..., idx])

    @property
    def length(self) -> int:
        return self.u.shape[-1]


def mixer_inputs(mixer, hidden_states: torch.Tensor, cache=None) -> ScanInputs:
    """MambaMixer.forward up to the scan (non-fused path): in_proj, conv (updates the conv cache), x_proj, dt."""
    mm = _mm()
    projected = mixer.in_proj(hidden_states).transpose(1, 2)
    u, gate = projected.chunk(2, dim=1)
    u = mm.causal_conv1d_forward(mixer.conv1d, u, cache, mixer.layer_idx, activation=mixer.activation)
    u = u.transpose(1, 2)
    dt, B, C = torch.split(mixer.x_proj(u), [mixer.time_step_rank, mixer.ssm_state_size, mixer.ssm_state_size],
                           dim=-1)
    dt = mixer.dt_proj.weight @ dt.transpose(1, 2)
    return ScanInputs(u.transpose(1, 2), dt, B, C, gate)


def mixer_scan(mixer, s: ScanInputs, cache=None, out_dtype: torch.dtype | None = None) -> torch.Tensor:
    """The selective scan (writes the recurrent state into the cache) and out_proj: (b, L, hidden)."""
    y = _mm().mamba_scan_forward(mixer, s.u, s.dt, s.B, s.C, s.gate, cache)
    return mixer.out_proj(y.transpose(1, 2).to(out_dtype or s.u.dtype))


def block_residual(block, hidden_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(residual, normed input of the mixer), as MambaBlock.forward computes them."""
    residual = hidden_states
    normed = block.norm(hidden_states.to(dtype=block.norm.weight.dtype))
    if block.residual_in_fp32:
        residual = residual.to(torch.float32)
    return residual, normed


def delta(mixer, dt: torch.Tensor) -> torch.Tensor:
    """Δ = softplus(dt + dt_proj.bias), (b, d_inner, L): the step size the scan applies."""
    return torch.nn.functional.softplus(dt.float() + mixer.dt_proj.bias.float()[:, None])


def is_prefill(cache, seq_len: int) -> bool:
    """True for a multi-token pass that starts from an empty state (no cache, or a cache never written)."""
    if seq_len <= 1:
        return False
    if cache is None:
        return True
    layers = getattr(cache, "layers", None)
    if not layers:
        return True
    return not any(getattr(layer, "has_previous_state", {}).get(0, False) for layer in layers)
