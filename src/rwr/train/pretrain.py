"""The `pretrain` stage: a base model per spec. mini: tokenizer trained and model pre-trained from scratch
at the short pre-training length; paper: the released checkpoint loaded at its pinned revision."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from rwr.config import BaseConfig, PretrainConfig, to_dict
from rwr.fingerprint import fingerprint
from rwr.io import atomic_dir
from rwr.models.build import (
    build_model,
    count_params,
    load_pretrained,
    prepare_backend,
    save_model,
    train_tokenizer,
)
from rwr.tracking import StageRun, lightning_logger
from rwr.train.data import packed_lm_dataset
from rwr.train.module import CausalLMModule, ready_for_inference
from rwr.train.run import FitSettings, fit

log = logging.getLogger("rwr")


def pretrain(name: str, cfg: PretrainConfig, base: BaseConfig, texts: list[str], out_dir: Path, ckpt_dir: Path,
             run: StageRun) -> dict[str, Any]:
    spec = cfg.models[name]
    if spec.checkpoint:
        model, tok = load_pretrained(spec)
        with atomic_dir(out_dir) as tmp:
            save_model(model, tok, tmp)
        return {"params": count_params(model), "steps": 0, "source": spec.checkpoint}
    if not texts:
        raise ValueError(f"pretrain.models.{name}: no checkpoint set and no pre-training text in data")
    tok = train_tokenizer(texts, cfg.tokenizer)
    dataset = packed_lm_dataset(texts, tok, cfg.seq_len)
    run.set_tags(prepare_backend(torch.device("cpu")))

    def factory():
        return build_model(spec, tok, base.seed)

    max_steps = cfg.max_steps if spec.max_steps is None else spec.max_steps  # per-model budgets, if set
    max_minutes = cfg.max_minutes if spec.max_minutes is None else spec.max_minutes
    module = CausalLMModule(factory, lr=cfg.lr, warmup_steps=cfg.warmup_steps, max_steps=max_steps,
                            weight_decay=cfg.weight_decay)
    settings = FitSettings(batch_size=cfg.batch_size, max_steps=max_steps, max_minutes=max_minutes,
                           seed=base.seed, checkpoint_every=max(50, max_steps // 10), accelerator="cpu",
                           devices="1")
    key = fingerprint({"spec": to_dict(spec), "cfg": to_dict(cfg), "seed": base.seed, "n_texts": len(texts)})
    stats = fit(module, dataset, tok.pad_token_id, settings, ckpt_dir, key, lightning_logger(run, base.experiment))
    with atomic_dir(out_dir) as tmp:
        save_model(ready_for_inference(module.model), tok, tmp)
    return {**stats, "params": count_params(module.model), "vocab_size": len(tok), "blocks": len(dataset)}
