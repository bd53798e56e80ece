"""The `train` stage: supervised fine-tuning of a base model on one training set (loss on responses only)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from rwr.config import BaseConfig, TrainConfig, to_dict
from rwr.fingerprint import dir_fingerprint, fingerprint
from rwr.io import atomic_dir
from rwr.models.build import load_model, load_tokenizer, prepare_backend, save_model
from rwr.tracking import StageRun, lightning_logger
from rwr.train.data import sft_dataset
from rwr.train.module import CausalLMModule, ready_for_inference
from rwr.train.run import FitSettings, fit

log = logging.getLogger("rwr")


def finetune(variant: str, cfg: TrainConfig, base: BaseConfig, records: list[dict], base_dir: Path,
             out_dir: Path, ckpt_dir: Path, run: StageRun) -> dict[str, Any]:
    on_gpu = torch.cuda.is_available() and cfg.accelerator in ("auto", "gpu", "cuda")
    device = "cuda" if on_gpu else "cpu"
    tok = load_tokenizer(base_dir)  # the weights are loaded once, by the module's factory
    run.set_tags(prepare_backend(torch.device(device)))
    dataset = sft_dataset(records, tok, base.format, cfg.max_len)

    spec = cfg.variants[variant]
    max_steps = cfg.max_steps if spec.max_steps is None else spec.max_steps
    max_minutes = cfg.max_minutes if spec.max_minutes is None else spec.max_minutes

    def factory():
        model, _ = load_model(base_dir, "cpu")
        if spec.method == "remamba":  # ReMamba's modules on the Mamba base, trained with its random compression
            from rwr.models.remamba import ReMambaForCausalLM

            model = ReMambaForCausalLM.from_mamba(model, asdict(spec.remamba))
        return model

    module = CausalLMModule(factory, lr=cfg.lr, warmup_steps=cfg.warmup_steps, max_steps=max_steps,
                            weight_decay=cfg.weight_decay, gradient_checkpointing=cfg.gradient_checkpointing,
                            loss_normalization=cfg.loss_normalization)
    settings = FitSettings(batch_size=cfg.batch_size, max_steps=max_steps, max_minutes=max_minutes,
                           seed=base.seed, checkpoint_every=cfg.checkpoint_every, grad_clip=cfg.grad_clip,
                           accumulate_grad_batches=cfg.accumulate_grad_batches, precision=cfg.precision,
                           accelerator=cfg.accelerator if on_gpu else "cpu", devices=cfg.devices if on_gpu else "1",
                           strategy=cfg.strategy, num_nodes=cfg.num_nodes, group_by_length=cfg.group_by_length)
    key = fingerprint({"variant": to_dict(cfg.variants[variant]), "cfg": {k: v for k, v in to_dict(cfg).items()
                                                                          if k != "variants"},
                       "seed": base.seed, "records": fingerprint(records), "format": to_dict(base.format),
                       "base_model": dir_fingerprint(base_dir)})
    stats = fit(module, dataset, tok.pad_token_id, settings, ckpt_dir, key, lightning_logger(run, base.experiment))
    with atomic_dir(out_dir) as tmp:
        save_model(ready_for_inference(module.model), tok, tmp)
    return {**stats, "examples": len(dataset), "mean_tokens": round(sum(dataset.lengths) / len(dataset), 1),
            "max_tokens": max(dataset.lengths)}
