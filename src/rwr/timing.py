"""Time per sample vs prompt length (paper Table 4 "Time", and a ladder beyond the paper's 100k).

One call = prefill of a random prompt of L tokens + `new_tokens` greedy decoding steps (EOS ignored, so every
system decodes the same count), through `model.generate` exactly as the evaluation runs it (so DeciMamba's
and ReMamba's prefills are timed too). Per (system, length): `warmup` untimed calls, then the median of
`repeats` timed ones, with torch.cuda.synchronize() around every clock read on GPU. Prefill = time to the
first new token; decode = the rest. Peak memory: torch.cuda.max_memory_allocated on GPU (reset per length);
on CPU the process's resident-set high-water mark (monotone over the run, so an upper bound). The scaling
exponent b of time ≈ a·L^b is a least-squares fit in log-log space.
"""

from __future__ import annotations

import logging
import math
import resource
import time
from collections.abc import Sequence
from statistics import median
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

log = logging.getLogger("rwr")


class _FirstToken(StoppingCriteria):
    """Reads the clock when the first new token exists (after a device sync): the end of prefill."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.at = device, None

    def __call__(self, input_ids, scores, **kwargs):
        if self.at is None:
            sync(self.device)
            self.at = time.perf_counter()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def random_prompt(tokenizer, length: int, seed: int) -> torch.Tensor:
    """(1, length) token ids drawn uniformly from the non-special vocabulary (seeded)."""
    special = set(tokenizer.all_special_ids)
    pool = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    g = torch.Generator().manual_seed(seed)
    return pool[torch.randint(len(pool), (1, length), generator=g)]


@torch.inference_mode()
def time_call(model, ids: torch.Tensor, new_tokens: int) -> tuple[float, float]:
    """(prefill seconds, decode seconds) of one generate call."""
    device = next(model.parameters()).device
    ids = ids.to(device)
    clock = _FirstToken(device)
    sync(device)
    t0 = time.perf_counter()
    model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                   do_sample=False, stopping_criteria=StoppingCriteriaList([clock]),
                   pad_token_id=model.config.eos_token_id)
    sync(device)
    t1 = time.perf_counter()
    first = clock.at if clock.at is not None else t1
    return first - t0, t1 - first


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def time_length(model, tokenizer, length: int, new_tokens: int, warmup: int, repeats: int, seed: int
                ) -> dict[str, Any]:
    """Median prefill/decode/total seconds and peak memory at one prompt length."""
    device = next(model.parameters()).device
    ids = random_prompt(tokenizer, length, seed)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(warmup):
        time_call(model, ids, new_tokens)
    runs = [time_call(model, ids, new_tokens) for _ in range(repeats)]
    prefill, decode = median(r[0] for r in runs), median(r[1] for r in runs)
    total = median(r[0] + r[1] for r in runs)
    return {"length": length, "prefill_s": round(prefill, 5), "decode_s": round(decode, 5),
            "total_s": round(total, 5), "peak_mem_mb": peak_memory_mb(device), "repeats": repeats}


def ladder(model, tokenizer, lengths: Sequence[int], new_tokens: int, warmup: int, repeats: int, seed: int,
           max_seconds: float = 0.0) -> list[dict[str, Any]]:
    """time_length over ascending lengths; once a run exceeds max_seconds (or CUDA runs out of memory), the
    longer lengths are recorded as skipped."""
    rows, stop = [], ""
    for n in sorted(lengths):
        if stop:
            rows.append({"length": n, "skipped": stop})
            continue
        try:
            row = time_length(model, tokenizer, n, new_tokens, warmup, repeats, seed)
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            rows.append({"length": n, "skipped": "out of memory"})
            stop = "after out of memory"
            continue
        rows.append(row)
        log.info("length %d: prefill %.3fs decode %.3fs", n, row["prefill_s"], row["decode_s"])
        if max_seconds and row["total_s"] > max_seconds:
            stop = f"previous length took more than {max_seconds}s"
    return rows


def scaling_exponent(rows: Sequence[dict[str, Any]], key: str = "total_s", min_length: int = 0) -> float | None:
    """b of key ≈ a·length^b (least squares on logs) over the timed rows with length >= min_length."""
    pts = [(math.log(r["length"]), math.log(r[key])) for r in rows
           if r.get(key) and r[key] > 0 and r["length"] >= min_length]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / sxx, 3) if sxx else None


def architecture(model) -> str:
    """Family label used to group exponents: decimamba, remamba, mamba, phi, falcon_h1, hymba, ..."""
    if getattr(model, "decimation", None) is not None:
        return "decimamba"
    kind = getattr(model.config, "model_type", "") or type(model).__name__
    return {"rwr_remamba": "remamba"}.get(kind, kind)


def time_systems(models: Sequence[str], models_dir, lengths: Sequence[int], eval_lengths: dict[str, int],
                 new_tokens: int, warmup: int, repeats: int, seed: int, max_seconds: float, fit_min_length: int,
                 device: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """({system: summary}, every timed row). On CUDA, prepare_backend refuses to run without the Mamba
    kernels; each summary records which scan path ran."""
    from pathlib import Path

    from rwr.models.build import load_model, prepare_backend

    tags = prepare_backend(torch.device(device))
    summary: dict[str, Any] = {}
    points: list[dict[str, Any]] = []
    for name in models:
        model, tok = load_model(Path(models_dir) / name, device)
        model.eval()
        arch = architecture(model)
        log.info("timing %s (%s) on %s", name, arch, device)
        evals = {k: time_length(model, tok, n, new_tokens, warmup, repeats, seed) for k, n in eval_lengths.items()}
        rows = ladder(model, tok, lengths, new_tokens, warmup, repeats, seed, max_seconds)
        points += [{"model": name, "arch": arch, "where": "ladder", **r} for r in rows]
        points += [{"model": name, "arch": arch, "where": k, **r} for k, r in evals.items()]
        summary[name] = {
            "arch": arch, "device": tags["device"], "mamba_scan": tags["mamba_scan"],
            "fast_kernels": tags["fast_kernels"] == "True", "new_tokens": new_tokens,
            "exponent_total": scaling_exponent(rows, "total_s", fit_min_length),
            "exponent_prefill": scaling_exponent(rows, "prefill_s", fit_min_length),
            **{f"{k}_{m}": r[m] for k, r in evals.items() for m in ("total_s", "prefill_s", "decode_s", "length")},
            "max_length_timed": max((r["length"] for r in rows if "total_s" in r), default=0),
        }
        del model
    return summary, points


def arch_exponents(summary: dict[str, Any]) -> dict[str, float]:
    """Mean fitted total-time exponent per architecture."""
    groups: dict[str, list[float]] = {}
    for s in summary.values():
        if s.get("exponent_total") is not None:
            groups.setdefault(s["arch"], []).append(s["exponent_total"])
    return {a: round(sum(v) / len(v), 3) for a, v in groups.items()}


def wide_ladder(points: Sequence[dict[str, Any]], key: str = "total_s") -> list[dict[str, Any]]:
    """Rows {length, <system>: seconds} (None where skipped) for one DVC plot with a line per system."""
    models = sorted({p["model"] for p in points})
    by_len: dict[int, dict[str, Any]] = {}
    for p in points:
        if p["where"] == "ladder":
            by_len.setdefault(p["length"], {"length": p["length"], **dict.fromkeys(models)})[p["model"]] = p.get(key)
    return [by_len[n] for n in sorted(by_len)]


def plot_png(points: Sequence[dict[str, Any]], summary: dict[str, Any], path) -> None:
    """Log-log time per sample vs prompt length, one line per system, fitted exponent in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in sorted({p["model"] for p in points}):
        rows = sorted((p for p in points if p["model"] == name and p["where"] == "ladder" and p.get("total_s")),
                      key=lambda p: p["length"])
        if rows:
            b = summary[name].get("exponent_total")
            label = f"{name} ({summary[name]['arch']}, b={b})"
            ax.plot([r["length"] for r in rows], [r["total_s"] for r in rows], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("prompt length (tokens)")
    ax.set_ylabel("seconds per sample (prefill + decode)")
    ax.set_title("Time vs length; b = fitted exponent of time ~ L^b")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
