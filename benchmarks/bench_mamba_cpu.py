"""CPU benchmark: transformers' reference Mamba scan vs our exact torch / fused paths vs a transformer.

Prints one side-by-side table: per-token training time (forward + backward, batch 8) and prefill time (no
grad, batch 1) for Mamba (hidden 128, 4 layers, state 16, expand 2) with each scan path, and a same-size Phi.
A cell whose estimated single step exceeds --max-cell-seconds is skipped; estimates extrapolate the same
method's last two lengths with a power law, at least quadratic for the reference training step (its backward
is O(L^2)) and at least linear otherwise. Long cells get fewer repeats so each stays within that budget.

    PYTHONPATH=src python benchmarks/bench_mamba_cpu.py            # full table (~10 min on 2 cores)
    PYTHONPATH=src python benchmarks/bench_mamba_cpu.py --train 256 1024 --prefill 2048 --reps 2
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import time
from collections.abc import Callable

import torch
from transformers import MambaConfig, MambaForCausalLM, PhiConfig, PhiForCausalLM
from transformers.utils import logging as hf_logging

from rwr.models import cpu_scan, fast_mamba

VOCAB = 2000
METHODS = ["mamba-reference", "mamba-torch", "mamba-fused", "phi-transformer"]


def build_models(max_len: int) -> tuple[MambaForCausalLM, PhiForCausalLM]:
    torch.manual_seed(0)
    mamba = MambaForCausalLM(
        MambaConfig(vocab_size=VOCAB, hidden_size=128, num_hidden_layers=4, state_size=16, expand=2)
    )
    phi = PhiForCausalLM(
        PhiConfig(
            vocab_size=VOCAB,
            hidden_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            intermediate_size=512,
            max_position_embeddings=max_len,
        )
    )
    return mamba, phi


def method_context(method: str) -> contextlib.AbstractContextManager:
    if method == "mamba-reference":
        return fast_mamba.reference_mamba()
    if method == "mamba-torch":
        return cpu_scan.use_scan_backend("torch")
    if method == "mamba-fused":
        return cpu_scan.use_scan_backend("fused-numba")
    return contextlib.nullcontext()


def train_step(model: torch.nn.Module, ids: torch.Tensor) -> None:
    model.train()
    model(input_ids=ids, labels=ids).loss.backward()
    model.zero_grad(set_to_none=True)


def prefill(model: torch.nn.Module, ids: torch.Tensor) -> None:
    model.eval()
    with torch.no_grad():
        model(input_ids=ids, use_cache=True, logits_to_keep=1)


def measure(fn: Callable[[], None], reps: int, warmup: bool) -> float:
    if warmup:
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def estimate(history: list[tuple[int, float]], length: int, min_power: float) -> float | None:
    """Seconds for one step at `length`, extrapolated from the same method's measurements with a power law:
    exponent fitted to the last two points (clamped to [min_power, 3]), or min_power from a single point."""
    if not history:
        return None
    (l1, t1) = history[-1]
    power = min_power
    if len(history) >= 2:
        (l0, t0) = history[-2]
        power = min(3.0, max(min_power, math.log(t1 / t0) / math.log(l1 / l0)))
    return t1 * (length / l1) ** power


def run_row(kind: str, length: int, batch: int, models: dict, args, history: dict) -> dict[str, str]:
    """One table row: every method at one (kind, length). `history` maps (kind, method) to measurements."""
    row = {}
    ids = torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(length))
    step = train_step if kind == "train" else prefill
    for method in args.methods:
        model = models["phi" if method.startswith("phi") else "mamba"]
        hist = history.setdefault((kind, method), [])
        est = estimate(hist, length, 2.0 if (method == "mamba-reference" and kind == "train") else 1.0)
        if est is not None and est > args.max_cell_seconds:
            row[method] = f"skipped (est. {est:.0f}s)"
            continue
        reps, warm = args.reps, True
        if est is not None:  # keep the cell within budget: fewer repeats, then no warm-up
            reps = max(1, min(reps, int(args.max_cell_seconds // max(est, 1e-9))))
            warm = est * (reps + 1) <= args.max_cell_seconds
        with method_context(method):
            sec = measure(lambda m=model: step(m, ids), reps, warm)
        hist.append((length, sec))
        per_tok = sec / (batch * length) * 1e6
        row[method] = f"{per_tok:8.1f} us/tok ({sec:6.2f}s)"
        row["_" + method] = sec
    if "_mamba-fused" in row and "_phi-transformer" in row:
        row["fused/phi"] = f"{row['_mamba-fused'] / row['_phi-transformer']:.2f}x"
    return row


def probe_reference(models: dict, args, history: dict) -> None:
    """Time the reference training step at two small lengths, so the first real cell can be estimated."""
    if "mamba-reference" not in args.methods or not args.train:
        return
    hist = history.setdefault(("train", "mamba-reference"), [])
    with fast_mamba.reference_mamba():
        for length in (32, 64):
            ids = torch.randint(0, VOCAB, (8, length))
            hist.append((length, measure(lambda i=ids: train_step(models["mamba"], i), 1, True)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, nargs="*", default=[256, 1024, 4096], help="train lengths (batch 8)")
    p.add_argument("--prefill", type=int, nargs="*", default=[2048, 8192, 32768], help="prefill lengths")
    p.add_argument("--reps", type=int, default=3, help="timed repeats per cell (median reported)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-cell-seconds", type=float, default=60.0, help="skip cells estimated to take longer")
    p.add_argument("--methods", nargs="*", default=METHODS, choices=METHODS)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()  # the reference path warns about its own slowness on every run
    backend = fast_mamba.install_cpu_mamba()
    if backend != "fused-numba" and "mamba-fused" in args.methods:
        print(f"fused path unavailable (backend: {backend}); dropping it")
        args.methods = [m for m in args.methods if m != "mamba-fused"]
    models = {}
    models["mamba"], models["phi"] = build_models(max(args.train + args.prefill + [2048]))
    n_params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    attn = models["phi"].config._attn_implementation
    print(f"threads={args.threads} reps={args.reps} backend={backend} phi attention={attn} params={n_params}")

    history: dict = {}
    probe_reference(models, args, history)
    rows = []
    for kind, lengths, batch in (("train", args.train, 8), ("prefill", args.prefill, 1)):
        for length in sorted(lengths):
            row = run_row(kind, length, batch, models, args, history)
            rows.append((f"{kind} b={batch} L={length}", row))
            print(f"  done {rows[-1][0]}", flush=True)

    width, cols = 28, [*args.methods, "fused/phi"]
    print("\n" + "cell".ljust(22) + "".join(m.ljust(width) for m in cols))
    for name, row in rows:
        print(name.ljust(22) + "".join(row.get(m, "-").ljust(width) for m in cols))


if __name__ == "__main__":
    main()
