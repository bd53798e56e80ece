"""Lightning train-then-resume on a tiny Mamba built in code."""

import json

import pytest
import torch

from rwr.config import ModelSpec, PromptFormat
from rwr.models.build import build_model
from rwr.train.data import IGNORE, Collator, LengthGroupedSampler, encode_sft, sft_dataset
from rwr.train.module import CausalLMModule, sequence_mean_loss
from rwr.train.run import FitSettings, fit

FMT = PromptFormat()
RECORDS = [{"id": str(i), "system_prompt": "", "question": f"ctx {i}\nQuestion: q{i}?\nAnswer:", "response": f"a{i}"}
           for i in range(16)]


def test_prompt_tokens_are_masked(tiny_tokenizer):
    ex = encode_sft(RECORDS[0], tiny_tokenizer, FMT, max_len=64)
    n_resp = len(tiny_tokenizer("a0", add_special_tokens=False)["input_ids"]) + 1
    assert ex["labels"][-n_resp:] == ex["input_ids"][-n_resp:]
    assert all(x == IGNORE for x in ex["labels"][:-n_resp])
    assert ex["input_ids"][-1] == tiny_tokenizer.eos_token_id
    short = encode_sft({**RECORDS[0], "question": "word " * 200}, tiny_tokenizer, FMT, max_len=40)
    assert len(short["input_ids"]) == 40


def test_collator_pads_right():
    batch = Collator(pad_id=9)([{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}, {"input_ids": [4], "labels": [4]}])
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, 9, 9]]
    assert batch["labels"].tolist() == [[-100, 2, 3], [4, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def _module(tok, max_steps):
    spec = ModelSpec(arch="mamba", hidden_size=16, num_layers=2, state_size=4)
    return CausalLMModule(lambda: build_model(spec, tok, seed=0), lr=1e-3, warmup_steps=1, max_steps=max_steps)


def _settings(max_steps):
    return FitSettings(batch_size=4, max_steps=max_steps, max_minutes=0, seed=0, checkpoint_every=2,
                       accelerator="cpu", devices="1")


def test_train_interrupt_then_resume(tmp_path, tiny_tokenizer):
    tok = tiny_tokenizer
    ds = sft_dataset(RECORDS, tok, FMT, max_len=64)
    ckpt = tmp_path / "ckpt"
    # "Interrupted" run: stops after 4 of 6 steps (checkpoint every 2 steps).
    first = fit(_module(tok, 6), ds, tok.pad_token_id, _settings(4), ckpt, config_key="k")
    assert first["steps"] == 4 and not first["resumed"] and (ckpt / "last.ckpt").exists()
    # Rerun with the same configuration continues from step 4 rather than starting over.
    second = fit(_module(tok, 6), ds, tok.pad_token_id, _settings(6), ckpt, config_key="k")
    assert second["resumed"] and second["steps"] == 6
    assert torch.load(ckpt / "last.ckpt", weights_only=False)["global_step"] == 6
    # Another configuration never resumes a foreign checkpoint.
    third = fit(_module(tok, 2), ds, tok.pad_token_id, _settings(2), ckpt, config_key="other")
    assert not third["resumed"] and third["steps"] == 2
    assert json.loads((ckpt / "fingerprint.json").read_text())["key"] == "other"


def test_length_grouped_sampler_batches_similar_lengths_of_the_same_draws():
    lengths = [(i * 37) % 101 for i in range(200)]
    sampler = LengthGroupedSampler(lengths, batch_size=4, num_samples=256, seed=3, mega=8)
    order = list(sampler)
    assert len(order) == len(sampler) == 256
    draws = torch.randint(200, (256,), generator=torch.Generator().manual_seed(3)).tolist()
    assert sorted(order) == sorted(draws)  # grouping reorders the uniform draws, it does not change them
    assert order == list(LengthGroupedSampler(lengths, 4, 256, 3, mega=8))  # deterministic

    def padding(seq):
        return sum(4 * max(lengths[i] for i in seq[k:k + 4]) - sum(lengths[i] for i in seq[k:k + 4])
                   for k in range(0, len(seq), 4))

    assert padding(order) < 0.25 * padding(draws)


def _tiny(arch, tok):
    if arch == "remamba":  # ReMamba reads the prompt lengths from the labels inside its forward
        from rwr.models.remamba import ReMambaForCausalLM

        return ReMambaForCausalLM.from_mamba(_tiny("mamba", tok))
    spec = ModelSpec(arch=arch, hidden_size=16, num_layers=2, state_size=4, num_heads=2, ssm_head_dim=8)
    return build_model(spec, tok, seed=0)


@pytest.mark.parametrize("arch", ["mamba", "phi", "falcon_h1", "remamba"])
def test_training_loss_is_the_full_models_loss_with_logits_only_where_targets_are(tiny_tokenizer, arch):
    tok = tiny_tokenizer
    batch = Collator(tok.pad_token_id)(sft_dataset(RECORDS[:4], tok, FMT, max_len=64).examples)
    module = CausalLMModule(lambda: _tiny(arch, tok), lr=1e-3, warmup_steps=1, max_steps=1)
    module.configure_model()
    module.model.eval()  # no dropout: both losses from the same weights and inputs
    seen = {}
    forward = module.model.forward
    module.model.forward = lambda **kw: seen.setdefault("out", forward(**kw))
    module.log = lambda *a, **k: None
    loss = module.training_step(batch, 0)
    full = forward(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    torch.testing.assert_close(loss, full.loss, rtol=0, atol=1e-6)
    n_kept = int((batch["labels"][:, 1:] != IGNORE).any(0).sum())
    assert seen["out"].logits.shape[1] == n_kept < batch["input_ids"].shape[1] - 1


def test_sequence_mean_loss_weighs_every_example_the_same():
    logits = torch.randn(2, 5, 7)
    targets = torch.tensor([[1, 2, 3, 4, IGNORE], [5, IGNORE, IGNORE, IGNORE, IGNORE]])
    per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, ignore_index=IGNORE,
                                                  reduction="none")
    expected = (per_token[0, :4].mean() + per_token[1, 0]) / 2
    torch.testing.assert_close(sequence_mean_loss(logits, targets), expected)
    # an example without targets (all prompt) is left out rather than counted as zero
    torch.testing.assert_close(sequence_mean_loss(logits, torch.cat([targets[:1], torch.full((1, 5), IGNORE)])),
                               per_token[0, :4].mean())
