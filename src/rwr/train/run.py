"""Run a Lightning fit with resumable checkpoints, a step budget and a wall-clock cap."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, RandomSampler

from rwr.train.data import Collator, LengthGroupedSampler, TokenizedDataset
from rwr.train.module import CausalLMModule

log = logging.getLogger("rwr")

FINGERPRINT = "fingerprint.json"


@dataclass
class FitSettings:
    """Trainer settings shared by pre-training and SFT."""

    batch_size: int
    max_steps: int
    max_minutes: float
    seed: int
    checkpoint_every: int = 100
    grad_clip: float = 1.0
    accumulate_grad_batches: int = 1
    precision: str = "32-true"
    accelerator: str = "auto"
    devices: str = "auto"
    strategy: str = "auto"
    num_nodes: int = 1
    log_every: int = 10
    group_by_length: bool = False


def resumable_checkpoint(ckpt_dir: Path, key: str) -> str | None:
    """last.ckpt if `ckpt_dir` holds an interrupted run of the *same* configuration, else None.

    Checkpoints of another configuration (e.g. after `dvc exp run -S train.lr=...`) are discarded: resuming
    them would silently mix two experiments.
    """
    fp = ckpt_dir / FINGERPRINT
    last = ckpt_dir / "last.ckpt"
    if fp.exists() and json.loads(fp.read_text()).get("key") == key and last.exists():
        log.info("resuming from %s", last)
        return str(last)
    if ckpt_dir.exists():
        shutil.rmtree(ckpt_dir)
    ckpt_dir.mkdir(parents=True)
    fp.write_text(json.dumps({"key": key}))
    return None


def _devices(value: str) -> Any:
    return int(value) if value.isdigit() else value


def fit(module: CausalLMModule, dataset: TokenizedDataset, pad_id: int, settings: FitSettings,
        ckpt_dir: str | Path, config_key: str, logger: Any = False) -> dict[str, Any]:
    """Train `module` for up to settings.max_steps optimizer steps; resume an interrupted run if any."""
    ckpt_dir = Path(ckpt_dir)
    resume = resumable_checkpoint(ckpt_dir, config_key)
    L.seed_everything(settings.seed, workers=True, verbose=False)
    n = settings.max_steps * settings.batch_size * settings.accumulate_grad_batches
    if settings.group_by_length:
        sampler = LengthGroupedSampler(dataset.lengths, settings.batch_size, n, settings.seed)
    else:
        sampler = RandomSampler(dataset, replacement=True, num_samples=n,
                                generator=torch.Generator().manual_seed(settings.seed))
    loader = DataLoader(dataset, batch_size=settings.batch_size, sampler=sampler, collate_fn=Collator(pad_id))
    checkpoint = ModelCheckpoint(dirpath=ckpt_dir, save_last=True, save_top_k=0,
                                 every_n_train_steps=settings.checkpoint_every)
    trainer = L.Trainer(
        max_steps=settings.max_steps, max_epochs=-1,
        max_time=dt.timedelta(minutes=settings.max_minutes) if settings.max_minutes > 0 else None,
        accelerator=settings.accelerator, devices=_devices(settings.devices), strategy=settings.strategy,
        num_nodes=settings.num_nodes, precision=settings.precision, gradient_clip_val=settings.grad_clip,
        accumulate_grad_batches=settings.accumulate_grad_batches, callbacks=[checkpoint], logger=logger,
        log_every_n_steps=min(settings.log_every, settings.max_steps), enable_model_summary=False,
        default_root_dir=str(ckpt_dir),
    )
    t0 = time.time()
    trainer.fit(module, loader, ckpt_path=resume)
    seconds = time.time() - t0
    loss = trainer.callback_metrics.get("train/loss")
    return {
        "steps": int(trainer.global_step),
        "final_loss": float(loss) if loss is not None else float("nan"),
        "train_seconds": round(seconds, 1),
        "resumed": resume is not None,
        "tokens_seen": int(module.tokens_seen),
        "stopped_by_time": bool(trainer.global_step < settings.max_steps),
    }
