"""Command line of the chat layer.

Run as: python -m rwr.llm import-batch RESULTS --requests REQUESTS --cache cache/llm/construct.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rwr.io import DataError
from rwr.llm.batch import import_batch
from rwr.llm.cache import ResponseCache
from rwr.llm.errors import LLMError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rwr.llm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    imp = sub.add_parser("import-batch", help="add a Batch results file to the response cache")
    imp.add_argument("results", type=Path, help="output of OpenAI Batch or `vllm run-batch`")
    imp.add_argument("--requests", type=Path, required=True, help="the exported request file")
    imp.add_argument(
        "--cache", type=Path, required=True, help="the response cache (params: construct.llm_cache)"
    )
    args = p.parse_args(argv)
    try:
        counts = import_batch(args.results, args.requests, ResponseCache(args.cache))
    except (DataError, LLMError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(dict(counts), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
