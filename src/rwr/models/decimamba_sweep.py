"""Pick DeciMamba's first decimating layer on a small dev set (the official `find_deci_layer`, fixed).

The official helper sweeps single-layer decimation over layers 8..24 and returns the position of the best one
in that list instead of the layer itself (8 too low); here the candidate *layer index* is returned. The score
is the mean negative log-likelihood of the dev responses with the prompt decimated (resp_len = response
tokens + 1, as the official training: the supervised tokens are never dropped); lower is better.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from statistics import mean

import torch
import torch.nn.functional as F

from rwr.models.decimamba import Decimation, decimated_backbone

Item = tuple[list[int], int]
"""(token ids of prompt + response, resp_len = response tokens + 1)."""


@torch.inference_mode()
def response_nll(model, items: Sequence[Item], dec: Decimation) -> float:
    """Mean per-token NLL of the responses with decimation `dec` (an empty layer list = vanilla Mamba)."""
    device = next(model.parameters()).device
    losses = []
    for ids, resp_len in items:
        x = torch.tensor([ids], device=device)
        hidden, _ = decimated_backbone(model, x, dec, resp_len)
        logits = model.lm_head(hidden[:, -resp_len:-1].to(model.lm_head.weight.dtype)).float()
        losses.append(float(F.cross_entropy(logits[0], x[0, len(ids) - resp_len + 1:])))
    return mean(losses) if losses else math.nan


def layers_from(first: int, count: int, n_layers: int) -> list[int]:
    """`count` consecutive decimating layers starting at `first`, clipped at the last layer."""
    return list(range(first, min(first + count, n_layers)))


def sweep_first_layer(model, items: Sequence[Item], candidates: Sequence[int], dec: Decimation, num_layers: int = 1,
                      score: Callable[..., float] = response_nll) -> tuple[int, dict[int, float]]:
    """(best first decimating layer, {candidate layer: score}); ties go to the earlier layer."""
    n_layers = model.config.num_hidden_layers
    bad = [c for c in candidates if not 0 <= c < n_layers]
    if not candidates or bad:
        raise ValueError(f"sweep candidates must be layer indices in [0, {n_layers}); got {list(candidates)}")
    scores = {c: score(model, items, replace(dec, decimating_layers=layers_from(c, num_layers, n_layers)))
              for c in candidates}
    best = min(candidates, key=lambda c: (scores[c], c))
    return best, scores
