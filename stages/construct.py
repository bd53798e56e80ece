"""DVC stage `construct`: RwR summary-CoT data (D_f, D_e) and the two training sets (sft, rwr).

Run as: python stages/construct.py --orca data/raw/orca.jsonl --out data/sft --metrics results/construct/metrics.json
"""

from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.construct.build import construct, mix
from rwr.data.orca import load_orca, write_orca
from rwr.io import atomic_dir, write_json
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def main() -> None:
    p = parser(__doc__)
    for arg in ("--orca", "--out", "--metrics"):
        p.add_argument(arg, type=Path, required=True)
    args = p.parse_args()
    base, cfg = load_stage("construct")
    setup(base.threads)
    orca = load_orca(args.orca)
    with stage_run("construct", base.profile, to_dict(cfg), base.experiment) as run:
        summaries, empties, counts = construct(orca[: cfg.n_orca], cfg, base.format, base.seed)
        sft, rwr = mix(orca, summaries, empties, cfg.n_orca, base.seed)
        with atomic_dir(args.out) as tmp:
            write_orca(tmp / "summary.jsonl", summaries)
            write_orca(tmp / "empty.jsonl", empties)
            write_orca(tmp / "sft.jsonl", sft)
            write_orca(tmp / "rwr.jsonl", rwr)
        stats = {**counts, "summary": len(summaries), "empty": len(empties), "sft_set": len(sft), "rwr_set": len(rwr)}
        write_json(args.metrics, stats)
        run.log_metrics(stats)
        run.set_tags({"construct.teacher": cfg.teacher, "construct.verifier": cfg.verifier})
        run.log_table(summaries[:20] + empties[:5], "tables/construct_samples.json")


if __name__ == "__main__":
    main()
