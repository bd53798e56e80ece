"""Tokenized training examples: SFT records with the prompt masked out of the loss, and packed LM text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset, Sampler

from rwr.config import PromptFormat
from rwr.formats import prompt_text

IGNORE = -100


def truncate_middle(ids: list[int], budget: int, head_fraction: float = 0.25) -> list[int]:
    """Fit `ids` into `budget` by cutting the middle: the instruction head and the query tail survive."""
    if len(ids) <= budget:
        return ids
    head = int(budget * head_fraction)
    return ids[:head] + ids[len(ids) - (budget - head):]


def encode_sft(record: dict[str, Any], tokenizer, fmt: PromptFormat, max_len: int) -> dict[str, list[int]]:
    """input_ids = prompt + response + eos; labels = -100 on the prompt (loss on response tokens only)."""
    prompt = tokenizer(prompt_text(record, fmt), add_special_tokens=False)["input_ids"]
    response = tokenizer(record["response"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    response = response[: max(1, max_len // 2)] if len(response) > max_len // 2 else response
    prompt = truncate_middle(prompt, max_len - len(response))
    return {"input_ids": prompt + response, "labels": [IGNORE] * len(prompt) + response}


class TokenizedDataset(Dataset):
    """A list of {'input_ids', 'labels'} examples."""

    def __init__(self, examples: Sequence[dict[str, list[int]]]) -> None:
        if not examples:
            raise ValueError("no training examples")
        self.examples = list(examples)
        self.lengths = [len(x["input_ids"]) for x in self.examples]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        return self.examples[i]


def sft_dataset(records: Sequence[dict[str, Any]], tokenizer, fmt: PromptFormat, max_len: int) -> TokenizedDataset:
    return TokenizedDataset([encode_sft(r, tokenizer, fmt, max_len) for r in records])


def packed_lm_dataset(texts: Sequence[str], tokenizer, seq_len: int) -> TokenizedDataset:
    """Documents (each ending in eos) packed greedily into blocks of at most seq_len tokens; loss on every token
    (pre-training). A document is cut only when it is longer than a block, so a chat and the questions about it
    stay in one block; blocks are padded to the batch's longest by the collator."""
    blocks: list[list[int]] = []
    cur: list[int] = []
    for t in texts:
        doc = tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        if len(cur) + len(doc) > seq_len and cur:
            blocks.append(cur)
            cur = []
        while len(doc) > seq_len:
            blocks.append(doc[:seq_len])
            doc = doc[seq_len:]
        cur = cur + doc
    if cur:
        blocks.append(cur)
    return TokenizedDataset([{"input_ids": b, "labels": list(b)} for b in blocks])


class LengthGroupedSampler(Sampler[int]):
    """`num_samples` indices drawn uniformly with replacement, ordered so that each run of `batch_size` holds
    examples of similar length (the collator pads to a batch's longest; random batches of the mini SFT data
    were ~22% padding). As in transformers' `group_by_length`: draws are cut into mega-batches of
    `batch_size * mega` indices, each sorted by length and split into batches, and the batch order within a
    mega-batch is shuffled. Which examples are drawn does not depend on grouping; only their batching does."""

    def __init__(self, lengths: Sequence[int], batch_size: int, num_samples: int, seed: int, mega: int = 16) -> None:
        self.lengths, self.batch_size, self.num_samples, self.mega = list(lengths), batch_size, num_samples, mega
        self.seed = seed

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed)
        draws = torch.randint(len(self.lengths), (self.num_samples,), generator=g).tolist()
        size = self.batch_size * self.mega
        for start in range(0, len(draws), size):
            chunk = sorted(draws[start:start + size], key=self.lengths.__getitem__)
            batches = [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
            for j in torch.randperm(len(batches), generator=g).tolist():
                yield from batches[j]


class Collator:
    """Right-pads a batch (Mamba ignores attention masks in its fused path, so padding must trail)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, batch: Sequence[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        n = max(len(x["input_ids"]) for x in batch)
        ids = torch.full((len(batch), n), self.pad_id, dtype=torch.long)
        labels = torch.full((len(batch), n), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        for i, x in enumerate(batch):
            k = len(x["input_ids"])
            ids[i, :k] = torch.tensor(x["input_ids"])
            labels[i, :k] = torch.tensor(x["labels"])
            mask[i, :k] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}
