"""ReMamba (Yuan et al., 2024) on transformers' MambaForCausalLM: selective compression and adaptation.

Prefill (and every training step) runs two passes (lblankl/ReMamba, Remambahf/src/model/ReMamba.py):

1. the stock backbone over the prompt; h = the final normed hidden states;
2. selective compression: in the span [st, st+m) (st = ⌊s·L⌋, m = ⌈p·L⌉) score h_i by cos(K_proj(h_i),
   Q_proj(h_{L-1})) against the last prompt token, keep the top K = ⌈m·ρ⌉ in positional order, and feed
   V_proj(h_selected) back as *inputs*: pass 2 sees [emb[:st], V_proj(h_sel), emb[st+m:]], L − m + K tokens;
3. selective adaptation: in every layer the pre-softplus dt at the K selected positions becomes
   dt·w + ret_bias (w = ReLU(score), ret_bias one zero-initialised vector per layer).

Q/K/V_proj are Linear → SiLU → Linear. Outputs are left-padded back to L with the input embeddings so logits
line up with the labels (the padded positions are prompt, never in the loss). Decoding continues from the
pass-2 cache with the stock one-token step. Training draws the span and ρ at random per batch (official
recipe, thresholds in params); inference uses p, ρ, s from the config (official: 0.18, 0.009, 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import DynamicCache, MambaConfig, MambaForCausalLM
from transformers.modeling_utils import slice_logits_to_keep
from transformers.models.mamba.modeling_mamba import MambaCausalLMOutput

from rwr.models.mamba_ops import block_residual, is_prefill, mixer_inputs, mixer_scan

IGNORE = -100

# Official values (LongBench/remamba/loopReMambahf.sh for inference, Remambahf ReMamba.py forward for training).
DEFAULTS: dict[str, Any] = {
    "p": 0.18, "rho": 0.009, "s": 0.0, "adapt": True,
    "train_long_prompt": 1600, "train_keep_tail": 1500, "train_span": [0.1, 0.3], "train_short_span": 0.1,
    "train_rho": [0.05, 0.2],
}


class ReMambaConfig(MambaConfig):
    """MambaConfig plus `remamba`, the ReMamba parameters (keys of DEFAULTS); saved in config.json."""

    model_type = "rwr_remamba"

    def __init__(self, remamba: dict[str, Any] | None = None, **kwargs) -> None:
        self.remamba = {**DEFAULTS, **(remamba or {})}
        super().__init__(**kwargs)


def _mlp(n: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n, n), nn.SiLU(), nn.Linear(n, n))


class ReMambaHead(nn.Module):
    """The modules ReMamba adds: Q/K/V projections and a per-layer dt bias for the selected positions."""

    def __init__(self, hidden: int, d_inner: int, n_layers: int) -> None:
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = _mlp(hidden), _mlp(hidden), _mlp(hidden)
        self.ret_bias = nn.Parameter(torch.zeros(n_layers, d_inner))

    def reset(self) -> None:
        """PyTorch's default Linear init, ret_bias = 0 (the official initialisation)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        with torch.no_grad():
            self.ret_bias.zero_()


@dataclass
class Plan:
    """Where to compress: the span [start, start+m), of which k tokens survive."""

    start: int
    m: int
    k: int


def inference_plan(length: int, p: float, rho: float, s: float) -> Plan:
    """st = ⌊s·L⌋, m = ⌈p·L⌉, K = ⌈m·ρ⌉; the span never reaches the last token (the query state)."""
    start = min(int(s * length), max(0, length - 1))
    m = max(0, min(math.ceil(p * length), length - 1 - start))
    return Plan(start, m, min(m, math.ceil(m * rho)) if m else 0)


def training_plan(prompt_len: int, cfg: dict[str, Any], gen: torch.Generator | None = None) -> Plan:
    """The official random compression: long prompts compress a random 10-30% head (leaving a tail of at least
    `train_keep_tail`), short ones 10%; ρ ~ U(train_rho); the span starts at 0."""

    def uniform(lo_hi: list[float]) -> float:
        lo, hi = lo_hi
        return lo + (hi - lo) * float(torch.rand((), generator=gen))

    if prompt_len > cfg["train_long_prompt"]:
        m = min(math.ceil(prompt_len * uniform(cfg["train_span"])), prompt_len - cfg["train_keep_tail"])
    else:
        m = max(1, math.ceil(cfg["train_short_span"] * prompt_len))
    m = max(0, min(m, prompt_len - 1))
    rho = uniform(cfg["train_rho"])
    return Plan(0, m, min(m, math.ceil(m * rho)) if m else 0)


def prompt_lengths(labels: torch.Tensor | None, attention_mask: torch.Tensor | None, length: int,
                   batch: int) -> list[int]:
    """Prompt length per row: the first supervised label (SFT masks the prompt with -100), else the row length."""
    out = []
    for b in range(batch):
        n = int(attention_mask[b].sum()) if attention_mask is not None else length
        if labels is not None:
            sup = (labels[b] != IGNORE).nonzero()
            n = int(sup[0]) if len(sup) else n
        out.append(max(1, n))
    return out


@dataclass
class Trace:
    """What a ReMamba prefill did (for tests and logging)."""

    first_pass: torch.Tensor | None
    """Pass 1's final normed states (dropped from `last_trace`: at 100k tokens they are ~1 GB)."""
    plan: Plan
    selected: torch.Tensor
    weights: torch.Tensor
    compressed_length: int


class ReMambaForCausalLM(MambaForCausalLM):
    """MambaForCausalLM + ReMamba's two-pass prefill; decoding steps are the stock ones."""

    config_class = ReMambaConfig

    def __init__(self, config: ReMambaConfig) -> None:
        super().__init__(config)
        self.remamba = ReMambaHead(config.hidden_size, config.intermediate_size, config.num_hidden_layers)
        self.remamba.reset()
        self.generator: torch.Generator | None = None  # training draws; None = torch's global RNG (seeded)
        self.last_trace: Trace | None = None

    @classmethod
    def from_mamba(cls, base: MambaForCausalLM, remamba: dict[str, Any] | None = None) -> ReMambaForCausalLM:
        """A ReMamba model holding a copy of `base`'s weights and freshly initialised ReMamba modules."""
        config = ReMambaConfig(remamba=remamba, **{k: v for k, v in base.config.to_dict().items()
                                                   if k not in ("model_type", "architectures", "transformers_version")})
        model = cls(config)
        missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
        if unexpected or any(not k.startswith("remamba.") for k in missing):
            raise ValueError(f"base model does not match: missing {missing}, unexpected {unexpected}")
        return model

    # -------------------------------------------------------------------------------------------- passes
    def _plan(self, prompt_lens: list[int]) -> Plan:
        cfg = self.config.remamba
        if self.training:
            return training_plan(min(prompt_lens), cfg, self.generator)
        return inference_plan(min(prompt_lens), cfg["p"], cfg["rho"], cfg["s"])

    def compress(self, emb: torch.Tensor, prompt_lens: list[int], plan: Plan
                 ) -> tuple[torch.Tensor, torch.Tensor, Trace]:
        """Pass 1 and selective compression: (pass-2 inputs, token weights (b, K), trace)."""
        h = self.backbone(inputs_embeds=emb, use_cache=False).last_hidden_state
        head = self.remamba
        h = h.to(head.q_proj[0].weight.dtype)
        rows = torch.arange(h.shape[0], device=h.device)
        q = head.q_proj(h[rows, torch.tensor(prompt_lens, device=h.device) - 1])
        span = h[:, plan.start:plan.start + plan.m]
        score = nn.functional.cosine_similarity(head.k_proj(span), q[:, None, :], dim=2, eps=1e-8)
        top, idx = torch.topk(score, plan.k, dim=1, sorted=False)
        idx, order = idx.sort(dim=1)
        weights = torch.relu(torch.gather(top, 1, order))
        selected = head.v_proj(torch.gather(span, 1, idx[..., None].expand(-1, -1, span.shape[-1])))
        x = torch.cat([emb[:, :plan.start], selected.to(emb.dtype), emb[:, plan.start + plan.m:]], dim=1)
        return x, weights, Trace(h, plan, idx, weights, x.shape[1])

    def second_pass(self, x: torch.Tensor, weights: torch.Tensor, plan: Plan, cache=None) -> torch.Tensor:
        """Every layer, with dt' = dt·w + ret_bias at the K selected positions (selective adaptation)."""
        a, b = plan.start, plan.start + plan.k
        adapt = self.config.remamba["adapt"] and plan.k > 0

        def layer(i: int, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
            block = self.backbone.layers[i]
            residual, normed = block_residual(block, h)
            scan_in = mixer_inputs(block.mixer, normed, cache)
            if adapt:
                dt = scan_in.dt
                mid = dt[..., a:b] * w[:, None, :].to(dt.dtype) + self.remamba.ret_bias[i][None, :, None]
                scan_in.dt = torch.cat([dt[..., :a], mid, dt[..., b:]], dim=-1)
            return residual + mixer_scan(block.mixer, scan_in, cache, out_dtype=normed.dtype)

        # Pass 1 runs the stock layers, which checkpoint themselves when enabled; pass 2 does it here.
        ckpt = self.training and self.backbone.gradient_checkpointing and cache is None
        h = x
        for i in range(len(self.backbone.layers)):
            h = checkpoint(layer, i, h, weights, use_reentrant=False) if ckpt else layer(i, h, weights)
        return self.backbone.norm_f(h)

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, cache=None, labels=None,
                output_hidden_states=None, return_dict=None, use_cache=None, logits_to_keep=0, **kwargs):
        length = (input_ids if input_ids is not None else inputs_embeds).shape[1]
        stock = dict(input_ids=input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds, cache=cache,
                     labels=labels, output_hidden_states=output_hidden_states, return_dict=return_dict,
                     use_cache=use_cache, logits_to_keep=logits_to_keep, **kwargs)
        if not (self.training or is_prefill(cache, length)):
            return super().forward(**stock)
        emb = self.backbone.embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        lens = prompt_lengths(labels, attention_mask, length, emb.shape[0])
        plan = self._plan(lens)
        if plan.m == 0:
            return super().forward(**stock)
        use_cache = False if self.training else (use_cache if use_cache is not None else self.config.use_cache)
        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)
        x, weights, trace = self.compress(emb, lens, plan)
        self.last_trace = None if self.training else replace(trace, first_pass=None)  # inspection; no big tensors
        h = self.second_pass(x, weights, plan, cache if use_cache else None)
        h = torch.cat([emb[:, :plan.m - plan.k].to(h.dtype), h], dim=1)  # left-pad back to L (official)
        logits = self.lm_head(slice_logits_to_keep(h, logits_to_keep).to(self.lm_head.weight.dtype)).float()
        loss = None
        if labels is not None:
            loss = self.loss_function(logits=logits, labels=labels, vocab_size=self.config.vocab_size, **kwargs)
        return MambaCausalLMOutput(loss=loss, logits=logits, cache=cache if use_cache else None)


def register() -> None:
    """Make AutoConfig/AutoModelForCausalLM load saved ReMamba directories (idempotent)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        AutoConfig.register(ReMambaConfig.model_type, ReMambaConfig)
        AutoModelForCausalLM.register(ReMambaConfig, ReMambaForCausalLM)
    except ValueError:  # already registered
        pass
