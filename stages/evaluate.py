"""DVC stage `evaluate@<model>` (and `evaluate_arch@<model>`): the model on each of its benchmarks
(evaluate.benchmarks, or evaluate.arch_benchmarks for evaluate.arch_models), predictions and metrics per answer
mode; one MLflow run per benchmark.

Run as: python stages/evaluate.py --model mamba_rwr --models models --raw data/raw \
            --out results/mamba_rwr/predictions --metrics results/mamba_rwr/metrics.json
"""

import sys
from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.eval.evaluate import evaluate_model
from rwr.io import write_json
from rwr.llm import BatchPending, LLMError
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def main() -> int:
    p = parser(__doc__)
    for arg in ("--models", "--raw", "--out", "--metrics"):
        p.add_argument(arg, type=Path, required=True)
    p.add_argument("--model", required=True)
    args = p.parse_args()
    base, cfg = load_stage("evaluate")
    setup(base.threads)
    params = to_dict(cfg)

    def open_run(benchmark: str):
        return stage_run("evaluate", base.profile, params, base.experiment, item=f"{args.model}-{benchmark}",
                         tags={"model": args.model, "benchmark": benchmark})

    try:
        results = evaluate_model(args.model, cfg, base, args.models / args.model, args.raw, args.out, open_run)
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
