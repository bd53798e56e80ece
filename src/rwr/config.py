"""Typed stage configurations, loaded from params.yaml through OmegaConf structured configs.

Each DVC stage reads the shared ``base`` section plus its own section. Both are merged onto a dataclass
schema, so an unknown or mistyped key (or a value of the wrong type) stops the stage with an error that names
the file and the full key, before any output is touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

T = TypeVar("T")

PARAMS_FILE = "params.yaml"


class ConfigError(ValueError):
    """A params file that does not match its stage schema; the message names the file and key."""


# --------------------------------------------------------------------------------------------- base
@dataclass
class PromptFormat:
    """How records become model text; shared by construction, training and evaluation."""

    chat_template: str = "{system}\n\n### User:\n{question}\n\n### Assistant:\n"
    """Wraps an OpenOrca-style (system_prompt, question) pair into the model prompt; the response follows."""
    system_prompt: str = "You are a helpful assistant that remembers past chats with the user."
    """System prompt written into generated SFT records and used when an item has none."""
    note_prompt: str = "Please extract a note relevant to the query:"
    """RwR cue (the paper's teacher prompt tail); replaces the trailing answer cue of a question."""
    answer_cue: str = "Answer:"
    """Marks the final answer: ends direct prompts, and follows the note in RwR targets."""
    empty_note: str = "empty"
    """The note written when the context lacks the answer (the paper's 'empty' summary)."""
    empty_answer: str = "The information is not mentioned in the chat history."
    """The answer that follows an empty note."""


@dataclass
class BaseConfig:
    """Settings shared by every stage."""

    profile: str = "mini"
    """'mini' (CPU, synthetic data, tiny models) or 'paper' (GPUs, real checkpoints and data)."""
    seed: int = 1234
    """Global seed; each stage derives its own generators from it."""
    experiment: str = "rwr"
    """MLflow experiment name."""
    threads: int = 0
    """torch CPU threads (0 = leave torch's default)."""
    format: PromptFormat = field(default_factory=PromptFormat)

    def __post_init__(self) -> None:
        if self.profile not in ("mini", "paper"):
            raise ValueError(f"base.profile must be 'mini' or 'paper', got {self.profile!r}")


# --------------------------------------------------------------------------------------------- data
@dataclass
class SyntheticHistory:
    """Shape of a synthetic chat history (mini profile)."""

    sessions: list[int] = field(default_factory=lambda: [2, 4])
    """Inclusive [min, max] number of sessions per history."""
    turns: list[int] = field(default_factory=lambda: [2, 3])
    """Inclusive [min, max] user/assistant exchanges per session."""
    distractor_rate: float = 0.25
    """Probability that a filler turn states a fact about some other attribute."""
    echo_rate: float = 0.5
    """Probability that the assistant restates a fact the user just gave (teaches copying in pre-training)."""


@dataclass
class DataConfig:
    """The `data` stage: raw inputs in their real formats (generated in mini, real sources in paper)."""

    source: str = "synthetic"
    """'synthetic' (generators, mini) or 'real' (OpenOrca via datasets, local LongMemEval files)."""
    n_orca_train: int = 6000
    """OpenOrca-style SFT records to write (synthetic) or keep (real)."""
    n_orca_dev: int = 100
    """Held-out in-distribution records at the fine-tuning length (synthetic only)."""
    n_pretrain_docs: int = 20000
    """Synthetic chat documents for pre-training the tiny base models (mini only)."""
    orca_history: SyntheticHistory = field(default_factory=SyntheticHistory)
    """Histories inside SFT questions (the fine-tuning length)."""
    pretrain_history: SyntheticHistory = field(default_factory=lambda: SyntheticHistory(sessions=[1, 2]))
    """Histories in pre-training documents (the short pre-training length)."""
    lme_per_type: int = 16
    """LongMemEval questions per question type (synthetic)."""
    lme_abstention_types: list[str] = field(
        default_factory=lambda: ["single-session-user", "multi-session", "knowledge-update", "temporal-reasoning"]
    )
    """Types that get abstention (`_abs`) items, as in the real benchmark."""
    lme_abstention_per_type: int = 2
    """`_abs` items per type listed above (counted inside the type)."""
    lme_oracle_turns: list[int] = field(default_factory=lambda: [5, 7])
    """Exchanges per evidence session in the oracle variant (evidence sessions only)."""
    lme_s_sessions: int = 40
    """Sessions per history in the S variant (evidence hidden among distractor sessions)."""
    lme_s_turns: list[int] = field(default_factory=lambda: [3, 5])
    """Exchanges per session in the S variant."""
    real_orca_dataset: str = "Open-Orca/OpenOrca"
    """datasets id or local file (json/jsonl/parquet) for OpenOrca (source=real)."""
    real_orca_split: str = "train"
    """Split to read from the OpenOrca dataset (source=real)."""
    real_longmemeval_oracle: str = ""
    """Local path of longmemeval_oracle(.json) (source=real)."""
    real_longmemeval_s: str = ""
    """Local path of longmemeval_s(.json) (source=real)."""

    def __post_init__(self) -> None:
        if self.source not in ("synthetic", "real"):
            raise ValueError(f"data.source must be 'synthetic' or 'real', got {self.source!r}")


# ----------------------------------------------------------------------------------------- pretrain
@dataclass
class ModelSpec:
    """A model architecture (mini: built from config and pre-trained) or a checkpoint (paper)."""

    arch: str = "mamba"
    """'mamba' (MambaForCausalLM), 'phi' (PhiForCausalLM) or 'hf' (any checkpoint via Auto classes)."""
    checkpoint: str = ""
    """Hub id or local path; when set, weights are loaded instead of pre-trained from scratch."""
    revision: str = ""
    """Pinned revision for `checkpoint` (paper profile)."""
    hidden_size: int = 128
    num_layers: int = 4
    state_size: int = 16
    """Mamba SSM state size N."""
    expand: int = 2
    """Mamba intermediate size = expand * hidden_size."""
    num_heads: int = 4
    """Attention heads (transformer archs)."""


@dataclass
class TokenizerSpec:
    """Byte-level BPE trained on the pre-training text (mini) or loaded with the checkpoint (paper)."""

    vocab_size: int = 2048
    min_frequency: int = 2


@dataclass
class PretrainConfig:
    """The `pretrain` stage: tokenizer + base models ("Mamba (Pre)")."""

    models: dict[str, ModelSpec] = field(default_factory=lambda: {"mamba_pre": ModelSpec()})
    """Output model name -> spec; each is written to models/<name>."""
    tokenizer: TokenizerSpec = field(default_factory=TokenizerSpec)
    seq_len: int = 128
    """Pre-training context length (the analogue of Mamba's 2k)."""
    batch_size: int = 16
    max_steps: int = 1500
    max_minutes: float = 4.0
    """Wall-clock budget per model; training stops at whichever of max_steps/max_minutes comes first."""
    lr: float = 3e-3
    warmup_steps: int = 50
    weight_decay: float = 0.1


# ---------------------------------------------------------------------------------------- construct
@dataclass
class ConstructConfig:
    """The `construct` stage: RwR summary-CoT data (paper section 3.1) and the training mixes."""

    teacher: str = "offline-extractive"
    """Teacher backend; 'offline-extractive' picks the query-relevant sentences of the context."""
    verifier: str = "offline-containment"
    """Verifier backend; 'offline-containment' keeps a note iff it contains the normalized gold answer."""
    query_markers: list[str] = field(default_factory=lambda: ["\nQuestion:", "\nQ:"])
    """The last occurrence of any marker splits an OpenOrca question into context and query."""
    min_context_chars: int = 200
    """Records whose context is shorter are not 'background context' and are dropped."""
    max_note_sentences: int = 2
    """Offline teacher: number of context sentences kept in a note."""
    n_summary: int = 1500
    """Summary records (D_f) to keep, at most."""
    n_empty: int = 300
    """Empty-summary records (D_e) to keep, at most."""
    n_orca: int = 6000
    """OpenOrca records in both training sets (the paper: 100,000)."""


# -------------------------------------------------------------------------------------------- train
@dataclass
class TrainVariant:
    """One fine-tuned model: which base model and which training set."""

    base: str = "mamba_pre"
    """Base model name (a directory under models/)."""
    data: str = "sft"
    """Training set name (data/sft/<data>.jsonl): 'sft' (OpenOrca only) or 'rwr' (OpenOrca + D_s)."""


@dataclass
class TrainConfig:
    """The `train` stage: causal-LM SFT with prompt tokens masked out of the loss."""

    variants: dict[str, TrainVariant] = field(default_factory=dict)
    """Output model name -> variant (a DVC foreach over this dict)."""
    max_len: int = 384
    """Training examples are truncated to this many tokens (paper: 6,000)."""
    batch_size: int = 8
    lr: float = 2e-3
    warmup_steps: int = 20
    weight_decay: float = 0.0
    max_steps: int = 1000
    max_minutes: float = 5.0
    """Wall-clock budget; training stops at whichever of max_steps/max_minutes comes first."""
    grad_clip: float = 1.0
    accumulate_grad_batches: int = 1
    checkpoint_every: int = 100
    """Steps between resumable checkpoints in ckpt/<variant>."""
    precision: str = "32-true"
    """Lightning precision: '32-true' on CPU, 'bf16-mixed' on GPU."""
    accelerator: str = "auto"
    devices: str = "auto"
    """Lightning devices ('auto', a count, or a list as a string)."""
    strategy: str = "auto"
    """'auto', 'ddp' or 'fsdp' for multi-GPU / multi-node."""
    num_nodes: int = 1
    gradient_checkpointing: bool = False


# ----------------------------------------------------------------------------------------- evaluate
@dataclass
class EvaluateConfig:
    """The `evaluate` stage: models x benchmarks, each in its answer modes."""

    models: list[str] = field(default_factory=lambda: ["mamba_pre", "mamba_sft", "mamba_rwr"])
    """Models to evaluate (directories under models/); a DVC matrix axis."""
    benchmarks: list[str] = field(default_factory=lambda: ["orca_dev", "longmemeval_oracle", "longmemeval_s"])
    """Benchmarks (data/raw/<name>.*); a DVC matrix axis."""
    modes: dict[str, list[str]] = field(default_factory=dict)
    """Model -> answer modes ('direct' or 'rwr'); each mode writes its own predictions and metrics."""
    judge: str = "offline"
    """'offline': normalized answer containment, abstention by marker phrases."""
    abstention_markers: list[str] = field(
        default_factory=lambda: ["not mentioned", "no information", "not enough information", "unknown",
                                 "did not mention", "cannot be determined", "empty"]
    )
    """Offline judge: an `_abs` item counts as correct when the response contains one of these."""
    max_new_tokens: int = 48
    max_prompt_tokens: int = 0
    """Truncate longer prompts by keeping the front of the history, as LongMemEval does (0 = no limit)."""
    limit: int = 0
    """Evaluate only the first N items of each benchmark (0 = all)."""
    history_format: str = "json"
    """LongMemEval session rendering: 'json' (the official default) or 'nl'."""


# -------------------------------------------------------------------------------------------- report
@dataclass
class ReportConfig:
    """The `report` stage: tables rendered from metrics files only."""

    rows: dict[str, str] = field(default_factory=dict)
    """Table row label -> '<model>/<mode>' whose metrics fill the row."""


STAGE_CONFIGS: dict[str, type] = {
    "base": BaseConfig,
    "data": DataConfig,
    "pretrain": PretrainConfig,
    "construct": ConstructConfig,
    "train": TrainConfig,
    "evaluate": EvaluateConfig,
    "report": ReportConfig,
}


def params_path() -> Path:
    """params.yaml in the current directory (DVC runs stages from the repo root), or $RWR_PARAMS."""
    return Path(os.environ.get("RWR_PARAMS", PARAMS_FILE))


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"{path}: params file not found")
    try:
        raw = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    except Exception as e:  # yaml syntax errors
        raise ConfigError(f"{path}: cannot parse YAML: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return raw


def parse_section(section: str, values: Any, schema: type[T], source: str = PARAMS_FILE) -> T:
    """Validate ``values`` against ``schema``; errors name ``source`` and the dotted key."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: section '{section}' must be a mapping")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), values)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or "?"
        msg = str(e).splitlines()[0]
        raise ConfigError(f"{source}: invalid key '{section}.{key}': {msg}") from None
    except (ValueError, TypeError) as e:  # __post_init__ checks
        raise ConfigError(f"{source}: section '{section}': {e}") from None


def load_config(section: str, path: str | os.PathLike | None = None) -> Any:
    """Load one section of params.yaml into its typed dataclass (see STAGE_CONFIGS)."""
    path = Path(path) if path is not None else params_path()
    raw = _load_yaml(path)
    return parse_section(section, raw.get(section), STAGE_CONFIGS[section], str(path))


def load_stage(section: str, path: str | os.PathLike | None = None) -> tuple[BaseConfig, Any]:
    """(base config, stage config) for a stage; also rejects unknown top-level sections."""
    path = Path(path) if path is not None else params_path()
    raw = _load_yaml(path)
    unknown = sorted(set(raw) - set(STAGE_CONFIGS))
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {unknown}; expected {sorted(STAGE_CONFIGS)}")
    base = parse_section("base", raw.get("base"), BaseConfig, str(path))
    return base, parse_section(section, raw.get(section), STAGE_CONFIGS[section], str(path))


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict of a config dataclass (for logging)."""
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)
