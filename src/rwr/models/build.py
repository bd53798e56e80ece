"""Build, load and save causal LMs and their tokenizers; models differ by config only.

mini: a byte-level BPE tokenizer trained with `tokenizers`, and tiny models built from a ModelSpec
(MambaForCausalLM, PhiForCausalLM, FalconH1ForCausalLM). paper: pretrained checkpoints loaded by id/path and
pinned revision (remote code only from rwr.models.remote's allowlist).
Every saved model directory holds its tokenizer, so a model directory is self-contained.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerFast

from rwr.config import ModelSpec, TokenizerSpec

log = logging.getLogger("rwr")

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def train_tokenizer(texts: Iterable[str], spec: TokenizerSpec) -> PreTrainedTokenizerFast:
    """Byte-level BPE (GPT-2 style) trained on `texts`, wrapped as a transformers fast tokenizer."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=spec.vocab_size, min_frequency=spec.min_frequency,
                            special_tokens=[EOS, PAD], show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS,
                                  pad_token=PAD, unk_token=None)
    tok.padding_side = "right"  # Mamba kernels ignore attention masks: pad on the right, mask labels.
    return tok


def build_model(spec: ModelSpec, tokenizer: PreTrainedTokenizerFast, seed: int) -> PreTrainedModel:
    """A randomly initialised model from `spec` (mini profile)."""
    torch.manual_seed(seed)
    common = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                  bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    if spec.arch == "mamba":
        from transformers import MambaConfig, MambaForCausalLM

        cfg = MambaConfig(hidden_size=spec.hidden_size, num_hidden_layers=spec.num_layers,
                          state_size=spec.state_size, expand=spec.expand, use_cache=True, **common)
        return MambaForCausalLM(cfg)
    if spec.arch == "phi":
        from transformers import PhiConfig, PhiForCausalLM

        cfg = PhiConfig(hidden_size=spec.hidden_size, num_hidden_layers=spec.num_layers,
                        num_attention_heads=spec.num_heads, intermediate_size=4 * spec.hidden_size,
                        max_position_embeddings=8192, **common)
        return PhiForCausalLM(cfg)
    if spec.arch == "falcon_h1":
        from transformers import FalconH1Config, FalconH1ForCausalLM

        d_ssm = spec.expand * spec.hidden_size
        heads = spec.num_heads
        cfg = FalconH1Config(hidden_size=spec.hidden_size, num_hidden_layers=spec.num_layers, num_attention_heads=heads,
                             num_key_value_heads=spec.num_kv_heads or heads, head_dim=spec.hidden_size // heads,
                             intermediate_size=4 * spec.hidden_size, mamba_d_ssm=d_ssm,
                             mamba_n_heads=d_ssm // spec.ssm_head_dim, mamba_d_head=spec.ssm_head_dim,
                             mamba_d_state=spec.state_size, mamba_n_groups=1, mamba_expand=spec.expand,
                             max_position_embeddings=8192, tie_word_embeddings=True, **common)
        return FalconH1ForCausalLM(cfg)
    raise ValueError(f"cannot build arch {spec.arch!r} from scratch; set 'checkpoint' to load one")


def load_pretrained(spec: ModelSpec) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A released checkpoint (paper profile): hub id or local directory, at a pinned revision."""
    kwargs = {"revision": spec.revision} if spec.revision else {}
    if spec.trust_remote_code:  # only allowlisted ids at reviewed, pinned revisions (rwr.models.remote)
        from rwr.models.remote import check_remote_code, compat_shims

        check_remote_code(spec.checkpoint, spec.revision)
        compat_shims()
        kwargs["trust_remote_code"] = True
    tok = AutoTokenizer.from_pretrained(spec.checkpoint, **kwargs)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    model = AutoModelForCausalLM.from_pretrained(spec.checkpoint, dtype=torch.float32, **kwargs)
    return model, tok


def save_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast, out_dir: str | os.PathLike) -> None:
    """Save weights and tokenizer into `out_dir` (callers wrap this in rwr.io.atomic_dir)."""
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def load_model(model_dir: str | os.PathLike, device: str | torch.device = "cpu"
               ) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """Load a saved model directory and route Mamba to the right scan (CPU path or CUDA kernels)."""
    from rwr.models.remamba import register
    from rwr.models.systems import load_system, read_system

    model_dir = Path(model_dir)
    system = read_system(model_dir)
    if system is not None:  # an inference-only system (DeciMamba) over a sibling model directory
        return load_system(model_dir, system, str(device))
    register()  # saved ReMamba models load through the Auto classes
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: not a saved model directory (no config.json)")
    prepare_backend(torch.device(device))
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    return model.to(device), load_tokenizer(model_dir)


def load_tokenizer(model_dir: str | os.PathLike) -> PreTrainedTokenizerFast:
    """The tokenizer saved with a model directory, padding on the right (Mamba ignores attention masks)."""
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "right"
    return tok


def prepare_backend(device: torch.device) -> dict[str, str]:
    """Install the project's CPU Mamba path, or require the CUDA kernels on GPU. Returns run tags."""
    from rwr.models.fast_mamba import fast_path_report, install_cpu_mamba, require_cuda_kernels

    if device.type == "cuda":
        require_cuda_kernels()
    else:
        install_cpu_mamba()
    return {k: str(v) for k, v in fast_path_report(device).items()}


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
