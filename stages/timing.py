"""DVC stage `timing`: time per sample vs prompt length per system (Table 4 "Time"), scaling exponents.

Run as: python stages/timing.py --models models --out results/timing --png reports/scaling.png
Writes <out>/metrics.json (DVC metrics), <out>/ladder.json (DVC plot: total seconds vs length, a line per
system), <out>/prefill.json (the same for prefill only), <out>/points.json (every timed row) and the PNG.
"""

from pathlib import Path

import torch

from rwr.config import load_stage, to_dict
from rwr.io import atomic_path, write_json
from rwr.stage import parser, setup
from rwr.timing import arch_exponents, plot_png, time_systems, wide_ladder
from rwr.tracking import stage_run


def main() -> None:
    p = parser(__doc__)
    for arg in ("--models", "--out", "--png"):
        p.add_argument(arg, type=Path, required=True)
    args = p.parse_args()
    base, cfg = load_stage("timing")
    setup(base.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with stage_run("timing", base.profile, to_dict(cfg), base.experiment) as run:
        summary, points = time_systems(cfg.models, args.models, cfg.ladder, cfg.eval_lengths, cfg.new_tokens,
                                       cfg.warmup, cfg.repeats, cfg.seed, cfg.max_seconds, cfg.fit_min_length,
                                       device)
        metrics = {"systems": summary, "exponent_by_arch": arch_exponents(summary)}
        write_json(args.out / "metrics.json", metrics)
        write_json(args.out / "ladder.json", wide_ladder(points, "total_s"))
        write_json(args.out / "prefill.json", wide_ladder(points, "prefill_s"))
        write_json(args.out / "points.json", points)
        with atomic_path(args.png, suffix=".png") as tmp:
            plot_png(points, summary, tmp)
        run.log_metrics(metrics)
        run.log_artifact(args.png)


if __name__ == "__main__":
    main()
