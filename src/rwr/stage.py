"""Glue shared by the stage scripts: logging, threads, argument parsing."""

from __future__ import annotations

import argparse
import logging
import os

import torch


def setup(threads: int = 0) -> None:
    logging.basicConfig(level=os.environ.get("RWR_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("transformers", "httpx", "httpx2", "alembic", "mlflow"):  # openai logs each request
        logging.getLogger(noisy).setLevel(logging.WARNING)
    import transformers

    transformers.logging.set_verbosity_error()  # e.g. per-call "falling back to PyTorch" notices
    if threads > 0:
        torch.set_num_threads(threads)


def parser(description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=description)
