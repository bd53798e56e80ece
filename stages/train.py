"""DVC stage `train@<variant>`: SFT of a base model on one training set (prompt tokens masked).

Run as: python stages/train.py --variant mamba_rwr --data data/sft/rwr.jsonl --base models/mamba_pre \
            --out models/mamba_rwr --ckpt ckpt/mamba_rwr --metrics results/train/mamba_rwr/metrics.json
"""

from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.data.orca import load_orca
from rwr.io import write_json
from rwr.stage import parser, setup
from rwr.tracking import stage_run
from rwr.train.sft import finetune


def main() -> None:
    p = parser(__doc__)
    for arg in ("--data", "--base", "--out", "--ckpt", "--metrics"):
        p.add_argument(arg, type=Path, required=True)
    p.add_argument("--variant", required=True)
    args = p.parse_args()
    base, cfg = load_stage("train")
    if args.variant not in cfg.variants:
        raise SystemExit(f"params.yaml: train.variants has no entry {args.variant!r}")
    setup(base.threads)
    records = load_orca(args.data)
    params = {k: v for k, v in to_dict(cfg).items() if k != "variants"}
    params["variant"] = to_dict(cfg.variants[args.variant])
    with stage_run("train", base.profile, params, base.experiment, item=args.variant) as run:
        stats = finetune(args.variant, cfg, base, records, args.base, args.out, args.ckpt, run)
        write_json(args.metrics, stats)
        run.log_metrics(stats)


if __name__ == "__main__":
    main()
