"""DeciMamba (Ben-Kish et al., ICLR 2025) on transformers' MambaForCausalLM, any size, training-free.

In prefill only, each decimating layer scores the tokens by ‖Δ_t‖₂ over channels (Δ = softplus(dt + bias)),
keeps the top K = max(min(L_ctx, L_base·β^s), min_seq_len) of the first L_ctx = L − resp_len tokens in
positional order plus the last resp_len tokens, and drops the others from the scan *and* from the residual
stream, so every later layer sees the shorter sequence (assafbk/DeciMamba, selective_scan_interface.py
``get_non_decimated_indices`` and mixer_seq_simple.py). The decimating layer's conv state is cached from the
undecimated input, as in the official slow path; decoding then continues token by token from the states the
shortened prefill left (no decimation in recurrent mode). Runs on the project's CPU scan and on the CUDA
kernels alike: it only reorders calls to transformers' own conv and scan functions (rwr.models.mamba_ops).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from transformers import DynamicCache, MambaForCausalLM
from transformers.modeling_utils import slice_logits_to_keep
from transformers.models.mamba.modeling_mamba import MambaCausalLMOutput

from rwr.models.mamba_ops import block_residual, delta, is_prefill, mixer_inputs, mixer_scan


@dataclass
class Decimation:
    """DeciMamba's inference parameters (official names)."""

    decimating_layers: list[int] = field(default_factory=list)
    """0-based layer indices that decimate; s = a layer's position in this list."""
    beta: float = 0.5
    """Decay of the kept count from one decimating layer to the next."""
    L_base: int = 2000
    """Tokens kept by the first decimating layer (≈ the training length)."""
    min_seq_len: int = 20
    """Floor of the kept count."""


def keep_count(l_ctx: int, s: int, dec: Decimation) -> int:
    """K = max(min(L_ctx, L_base·β^s), min_seq_len), never more than L_ctx (the official topk would fail)."""
    return min(l_ctx, int(max(min(l_ctx, dec.L_base * dec.beta**s), dec.min_seq_len)))


def kept_indices(step: torch.Tensor, resp_len: int, s: int, dec: Decimation) -> torch.Tensor:
    """Positions kept by the s-th decimating layer, ascending. `step`: Δ after softplus, (1, d_inner, L).

    The top-K tokens by ‖Δ_t‖₂ among the first L − resp_len, then the last resp_len tokens (never dropped).
    """
    if step.shape[0] != 1:
        raise ValueError("DeciMamba decimates one sequence at a time (batch size 1, as the official code)")
    length = step.shape[-1]
    l_ctx = length - resp_len
    if l_ctx <= 0:
        return torch.arange(length, device=step.device)
    k = keep_count(l_ctx, s, dec)
    score = torch.linalg.vector_norm(step[0, :, :l_ctx].float(), ord=2, dim=0)
    top = torch.topk(score, k, largest=True, sorted=False).indices.sort().values
    return torch.cat([top, torch.arange(l_ctx, length, device=step.device)])


def decimated_backbone(model: MambaForCausalLM, input_ids: torch.Tensor | None, dec: Decimation,
                       resp_len: int = 1, cache=None, inputs_embeds: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Prefill through the backbone with decimation: (final normed hidden states (1, L', H), the original
    positions of the L' surviving tokens). The cache, if given, ends up holding the decimated states."""
    backbone = model.backbone
    h = backbone.embeddings(input_ids) if inputs_embeds is None else inputs_embeds
    positions = torch.arange(h.shape[1], device=h.device)
    for i, block in enumerate(backbone.layers):
        if i not in dec.decimating_layers:
            h = block(h, cache=cache)
            continue
        residual, normed = block_residual(block, h)
        scan_in = mixer_inputs(block.mixer, normed, cache)
        idx = kept_indices(delta(block.mixer, scan_in.dt), resp_len, dec.decimating_layers.index(i), dec)
        if idx.numel() < scan_in.length:  # otherwise nothing to drop: keep the stock tensors untouched
            scan_in, residual, positions = scan_in.select(idx), residual[:, idx], positions[idx]
        h = residual + mixer_scan(block.mixer, scan_in, cache, out_dtype=normed.dtype)
    return backbone.norm_f(h), positions


class DeciMambaForCausalLM(MambaForCausalLM):
    """MambaForCausalLM whose multi-token prefill decimates (`self.decimation`); every other call is stock.

    Loaded from any Mamba checkpoint with ``from_pretrained`` (the weights are unchanged), then
    ``model.decimation = Decimation(...)``. ``resp_len`` (default 1, as the official generation prefill) is the
    number of final tokens never dropped; logits are returned for the surviving positions only.
    """

    decimation: Decimation | None = None

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, cache=None, labels=None,
                output_hidden_states=None, return_dict=None, use_cache=None, logits_to_keep=0, resp_len: int = 1,
                **kwargs):
        length = (input_ids if input_ids is not None else inputs_embeds).shape[1]
        dec = self.decimation
        if dec is None or not dec.decimating_layers or labels is not None or not is_prefill(cache, length):
            return super().forward(input_ids=input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds,
                                   cache=cache, labels=labels, output_hidden_states=output_hidden_states,
                                   return_dict=return_dict, use_cache=use_cache, logits_to_keep=logits_to_keep,
                                   **kwargs)
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)
        hidden, _ = decimated_backbone(self, input_ids, dec, resp_len, cache if use_cache else None, inputs_embeds)
        hidden = slice_logits_to_keep(hidden, logits_to_keep)
        logits = self.lm_head(hidden.to(self.lm_head.weight.dtype)).float()
        return MambaCausalLMOutput(logits=logits, cache=cache if use_cache else None)
