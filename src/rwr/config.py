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
class HubSource:
    """A data set read through `datasets`: a hub id (with config name and revision) or a local
    json/jsonl/parquet file of the same schema (then `name` and `revision` are ignored)."""

    path: str = ""
    """Hub id (e.g. 'openai/gsm8k') or local file path."""
    name: str = ""
    """Hub config name ('' = none), e.g. 'main' for gsm8k, 'rte' for glue."""
    revision: str = ""
    """Hub revision ('' = default branch); script-only sets need 'refs/convert/parquet' with datasets >= 4."""
    split: str = "test"
    """Split to read (a local file is always its single 'train' split)."""


@dataclass
class IclSource:
    """One HELMET ICL data set (HELMET loads them from the hub at run time; the data stage writes them out)."""

    path: str = ""
    """Hub id, or a local json/jsonl/parquet file; '{split}' in a local path is replaced by the split name."""
    name: str = ""
    """Hub config name ('' = none; 'plus' for clinc_oos)."""
    revision: str = ""
    """Hub revision ('' = default branch; script-based sets need 'refs/convert/parquet')."""
    train_split: str = "train"
    """The demo pool."""
    test_split: str = "test"
    """'' = split the train split with train_test_split(test_size=test_fraction, seed=42), as HELMET's nlu."""
    test_fraction: float = 0.1
    """Test share when test_split is ''."""
    text_field: str = "text"
    """Column holding the text."""
    label_field: str = "label"
    """Column holding the integer label (trec: coarse_label / fine_label; clinc_oos: intent)."""


def _icl_sources() -> dict[str, IclSource]:
    # HELMET data.py::load_icl; clinic150 tests on the validation split; nlu is split 90/10 with seed 42.
    pq = "refs/convert/parquet"  # script-based sets: datasets >= 4 only reads their parquet conversion
    return {
        "icl_trec_coarse": IclSource("CogComp/trec", revision=pq, label_field="coarse_label"),
        "icl_trec_fine": IclSource("CogComp/trec", revision=pq, label_field="fine_label"),
        "icl_banking77": IclSource("PolyAI/banking77", revision=pq),
        "icl_clinic150": IclSource("clinc/clinc_oos", name="plus", test_split="validation", label_field="intent"),
        "icl_nlu": IclSource("xingkunliuxtracta/nlu_evaluation_data", revision=pq, test_split=""),
    }


def _short_sources() -> dict[str, HubSource]:
    return {
        "samsum": HubSource("Samsung/samsum", revision="refs/convert/parquet", split="test"),
        "rte": HubSource("nyu-mll/glue", name="rte", split="validation"),
        "gsm8k": HubSource("openai/gsm8k", name="main", split="test"),
        "nq": HubSource("google-research-datasets/nq_open", split="validation"),
    }


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
    pretrain_recall_rate: float = 0.0
    """Fraction of pre-training documents whose chat ends with a recall exchange: the user asks about something
    said earlier in the chat (any of the six LongMemEval question types) and the assistant gives the short
    answer, as chat logs do. 0 = histories only. Teaches the base model recall at the pre-training length."""
    pretrain_recall_questions: list[int] = field(default_factory=lambda: [1, 1])
    """Inclusive [min, max] recall exchanges at the end of such a document (about disjoint facts)."""
    pretrain_quote_rate: float = 0.0
    """Fraction of those recall answers that first quote the chat turns holding the answer, then give it
    ("Also, my dog's name is Rex. So, Rex."), as people quote what was said. Real pre-training text is full of
    such repetition, which is where a language model learns to copy a value it has seen; the tiny model's
    synthetic chats otherwise state each value once (see README, "Mini profile")."""
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
    helmet_length: int = 16384
    """HELMET input length whose files are used (source=real: the archive's files for this length)."""
    real_helmet_dir: str = ""
    """Local path of HELMET's extracted `data/` directory (source=real); only this length's files are read."""
    real_icl_sources: dict[str, IclSource] = field(default_factory=_icl_sources)
    """HELMET ICL sets (source=real), written to data/raw/helmet/<task>.{train,test}.jsonl."""
    real_short_sources: dict[str, HubSource] = field(default_factory=_short_sources)
    """Short-context tasks (source=real): samsum, rte, gsm8k, nq."""
    real_short_limit: int = 0
    """Rows kept per short task (source=real; 0 = the whole split)."""
    helmet_rag_questions: int = 8
    """Synthetic RAG sets: questions per set; each is repeated at every gold depth (HELMET's dep files)."""
    helmet_rag_depths: int = 2
    """Synthetic RAG sets: gold-passage depths per question (HELMET: 6, hotpotqa 3)."""
    helmet_rag_passages: int = 20
    """Synthetic RAG sets: passages per context (HELMET's k: 105 at 16k)."""
    helmet_rag_demo_rows: int = 8
    """Synthetic RAG demo files (HELMET's k3 train files): rows, 3 passages each."""
    helmet_kv_pairs: int = 40
    """Synthetic json_kv: key-value pairs per context (HELMET: 220 at 16k)."""
    helmet_ruler_sentences: int = 80
    """Synthetic RULER niah: haystack sentences per context."""
    helmet_recall_rows: int = 12
    """Synthetic json_kv / RULER files: rows per file."""
    helmet_icl_labels: dict[str, int] = field(default_factory=lambda: {
        "icl_trec_coarse": 6, "icl_trec_fine": 12, "icl_banking77": 10, "icl_clinic150": 12, "icl_nlu": 10})
    """Synthetic ICL sets: number of labels each (real: 6, 50, 77, 151, 68)."""
    helmet_icl_train_per_label: int = 8
    """Synthetic ICL sets: training texts per label (the demo pool)."""
    helmet_icl_test: int = 12
    """Synthetic ICL sets: test texts."""
    short_rows: int = 24
    """Synthetic short tasks: rows per task (samsum, rte, gsm8k, nq)."""
    real_longmemeval_m: str = ""
    """Local path of longmemeval_m(.json) (source=real; optional, '' = not used; 2.75 GB)."""

    def __post_init__(self) -> None:
        if self.source not in ("synthetic", "real"):
            raise ValueError(f"data.source must be 'synthetic' or 'real', got {self.source!r}")
        if not 0.0 <= self.pretrain_recall_rate <= 1.0:
            raise ValueError(f"data.pretrain_recall_rate must be in [0, 1], got {self.pretrain_recall_rate}")
        if not 0.0 <= self.pretrain_quote_rate <= 1.0:
            raise ValueError(f"data.pretrain_quote_rate must be in [0, 1], got {self.pretrain_quote_rate}")
        q = self.pretrain_recall_questions
        if len(q) != 2 or not 0 <= q[0] <= q[1]:
            raise ValueError(f"data.pretrain_recall_questions must be [min, max] with 0 <= min <= max, got {q}")


# ----------------------------------------------------------------------------------------- pretrain
@dataclass
class ModelSpec:
    """A model architecture (mini: built from config and pre-trained) or a checkpoint (paper)."""

    arch: str = "mamba"
    """'mamba' (MambaForCausalLM), 'phi' (PhiForCausalLM), 'falcon_h1' (FalconH1ForCausalLM: attention and
    Mamba-2 heads in parallel in every layer, the native hybrid closest to Hymba) or 'hf' (any checkpoint)."""
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
    """Attention heads (transformer and hybrid archs)."""
    num_kv_heads: int = 0
    """Key/value heads of the hybrid's attention (0 = num_heads)."""
    ssm_head_dim: int = 32
    """Hybrid (falcon_h1): channels per Mamba-2 head; its SSM width is expand * hidden_size."""
    trust_remote_code: bool = False
    """Load `checkpoint` with its own modelling code; only ids on rwr.models.remote's allowlist, at the pinned
    revision listed there, are accepted (paper profile: nvidia/Hymba-1.5B-Base)."""
    max_steps: int | None = None
    """This model's pre-training step budget (None = pretrain.max_steps)."""
    max_minutes: float | None = None
    """This model's wall-clock budget in minutes (None = pretrain.max_minutes)."""


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
class ChatBackendConfig:
    """One chat model behind the `rwr.llm` layer (construction's teacher and verifier; later the judge).

    Holds no secret: the API key is read at run time from the environment variable named `api_key_env`.
    """

    backend: str = "openai"
    """'openai' (any OpenAI-compatible server: OpenAI API, `vllm serve`) or 'transformers' (in-process)."""
    model: str = ""
    """Model name sent to the server, or hub id / local path loaded by the transformers backend."""
    base_url: str = "https://api.openai.com/v1"
    """OpenAI-compatible endpoint (vLLM: http://<host>:8000/v1); ignored by the transformers backend."""
    api_key_env: str = "OPENAI_API_KEY"
    """NAME of the environment variable holding the key ('' = no key, e.g. `vllm serve` without --api-key)."""
    system_prompt: str = ""
    """Optional system message before every prompt ('' = none; the paper gives none)."""
    temperature: float = 0.0
    """0 = greedy, for reproducible construction."""
    top_p: float = 1.0
    max_tokens: int = 512
    """Completion budget per request; a note cut at this length is dropped (counted)."""
    seed: int | None = None
    """Sampling seed sent with each request where the server supports it (None = not sent)."""
    max_concurrency: int = 8
    """Requests in flight at once (asyncio.Semaphore); the transformers backend always runs one at a time."""
    max_retries: int = 5
    """Retries by the openai client (exponential backoff; on connection errors, 408, 409, 429 and >= 500)."""
    timeout_s: float = 600.0
    """Per-request timeout in seconds."""
    connect_timeout_s: float = 10.0
    """Connection timeout in seconds."""
    mode: str = "live"
    """'live' (send uncached requests now) or 'batch' (write them as an OpenAI Batch JSONL to `batch_dir`
    and stop; import the results with `python -m rwr.llm import-batch`, then rerun)."""
    batch_dir: str = "cache/llm/batches"
    """Where batch mode writes pending requests (relative paths resolve against the project root)."""
    device: str = "auto"
    """transformers backend: 'auto' (cuda if available), 'cpu', 'cuda', 'cuda:1', ..."""
    dtype: str = "auto"
    """transformers backend: 'auto' (bfloat16 on cuda, float32 on cpu), 'bfloat16', 'float16', 'float32'."""

    def __post_init__(self) -> None:
        if self.backend not in ("openai", "transformers"):
            raise ValueError(f"backend must be 'openai' or 'transformers', got {self.backend!r}")
        if self.mode not in ("live", "batch"):
            raise ValueError(f"mode must be 'live' or 'batch', got {self.mode!r}")
        if self.max_concurrency < 1 or self.max_retries < 0 or self.max_tokens < 1:
            raise ValueError("max_concurrency and max_tokens must be >= 1, max_retries >= 0")


@dataclass
class ChatPrice:
    """USD per million tokens of one model (for cost accounting; 0 for a self-hosted server)."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    batch_discount: float = 0.5
    """Multiplier for responses imported from a batch run (OpenAI Batch is billed at half price)."""


# The paper's prompts. The teacher prompt is quoted from section 3.1 ("<c> <q> Please extract a note relevant
# to the query:"); the verifier and locate prompts are ours (the paper does not print them).
PAPER_NOTE_TEMPLATE = "{context} {query} Please extract a note relevant to the query:"
VERIFIER_TEMPLATE = (
    "You check notes that were extracted from a document to answer a question.\n\n"
    "Question: {query}\n\nReference answer: {answer}\n\nNote: {note}\n\n"
    "Is the note consistent with the reference answer: does it contain the information needed to arrive at "
    "the reference answer, and nothing that contradicts it? Reply with exactly one word: CONSISTENT or "
    "INCONSISTENT."
)
LOCATE_TEMPLATE = (
    "Below is a context split into numbered paragraphs, then a question and its correct answer.\n\n"
    "{paragraphs}\n\nQuestion: {query}\nCorrect answer: {answer}\n\n"
    "Which paragraphs state or support the correct answer? Reply with their numbers only, separated by "
    "commas (for example: 2, 5), or NONE if no paragraph does."
)


def _check_fields(name: str, template: str, required: set[str], allowed: set[str]) -> None:
    """Template placeholders must include `required` and stay within `allowed` (typos fail at load time)."""
    import string

    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    if not required <= fields or not fields <= allowed:
        raise ValueError(f"{name} must use placeholders {sorted(required)} (allowed: {sorted(allowed)}), "
                         f"got {sorted(fields)}")


@dataclass
class ConstructConfig:
    """The `construct` stage: RwR summary-CoT data (paper section 3.1) and the training mixes."""

    teacher: str = "offline-extractive"
    """Teacher backend: 'offline-extractive' (query-relevant context sentences, mini) or 'llm' (`teacher_llm`)."""
    verifier: str = "offline-containment"
    """Verifier backend: 'offline-containment' (note contains the normalized gold answer) or 'llm'."""
    teacher_llm: ChatBackendConfig = field(default_factory=ChatBackendConfig)
    """The teacher model when teacher='llm' (paper: Llama-3.1-8B-Instruct, served by vLLM)."""
    verifier_llm: ChatBackendConfig = field(default_factory=ChatBackendConfig)
    """The verifier model when verifier='llm' (paper: GPT-4o)."""
    note_template: str = PAPER_NOTE_TEMPLATE
    """Teacher prompt; {context} = the text before the query marker, {query} = the text after it."""
    verifier_template: str = VERIFIER_TEMPLATE
    """Verifier prompt; placeholders {query}, {answer} (the OpenOrca response), {note}, optional {context}."""
    verdict_consistent: str = "CONSISTENT"
    """The verifier's 'keep' word; the reply must be exactly it (case and a final period ignored)."""
    verdict_inconsistent: str = "INCONSISTENT"
    """The verifier's 'drop' word; any other reply is unparseable, counted, and dropped."""
    locate_template: str = LOCATE_TEMPLATE
    """Prompt asking the teacher which paragraphs of c hold the answer; {paragraphs} ('[i] text' lines),
    {query}, {answer}, optional {context}."""
    query_markers: list[str] = field(default_factory=lambda: ["\nQuestion:", "\nQ:"])
    """The last occurrence of any marker splits an OpenOrca question into context and query."""
    min_context_chars: int = 200
    """Records whose context is shorter are not 'background context' and are dropped."""
    max_context_chars: int = 0
    """Records whose context is longer are dropped (teacher context window; 0 = no limit)."""
    empty_max_answer_words: int = 0
    """D_e only: answers longer than this are skipped, because the code-side 'answer is gone' check can only
    test short answers verbatim (0 = no limit)."""
    source_pool: str = "sft"
    """Records the summary data is built from: 'sft' (the n_orca SFT records), 'rest' (the records after
    them, disjoint from the SFT set) or 'all'."""
    max_sources: int = 0
    """Selected records sent to the teacher, a seeded random sample (bounds LLM cost; 0 = all)."""
    max_note_sentences: int = 2
    """Offline teacher: number of context sentences kept in a note."""
    note_questions: bool = True
    """Offline teacher: whether questions (sentences ending in '?', e.g. the user's "Can you recommend a
    movie?") may be note sentences; False keeps only statements."""
    note_drop_openers: list[str] = field(default_factory=list)
    """Offline teacher: leading discourse markers ("By the way,") dropped from each note sentence, as a teacher
    writing a note would ([] = sentences verbatim)."""
    n_summary: int = 1500
    """Summary records (D_f) in the rwr set, at most."""
    n_empty: int = 300
    """Empty-summary records (D_e) in the rwr set, at most; D_f:D_e = n_summary:n_empty when both suffice."""
    n_orca: int = 6000
    """OpenOrca records in both training sets (the paper: 100,000; its D_s: 10,000)."""
    seed: int | None = None
    """Seed for sampling sources and shuffling the mixes (None = base.seed)."""
    llm_cache: str = "cache/llm/construct.jsonl"
    """Append-only response cache of the LLM backends (relative paths resolve against the project root)."""
    prices: dict[str, ChatPrice] = field(default_factory=lambda: {
        "gpt-4o-2024-08-06": ChatPrice(input_per_mtok=2.5, output_per_mtok=10.0),
        "meta-llama/Llama-3.1-8B-Instruct": ChatPrice(),
    })
    """Model name -> price, for the cost metrics (a model missing here is costed at 0, with a warning)."""
    sample_rows: int = 25
    """Constructed examples logged to MLflow as a table."""

    def __post_init__(self) -> None:
        if self.teacher not in ("offline-extractive", "llm"):
            raise ValueError(f"teacher must be 'offline-extractive' or 'llm', got {self.teacher!r}")
        if self.verifier not in ("offline-containment", "llm"):
            raise ValueError(f"verifier must be 'offline-containment' or 'llm', got {self.verifier!r}")
        if self.source_pool not in ("sft", "rest", "all"):
            raise ValueError(f"source_pool must be 'sft', 'rest' or 'all', got {self.source_pool!r}")
        for role, used, llm in (("teacher", self.teacher == "llm", self.teacher_llm),
                                ("verifier", self.verifier == "llm", self.verifier_llm)):
            if used and not llm.model:
                raise ValueError(f"{role}_llm.model must be set when {role} is 'llm'")
        _check_fields("note_template", self.note_template, {"context", "query"}, {"context", "query"})
        _check_fields("verifier_template", self.verifier_template, {"note", "answer"},
                      {"note", "answer", "query", "context"})
        _check_fields("locate_template", self.locate_template, {"paragraphs", "answer"},
                      {"paragraphs", "answer", "query", "context"})
        if self.verdict_consistent.lower() == self.verdict_inconsistent.lower():
            raise ValueError("verdict_consistent and verdict_inconsistent must differ")


# -------------------------------------------------------------------------------------------- train
@dataclass
class ReMambaParams:
    """ReMamba (Yuan et al., 2024): inference compression and the training recipe (lblankl/ReMamba)."""

    p: float = 0.18
    """Inference: compressed span as a fraction of the prompt length (official compress_ratio)."""
    rho: float = 0.009
    """Inference: fraction of the span kept, K = ceil(m * rho) (official ratio)."""
    s: float = 0.0
    """Inference: span start as a fraction of the prompt length (official stratio)."""
    adapt: bool = True
    """Selective adaptation: dt' = dt * w + ret_bias at the selected positions in every layer."""
    train_long_prompt: int = 1600
    """Training: prompts longer than this compress a random head fraction (official: 1600 of 6000 tokens)."""
    train_keep_tail: int = 1500
    """Training: long prompts keep at least this many uncompressed tokens (official: 1500)."""
    train_span: list[float] = field(default_factory=lambda: [0.1, 0.3])
    """Training, long prompts: span fraction ~ U(lo, hi)."""
    train_short_span: float = 0.1
    """Training, short prompts: span fraction."""
    train_rho: list[float] = field(default_factory=lambda: [0.05, 0.2])
    """Training: rho ~ U(lo, hi)."""

    def __post_init__(self) -> None:
        if not (0 <= self.p <= 1 and 0 < self.rho <= 1 and 0 <= self.s < 1):
            raise ValueError("remamba: need 0 <= p <= 1, 0 < rho <= 1, 0 <= s < 1")
        for name in ("train_span", "train_rho"):
            lo_hi = getattr(self, name)
            if len(lo_hi) != 2 or not 0 <= lo_hi[0] <= lo_hi[1] <= 1:
                raise ValueError(f"remamba.{name} must be [lo, hi] with 0 <= lo <= hi <= 1")


@dataclass
class TrainVariant:
    """One fine-tuned model: which base model and which training set."""

    base: str = "mamba_pre"
    """Base model name (a directory under models/)."""
    data: str = "sft"
    """Training set name (data/sft/<data>.jsonl): 'sft' (OpenOrca only) or 'rwr' (OpenOrca + D_s)."""
    method: str = "sft"
    """'sft' (the base model as is) or 'remamba' (ReMamba's modules added to a Mamba base, trained with its
    random compression; see `remamba`)."""
    remamba: ReMambaParams = field(default_factory=ReMambaParams)
    """ReMamba parameters (method 'remamba'); saved into the model's config.json."""
    max_steps: int | None = None
    """This variant's step budget (None = train.max_steps)."""
    max_minutes: float | None = None
    """This variant's wall-clock budget in minutes (None = train.max_minutes)."""

    def __post_init__(self) -> None:
        if self.method not in ("sft", "remamba"):
            raise ValueError(f"train variant method must be 'sft' or 'remamba', got {self.method!r}")


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
    group_by_length: bool = True
    """Batch examples of similar length (as transformers' `group_by_length`): less padding, same draws."""
    loss_normalization: str = "token"
    """'token': mean over all response tokens of a batch (transformers' default); 'sequence': mean over each
    example's response tokens, then over examples (a long note and a one-word answer weigh the same)."""

    def __post_init__(self) -> None:
        if self.loss_normalization not in ("token", "sequence"):
            raise ValueError(f"train.loss_normalization must be 'token' or 'sequence', got {self.loss_normalization!r}")


# ----------------------------------------------------------------------------------------- evaluate
JUDGE_MODEL = "gpt-4o-2024-08-06"
"""LongMemEval's judge snapshot (evaluate_qa.py model_zoo['gpt-4o']; print_qa_metrics.py asserts it)."""

HELMET_TASKS = [
    "kilt_nq", "kilt_triviaqa", "kilt_hotpotqa", "kilt_popqa_3",
    "json_kv", "ruler_niah_mk_2", "ruler_niah_mk_3", "ruler_niah_mv",
    "icl_trec_coarse", "icl_trec_fine", "icl_banking77", "icl_clinic150", "icl_nlu",
]
SHORT_TASKS = ["samsum", "rte", "gsm8k", "nq"]
MODES = ("direct", "rwr", "ssa")


@dataclass
class SamplingConfig:
    """Decoding of the evaluated models. Greedy by default; sampling makes the `rounds` differ."""

    do_sample: bool = False
    """False = greedy decoding (HELMET and LongMemEval both decode greedily)."""
    temperature: float = 1.0
    """Sampling temperature (used only when do_sample)."""
    top_p: float = 1.0
    """Nucleus sampling mass (used only when do_sample)."""


@dataclass
class SSAConfig:
    """Segmented summarization for answering (paper section 3.2; segment size and prompts are our choice).

    The context is split into its natural units (LongMemEval sessions; HELMET passages, JSON-KV lines, needle
    sentences, ICL items), packed greedily into segments of at most `segment_tokens` tokens (a unit longer
    than the budget becomes a segment of its own, never cut). Each segment gets the RwR note prompt (the
    item's prompt with only that segment as context, then base.format.note_prompt), exactly as the model was
    trained; notes whose first line is base.format.empty_note are dropped; the kept notes are joined and one
    answer is generated from them.
    """

    segment_tokens: int = 6000
    """Token budget of a segment's units (paper profile: the 6,000-token training length)."""
    note_max_new_tokens: int = 256
    """Budget of each segment's note (generation also stops at base.format.answer_cue)."""
    note_joiner: str = "\n"
    """Joins the kept notes."""
    final: str = "continue"
    """'continue': the question without context in RwR form, the joined notes as the model's note, then the
    answer cue (the training format); 'context': the joined notes replace the context in the direct prompt."""

    def __post_init__(self) -> None:
        if self.final not in ("continue", "context"):
            raise ValueError(f"ssa.final must be 'continue' or 'context', got {self.final!r}")
        if self.segment_tokens < 1 or self.note_max_new_tokens < 1:
            raise ValueError("ssa.segment_tokens and ssa.note_max_new_tokens must be >= 1")


@dataclass
class HelmetConfig:
    """HELMET (princeton-nlp/HELMET) at one input length: templates, sampling and metrics as its code has them."""

    length: int = 16384
    """input_max_length: a prompt longer than length - generation max is cut at the END of its context."""
    tasks: list[str] = field(default_factory=lambda: list(HELMET_TASKS))
    """Tasks to run (files under data/raw/helmet/)."""
    max_test_samples: dict[str, int] = field(default_factory=lambda: {"rag": 100, "recall": 100, "icl": 500})
    """Per category: RAG samples unique questions (all depth copies kept); recall and ICL sample rows."""
    shots: int = 2
    """In-prompt demos for RAG and json_kv (RULER ignores shots; ICL demos are its context)."""
    icl_shots: dict[str, int] = field(default_factory=lambda: {
        "icl_trec_coarse": 800, "icl_trec_fine": 800, "icl_banking77": 720, "icl_clinic150": 880,
        "icl_nlu": 1020})
    """Label-balanced demos per ICL set (the 16k ladder of HELMET's configs)."""
    seed: int = 42
    """HELMET's seed (sampling, demo choice, label remapping)."""

    def __post_init__(self) -> None:
        bad = [t for t in self.tasks if t not in HELMET_TASKS]
        if bad:
            raise ValueError(f"helmet.tasks: unknown task(s) {bad}; known: {HELMET_TASKS}")


def _short_prompts() -> dict[str, str]:
    # Ours: the paper does not print its short-task prompts. Each ends with the answer cue.
    return {
        "samsum": "Summarize the following dialogue in one or two sentences.\n\n{dialogue}\n\nSummary:",
        "rte": "{sentence1}\nQuestion: Does this imply that \"{sentence2}\"? Answer yes or no.\nAnswer:",
        "gsm8k": "Solve the math problem. Finish with the final number.\n\nQuestion: {question}\nAnswer:",
        "nq": "Answer the question with a short phrase.\n\nQuestion: {question}\nAnswer:",
    }


@dataclass
class ShortConfig:
    """Short-context tasks (paper Table 3): SAMSum, RTE, GSM8K, Natural Questions."""

    tasks: list[str] = field(default_factory=lambda: list(SHORT_TASKS))
    """Tasks to run (files data/raw/short/<task>.jsonl)."""
    max_samples: int = 0
    """Rows evaluated per task (0 = all)."""
    prompts: dict[str, str] = field(default_factory=_short_prompts)
    """Task -> prompt over the data set's own fields; the text after the last newline is the answer cue."""
    max_new_tokens: dict[str, int] = field(default_factory=lambda: {"samsum": 96, "rte": 4, "gsm8k": 256, "nq": 20})
    """Task -> answer budget in tokens (NQ and RTE answers also stop at a newline)."""

    def __post_init__(self) -> None:
        bad = [t for t in self.tasks if t not in SHORT_TASKS]
        if bad:
            raise ValueError(f"short.tasks: unknown task(s) {bad}; known: {SHORT_TASKS}")


def _judge_llm() -> ChatBackendConfig:
    # evaluate_qa.py: one user message, n=1, temperature 0, max_tokens 10.
    return ChatBackendConfig(model=JUDGE_MODEL, temperature=0.0, max_tokens=10, max_concurrency=16)


@dataclass
class EvaluateConfig:
    """The `evaluate` stage: models x benchmarks, each in its answer modes."""

    models: list[str] = field(default_factory=lambda: ["mamba_pre", "mamba_sft", "mamba_rwr"])
    """Models to evaluate (directories under models/); a DVC matrix axis."""
    benchmarks: list[str] = field(default_factory=lambda: ["orca_dev", "longmemeval_oracle", "longmemeval_s",
                                                           "helmet", "short"])
    """Benchmarks (data/raw/<name>*): orca_dev, longmemeval_oracle, longmemeval_s, longmemeval_m, helmet,
    short; a DVC matrix axis."""
    modes: dict[str, list[str]] = field(default_factory=dict)
    """Model -> answer modes ('direct', 'rwr', 'ssa'); each mode writes its own predictions and metrics."""
    ssa_benchmarks: list[str] = field(default_factory=lambda: ["longmemeval_s"])
    """Benchmarks on which an 'ssa' mode runs (skipped elsewhere)."""
    judge: str = "offline"
    """LongMemEval judge: 'offline' (normalized answer containment, abstention by marker phrases) or 'openai'
    (the official GPT-4o prompts through `judge_llm`; the offline judge then runs too, for Cohen's kappa)."""
    judge_llm: ChatBackendConfig = field(default_factory=_judge_llm)
    """The LLM judge (official: gpt-4o-2024-08-06, temperature 0, max_tokens 10)."""
    judge_cache: str = "cache/llm/judge.jsonl"
    """Append-only cache of judge verdicts (relative paths resolve against the project root)."""
    judge_prices: dict[str, ChatPrice] = field(default_factory=lambda: {
        JUDGE_MODEL: ChatPrice(input_per_mtok=2.5, output_per_mtok=10.0)})
    """Model -> price, for the judge cost metrics."""
    abstention_markers: list[str] = field(
        default_factory=lambda: ["not mentioned", "no information", "not enough information", "unknown",
                                 "did not mention", "cannot be determined", "empty"]
    )
    """Offline judge: an `_abs` item counts as correct when the response contains one of these."""
    hypothesis: str = "first_line"
    """LongMemEval / orca_dev hypothesis in direct mode: 'first_line' of the output, or the 'full' output (the
    official harness judges the full output)."""
    max_new_tokens: int = 48
    """Answer budget for LongMemEval and orca_dev (HELMET and short tasks have their own)."""
    note_max_new_tokens: int = 48
    """rwr mode: tokens added to the answer budget for the note written first."""
    max_prompt_tokens: int = 0
    """LongMemEval / orca_dev: prompts over this many tokens minus the answer budget lose the END of their
    context, as LongMemEval's reader keeps the front of the history (0 = no limit)."""
    limit: int = 0
    """Evaluate only the first N items of each task (0 = all)."""
    model_limits: dict[str, int] = field(default_factory=dict)
    """Model -> evaluate only the first N items of each task and question type for that model (bounds the
    cost of the baselines added for Tables 1-4 in the mini profile; {} = no limit)."""
    arch_models: list[str] = field(default_factory=list)
    """Other architectures (paper Table 4: Phi-2, Hymba), evaluated only on `arch_benchmarks` (the DVC matrix
    `evaluate_arch`)."""
    arch_benchmarks: list[str] = field(default_factory=lambda: ["longmemeval_oracle", "longmemeval_s"])
    """Benchmarks of the `evaluate_arch` matrix (Table 4 is LongMemEval only)."""
    mode_limits: dict[str, int] = field(default_factory=dict)
    """Mode -> evaluate only the first N items of each task and question type in that mode (bounds SSA's many
    model calls in the mini profile; {} = no limit)."""
    history_format: str = "json"
    """LongMemEval session rendering: 'json' (the official default) or 'nl'."""
    rounds: int = 1
    """Rounds averaged (paper: 3); metrics report the mean and the std over rounds. Round r samples with seed
    base.seed + r when sampling is on (greedy outputs are generated once) and sends the LLM judge seed r."""
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    """Decoding of the evaluated models (greedy by default)."""
    ssa: SSAConfig = field(default_factory=SSAConfig)
    """Segmented summarization (the 'ssa' mode)."""
    helmet: HelmetConfig = field(default_factory=HelmetConfig)
    """The 'helmet' benchmark."""
    short: ShortConfig = field(default_factory=ShortConfig)
    """The 'short' benchmark (paper Table 3)."""
    table_rows: int = 50
    """Per-example predictions logged to MLflow as a table, per mode."""

    def __post_init__(self) -> None:
        if self.judge not in ("offline", "openai"):
            raise ValueError(f"judge must be 'offline' or 'openai', got {self.judge!r}")
        if self.hypothesis not in ("first_line", "full"):
            raise ValueError(f"hypothesis must be 'first_line' or 'full', got {self.hypothesis!r}")
        if self.rounds < 1:
            raise ValueError("rounds must be >= 1")
        both = sorted(set(self.models) & set(self.arch_models))
        if both:  # each model has one evaluate stage, writing results/<model>/
            raise ValueError(f"models and arch_models both list {both}; a model belongs to one of them")
        for model, modes in self.modes.items():
            bad = [m for m in modes if m not in MODES]
            if bad:
                raise ValueError(f"modes.{model}: unknown mode(s) {bad}; known: {list(MODES)}")


# ---------------------------------------------------------------------------------------- decimamba
@dataclass
class DeciMambaSystem:
    """One DeciMamba system: a trained Mamba plus decimation at inference (training-free)."""

    base: str = "mamba_sft"
    """The Mamba model decimated (a directory under models/)."""
    decimating_layers: list[int] = field(default_factory=list)
    """Explicit 0-based decimating layers; [] = pick the first one with the layer sweep."""
    sweep_layers: list[int] = field(default_factory=list)
    """Candidate first decimating layers for the sweep ([] = every layer)."""
    num_decimating_layers: int = 1
    """Consecutive decimating layers from the swept first one (official configs: 1 for retrieval, 9 for PG-19)."""
    beta: float = 0.5
    """Decay of the kept count per decimating layer (official: 0.5)."""
    L_base: int = 2000
    """Tokens kept by the first decimating layer, about the training length (official: 2000)."""
    min_seq_len: int = 20
    """Floor of the kept count (official: 20)."""
    sweep_items: int = 8
    """Dev records scored per candidate layer."""
    sweep_length: int = 8000
    """Dev prompts are padded with other dev records' questions to about this many tokens (official: 8k PPL)."""
    dev_file: str = "data/raw/orca_dev.jsonl"
    """OpenOrca-format records the dev items come from (never the test benchmarks)."""
    dev_skip: int = 0
    """Records skipped at the head of dev_file (paper: the first 100,000 of orca.jsonl are the SFT set)."""

    def __post_init__(self) -> None:
        if self.beta <= 0 or self.L_base < 1 or self.min_seq_len < 1 or self.num_decimating_layers < 1:
            raise ValueError("decimamba: need beta > 0, L_base >= 1, min_seq_len >= 1, num_decimating_layers >= 1")


@dataclass
class DeciMambaConfig:
    """The `decimamba` stage: layer sweep and a small system directory per DeciMamba system."""

    systems: dict[str, DeciMambaSystem] = field(default_factory=dict)
    """Output name (models/<name>) -> system; a DVC foreach over this dict."""


# ------------------------------------------------------------------------------------------- timing
@dataclass
class TimingConfig:
    """The `timing` stage (paper Table 4 'Time', and a length ladder beyond it)."""

    models: list[str] = field(default_factory=list)
    """Systems timed (directories under models/)."""
    eval_lengths: dict[str, int] = field(default_factory=lambda: {"oracle": 10000, "s": 100000})
    """The evaluation lengths of Table 4 (prompt tokens): LongMemEval oracle (~10k) and S (~100k)."""
    ladder: list[int] = field(default_factory=lambda: [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072,
                                                       200000])
    """Prompt lengths of the scaling ladder (tokens)."""
    new_tokens: int = 32
    """Tokens decoded after each prefill (fixed: EOS is ignored), so decode time is comparable."""
    warmup: int = 1
    """Untimed runs per (model, length) before the timed ones."""
    repeats: int = 3
    """Timed runs per (model, length); the median is reported."""
    max_seconds: float = 0.0
    """Skip a model's longer lengths once one run takes longer than this (0 = never skip)."""
    fit_min_length: int = 0
    """Only lengths >= this enter the fitted scaling exponent (fixed overheads dominate short prompts)."""
    seed: int = 0
    """Seed of the random prompt tokens."""


# -------------------------------------------------------------------------------------------- report
@dataclass
class ReportConfig:
    """The `report` stage: tables rendered from metrics files only."""

    rows: dict[str, str] = field(default_factory=dict)
    """Table 1 row label -> '<model>/<mode>' whose metrics fill the row (e.g. 'RwR +SSA': 'mamba_rwr/ssa')."""
    helmet_rows: dict[str, str] = field(default_factory=dict)
    """Table 2 (HELMET) row label -> '<model>/<mode>' ({} = the Table 1 rows)."""
    short_rows: dict[str, str] = field(default_factory=dict)
    """Table 3 (short tasks) row label -> '<model>/<mode>' ({} = the Table 1 rows)."""
    table4_rows: dict[str, str] = field(default_factory=dict)
    """Table 4 (other architectures on LongMemEval, with time per sample) row label -> '<model>/<mode>'."""


STAGE_CONFIGS: dict[str, type] = {
    "base": BaseConfig,
    "data": DataConfig,
    "pretrain": PretrainConfig,
    "construct": ConstructConfig,
    "train": TrainConfig,
    "evaluate": EvaluateConfig,
    "decimamba": DeciMambaConfig,
    "timing": TimingConfig,
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
