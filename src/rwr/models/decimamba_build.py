"""The `decimamba` stage: build the dev set, sweep the first decimating layer, write the system directory."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import torch

from rwr.config import DeciMambaSystem, PromptFormat
from rwr.formats import prompt_text
from rwr.io import atomic_dir
from rwr.models.decimamba import Decimation
from rwr.models.decimamba_sweep import Item, layers_from, response_nll, sweep_first_layer
from rwr.models.systems import load_decimamba, write_decimamba

log = logging.getLogger("rwr")


def dev_items(records: Sequence[dict[str, Any]], tokenizer, fmt: PromptFormat, n: int, length: int,
              seed: int) -> list[Item]:
    """Long dev inputs: each of the first `n` records keeps its own question last, after other records'
    questions (seeded order) prepended until the prompt is about `length` tokens; the response follows."""
    if len(records) < 2:
        raise ValueError("the DeciMamba sweep needs at least 2 dev records")
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    targets, pool = list(records[:n]), list(records)
    rng = random.Random(seed)
    items = []
    for rec in targets:
        fillers, total = [], count(prompt_text(rec, fmt))
        others = [r for r in pool if r is not rec]
        rng.shuffle(others)
        while total < length:
            q = others[len(fillers) % len(others)]["question"]
            fillers.append(q)
            total += count(q) + 1
        question = "\n\n".join([*fillers, rec["question"]])
        prompt = tokenizer(prompt_text({**rec, "question": question}, fmt), add_special_tokens=False)["input_ids"]
        response = tokenizer(rec["response"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        items.append((prompt + response, len(response) + 1))  # resp_len: response + its predictor token
    return items


def build_decimamba(name: str, spec: DeciMambaSystem, fmt: PromptFormat, records: list[dict[str, Any]],
                    models_dir: Path, out_dir: Path, seed: int) -> dict[str, Any]:
    """Sweep (unless the layers are given), write models/<name>/rwr_system.json; returns the metrics."""
    from rwr.models.build import prepare_backend

    base_dir = models_dir / spec.base
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tags = prepare_backend(torch.device(device))
    dec = Decimation(list(spec.decimating_layers), spec.beta, spec.L_base, spec.min_seq_len)
    metrics: dict[str, Any] = {"scan": tags.get("mamba_scan", ""), "swept": not spec.decimating_layers}
    if not spec.decimating_layers:
        model, tok = load_decimamba(base_dir, dec, device)
        model.eval()
        items = dev_items(records, tok, fmt, spec.sweep_items, spec.sweep_length, seed)
        n_layers = model.config.num_hidden_layers
        candidates = list(spec.sweep_layers) or list(range(n_layers))
        best, scores = sweep_first_layer(model, items, candidates, dec, spec.num_decimating_layers)
        dec.decimating_layers = layers_from(best, spec.num_decimating_layers, n_layers)
        metrics.update(first_layer=best, dev_items=len(items),
                       dev_prompt_tokens=round(mean(len(ids) - r for ids, r in items), 1),
                       vanilla_nll=round(response_nll(model, items, Decimation([])), 4),
                       best_nll=round(scores[best], 4), **{f"nll_layer_{k}": round(v, 4) for k, v in scores.items()})
        log.info("%s: sweep %s -> first decimating layer %d", name, scores, best)
    with atomic_dir(out_dir) as tmp:
        write_decimamba(tmp, spec.base, base_dir, dec, {"sweep": metrics})
    return {**metrics, "decimating_layers": dec.decimating_layers, "L_base": dec.L_base, "beta": dec.beta,
            "min_seq_len": dec.min_seq_len}
