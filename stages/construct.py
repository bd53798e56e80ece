"""DVC stage `construct`: RwR summary-CoT data (D_f, D_e) and the two training sets (sft, rwr).

Run as: python stages/construct.py --orca data/raw/orca.jsonl --out data/sft
        --metrics results/construct/metrics.json
"""

import sys
from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.construct.pipeline import run_construct
from rwr.data.orca import load_orca
from rwr.llm import BatchPending, LLMError
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def main() -> int:
    p = parser(__doc__)
    for arg in ("--orca", "--out", "--metrics"):
        p.add_argument(arg, type=Path, required=True)
    args = p.parse_args()
    base, cfg = load_stage("construct")
    setup(base.threads)
    orca = load_orca(args.orca)
    try:
        with stage_run("construct", base.profile, to_dict(cfg), base.experiment) as run:
            run_construct(orca, base, cfg, args.out, args.metrics, run)
    except BatchPending as e:  # not a failure of the data, but the stage has no outputs yet
        print(f"construct: batch mode: {e}", file=sys.stderr)
        return 3
    except LLMError as e:
        print(f"construct: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
