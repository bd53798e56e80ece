"""DVC stage `evaluate@<model>-<benchmark>`: predictions and metrics per answer mode.

Run as: python stages/evaluate.py --model mamba_rwr --benchmark longmemeval_s --models models --raw data/raw \
            --out results/mamba_rwr/longmemeval_s/predictions --metrics results/mamba_rwr/longmemeval_s/metrics.json
"""

import sys
from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.eval.benchmarks import benchmark_path
from rwr.eval.evaluate import evaluate
from rwr.io import write_json
from rwr.llm import BatchPending, LLMError
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def main() -> int:
    p = parser(__doc__)
    for arg in ("--models", "--raw", "--out", "--metrics"):
        p.add_argument(arg, type=Path, required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--benchmark", required=True)
    args = p.parse_args()
    base, cfg = load_stage("evaluate")
    setup(base.threads)
    item = f"{args.model}-{args.benchmark}"
    try:
        with stage_run("evaluate", base.profile, to_dict(cfg), base.experiment, item=item,
                       tags={"model": args.model, "benchmark": args.benchmark}) as run:
            results = evaluate(args.model, args.benchmark, cfg, base, args.models / args.model,
                               benchmark_path(args.raw, args.benchmark), args.out, run)
            write_json(args.metrics, results)
    except BatchPending as e:  # judge in batch mode: requests exported, no outputs yet
        print(f"evaluate: batch mode: {e}", file=sys.stderr)
        return 3
    except LLMError as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
