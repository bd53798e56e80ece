"""GPU check: time random-weight Mamba, Phi and hybrid (FalconH1) models, tiny and 2.8b-sized, on CUDA.

    python benchmarks/gpu_check.py [--sizes tiny 2.8b] [--lengths 1024 8192 32768] [--out gpu_check.json]

For each (size, architecture, prompt length): prefill and decode seconds (torch.cuda.synchronize() around every
clock read, one warm-up, median of --repeats) and peak GPU memory, through rwr.timing (the timing stage's
code). Exit status 1 when Mamba did not run on its fast kernels: mamba-ssm/causal-conv1d must import, and a
CUDA profile of a tiny Mamba prefill must show the selective-scan kernel (transformers otherwise falls back to
a reference scan silently, apart from one log line). Needs a CUDA machine; it exits 2 without one.
The 2.8b sizes follow state-spaces/mamba-2.8b-hf (64 layers, d_model 2560), microsoft/phi-2 (32 layers, 2560,
32 heads, partial rotary 0.4) and a FalconH1 of about the same size; weights are random, in bfloat16.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

import torch

from rwr.timing import time_length

# head_dim 80 as Phi-2, so its partial rotary (0.4) covers a whole, even number of dims.
SIZES = {"tiny": dict(hidden=320, layers=4, heads=4), "2.8b": dict(hidden=2560, layers=64, heads=32)}


def configs(size: str) -> dict:
    from transformers import FalconH1Config, MambaConfig, PhiConfig

    s = SIZES[size]
    h, n, heads = s["hidden"], s["layers"], s["heads"]
    vocab = 50280
    common = dict(vocab_size=vocab, eos_token_id=0, pad_token_id=0, bos_token_id=0)
    return {
        "mamba": MambaConfig(hidden_size=h, num_hidden_layers=n, state_size=16, expand=2, **common),
        "phi": PhiConfig(hidden_size=h, num_hidden_layers=n // 2, num_attention_heads=heads, intermediate_size=4 * h,
                         partial_rotary_factor=0.4, max_position_embeddings=2048, **common),
        "hybrid": FalconH1Config(hidden_size=h, num_hidden_layers=n // 2, num_attention_heads=heads // 2,
                                 num_key_value_heads=max(1, heads // 8), head_dim=2 * h // heads,
                                 intermediate_size=2 * h, mamba_d_ssm=2 * h, mamba_n_heads=2 * h // 64,
                                 mamba_d_head=64, mamba_d_state=64, mamba_n_groups=1,
                                 max_position_embeddings=262144, **common),
    }


class _Vocab:
    """What rwr.timing.random_prompt needs from a tokenizer."""

    def __init__(self, n: int) -> None:
        self.n, self.all_special_ids = n, [0]

    def __len__(self) -> int:
        return self.n


def mamba_kernels_ran(model) -> tuple[bool, list[str]]:
    """Profile one prefill; True when mamba-ssm's selective-scan CUDA kernel is among the kernels launched."""
    from torch.profiler import ProfilerActivity, profile

    ids = torch.randint(1, 1000, (1, 512), device="cuda")
    with torch.inference_mode(), profile(activities=[ProfilerActivity.CUDA]) as prof:
        model(ids)
        torch.cuda.synchronize()
    names = sorted({e.key for e in prof.key_averages()})
    return any("selective_scan" in k for k in names), [k for k in names if "scan" in k or "conv1d" in k]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", default=["tiny", "2.8b"], choices=list(SIZES))
    p.add_argument("--archs", nargs="+", default=["mamba", "phi", "hybrid"])
    p.add_argument("--lengths", nargs="+", type=int, default=[1024, 8192, 32768])
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="gpu_check.json")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not torch.cuda.is_available():
        print("gpu_check: needs a CUDA device", file=sys.stderr)
        return 2
    from transformers import AutoModelForCausalLM

    from rwr.models.fast_mamba import fast_path_report, require_cuda_kernels

    report: dict = {"device": torch.cuda.get_device_name(), "path": fast_path_report("cuda"), "rows": []}
    try:
        require_cuda_kernels("cuda")
    except RuntimeError as e:
        report["error"] = str(e)
    failed = "error" in report
    for size in args.sizes:
        for arch, cfg in configs(size).items():
            if arch not in args.archs or (failed and arch == "mamba"):
                continue
            with torch.device("cuda"):
                model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
            params = sum(x.numel() for x in model.parameters())
            if arch == "mamba":
                ran, kernels = mamba_kernels_ran(model)
                report[f"mamba_{size}_kernels"] = kernels
                if not ran:
                    report["error"] = f"Mamba ({size}) ran without the selective-scan CUDA kernel: {kernels}"
                    failed = True
                    continue
            for n in args.lengths:
                try:
                    row = time_length(model, _Vocab(cfg.vocab_size), n, args.new_tokens, 1, args.repeats, seed=0)
                except torch.OutOfMemoryError:
                    torch.cuda.empty_cache()
                    row = {"length": n, "skipped": "out of memory"}
                row.update(size=size, arch=arch, params=params)
                report["rows"].append(row)
                logging.info("%s", row)
            del model
            torch.cuda.empty_cache()
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))
    if failed:
        print(f"gpu_check: FAILED: {report['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
