"""The one LightningModule for every causal LM: Mamba, Phi, hybrids differ only by the model they wrap."""

from __future__ import annotations

import math
from collections.abc import Callable

import lightning as L
import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from rwr.train.data import IGNORE


def warmup_cosine(warmup: int, total: int, floor: float = 0.1) -> Callable[[int], float]:
    """Linear warm-up, then cosine decay to `floor` x the peak learning rate."""

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


def sequence_mean_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over each example's target tokens, then over the examples that have any: every
    example weighs the same whatever its response length (the token mean lets long responses dominate)."""
    per_token = F.cross_entropy(logits.transpose(1, 2).float(), targets, ignore_index=IGNORE, reduction="none")
    counts = (targets != IGNORE).sum(1)
    has = counts > 0
    return (per_token.sum(1)[has] / counts[has]).mean()


class CausalLMModule(L.LightningModule):
    """Causal-LM training on batches with `labels` (-100 = no loss): pre-training and SFT alike.

    The model is built by `model_factory` in `configure_model`, the hook Lightning calls once per process
    (also under FSDP, where the model is then sharded), before any checkpoint is restored.
    """

    def __init__(self, model_factory: Callable[[], PreTrainedModel], lr: float, warmup_steps: int,
                 max_steps: int, weight_decay: float = 0.0, gradient_checkpointing: bool = False,
                 loss_normalization: str = "token") -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["model_factory"])
        self.model_factory = model_factory
        self.model: PreTrainedModel | None = None
        self.tokens_seen = 0

    def configure_model(self) -> None:
        if self.model is not None:
            return
        self.model = self.model_factory()
        self.model.train()  # from_pretrained returns eval mode; dropout (Phi, hybrids) must be live in training
        self.model.config.use_cache = False
        if self.hparams.gradient_checkpointing:
            self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        labels = batch["labels"]
        # Project to the vocabulary only where some row has a target: in SFT the prompt (~99% of the tokens)
        # carries no loss, and the lm_head + softmax over every position was ~17% of a mini Mamba step. The
        # loss is the same token mean (shift_labels holds the targets of the kept positions).
        keep = (labels[:, 1:] != IGNORE).any(0).nonzero().squeeze(1)
        targets = labels[:, keep + 1]
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels,
                         shift_labels=targets, logits_to_keep=keep, use_cache=False)
        loss = out.loss if self.hparams.loss_normalization == "token" else sequence_mean_loss(out.logits, targets)
        self.tokens_seen += int(batch["attention_mask"].sum())
        self.log("train/loss", loss, prog_bar=True, on_step=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def configure_optimizers(self):
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            if not p.requires_grad:
                continue
            # SSM dynamics (A_log, D), norms and biases are not weight-decayed, as in mamba_ssm.
            (no_decay if p.ndim < 2 or name.endswith(("A_log", "D")) else decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": self.hparams.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=self.hparams.lr,
                                betas=(0.9, 0.95))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(self.hparams.warmup_steps,
                                                                     self.hparams.max_steps))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["rwr_tokens_seen"] = self.tokens_seen

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.tokens_seen = checkpoint.get("rwr_tokens_seen", 0)


def ready_for_inference(model: PreTrainedModel) -> PreTrainedModel:
    """Undo configure_model's `use_cache = False` before saving: a saved model must decode with its cache (a
    generation config saved with use_cache False makes generate re-run the whole prompt at every token)."""
    model.config.use_cache = True
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.use_cache = True
    return model
