"""DVC stage `pretrain@<model>`: a base model ("Mamba (Pre)") with its tokenizer.

Run as: python stages/pretrain.py --model mamba_pre --data data/raw/pretrain.jsonl --out models/mamba_pre \
            --ckpt ckpt/mamba_pre --metrics results/pretrain/mamba_pre/metrics.json
"""

from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.io import read_jsonl, write_json
from rwr.stage import parser, setup
from rwr.tracking import stage_run
from rwr.train.pretrain import pretrain


def main() -> None:
    p = parser(__doc__)
    for arg in ("--data", "--out", "--ckpt", "--metrics"):
        p.add_argument(arg, type=Path, required=True)
    p.add_argument("--model", required=True)
    args = p.parse_args()
    base, cfg = load_stage("pretrain")
    if args.model not in cfg.models:
        raise SystemExit(f"params.yaml: pretrain.models has no entry {args.model!r}")
    setup(base.threads)
    texts = [r["text"] for r in read_jsonl(args.data)]
    with stage_run("pretrain", base.profile, to_dict(cfg), base.experiment, item=args.model) as run:
        stats = pretrain(args.model, cfg, base, texts, args.out, args.ckpt, run)
        write_json(args.metrics, stats)
        run.log_metrics(stats)


if __name__ == "__main__":
    main()
