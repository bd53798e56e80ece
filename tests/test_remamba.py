"""ReMamba on a tiny random Mamba (CPU scan): shapes, compressed length, first pass, gradients, save/load."""

import math

import pytest
import torch
from transformers import AutoModelForCausalLM, MambaConfig, MambaForCausalLM

from rwr.models.fast_mamba import install_cpu_mamba
from rwr.models.remamba import ReMambaForCausalLM, inference_plan, register, training_plan


def _base():
    install_cpu_mamba()
    torch.manual_seed(0)
    cfg = MambaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=3, state_size=4, expand=2, use_cache=True)
    return MambaForCausalLM(cfg).eval()


@pytest.fixture(scope="module")
def base():
    return _base()


def _ids(n, seed=1, batch=1):
    return torch.randint(0, 64, (batch, n), generator=torch.Generator().manual_seed(seed))


def test_plans_follow_the_official_formulas():
    p = inference_plan(1000, p=0.18, rho=0.009, s=0.0)
    assert (p.start, p.m, p.k) == (0, 180, math.ceil(180 * 0.009))
    assert inference_plan(100, p=1.0, rho=1.0, s=0.0).m == 99  # never the last (query) token
    cfg = {"train_long_prompt": 1600, "train_keep_tail": 1500, "train_span": [0.1, 0.3], "train_short_span": 0.1,
           "train_rho": [0.05, 0.2]}
    g = torch.Generator().manual_seed(0)
    short = training_plan(500, cfg, g)
    assert short.start == 0 and short.m == 50 and 3 <= short.k <= 10
    long = training_plan(2000, cfg, g)
    assert 200 <= long.m <= 500 and long.m <= 2000 - 1500


def test_shapes_and_compressed_length(base):
    model = ReMambaForCausalLM.from_mamba(base, {"p": 0.5, "rho": 0.25}).eval()
    ids = _ids(40)
    with torch.no_grad():
        out = model(ids)
    t = model.last_trace
    assert (t.plan.m, t.plan.k) == (20, 5)
    assert t.compressed_length == 40 - t.plan.m + t.plan.k
    assert out.logits.shape == (1, 40, 64)  # left-padded back to L
    assert t.selected.shape == (1, 5) and torch.all(t.selected[0, 1:] > t.selected[0, :-1])
    with torch.no_grad():
        gen = model.generate(ids, max_new_tokens=4, do_sample=False, min_new_tokens=4)
    assert gen.shape == (1, 44)


def test_first_pass_is_vanilla_mamba_and_no_compression_is_vanilla(base):
    model = ReMambaForCausalLM.from_mamba(base, {"p": 0.5, "rho": 1.0, "adapt": False}).eval()
    ids = _ids(30, seed=2)
    with torch.no_grad():
        model(ids)
        assert model.last_trace.compressed_length == 30  # ρ = 1 keeps the whole span
        emb = model.backbone.embeddings(ids)
        _, _, trace = model.compress(emb, [30], model.last_trace.plan)
        assert torch.equal(trace.first_pass, MambaForCausalLM.forward(model, ids, output_hidden_states=True,
                                                                      use_cache=False).hidden_states[-1])
        model.config.remamba["p"] = 0.0  # nothing to compress: exactly the stock model on the same weights
        assert torch.equal(model(ids).logits, MambaForCausalLM.forward(model, ids).logits)


def test_gradients_reach_ret_bias_and_projections(base):
    model = ReMambaForCausalLM.from_mamba(base).train()
    model.generator = torch.Generator().manual_seed(0)
    ids = _ids(24, seed=3, batch=2)
    labels = ids.clone()
    labels[:, :16] = -100  # prompt of 16 tokens: 10% -> m = 2, k = 1
    with torch.no_grad():  # non-zero ret_bias / a positive cosine so that every path carries gradient
        model.remamba.ret_bias.fill_(0.1)
    out = model(input_ids=ids, labels=labels, attention_mask=torch.ones_like(ids))
    out.loss.backward()
    head = model.remamba
    assert head.ret_bias.grad is not None and torch.all(head.ret_bias.grad.abs().sum(1) > 0)
    for proj in (head.q_proj, head.k_proj, head.v_proj):
        assert proj[0].weight.grad is not None and proj[0].weight.grad.abs().sum() > 0


def test_gradient_checkpointing_gives_the_same_gradients(base):
    grads = []
    for ckpt in (False, True):
        model = ReMambaForCausalLM.from_mamba(base).train()
        if ckpt:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.generator = torch.Generator().manual_seed(0)
        ids = _ids(24, seed=5)
        labels = ids.clone()
        labels[:, :16] = -100
        model(input_ids=ids, labels=labels).loss.backward()
        grads.append(model.remamba.v_proj[0].weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_save_and_load_through_auto_classes(base, tmp_path):
    register()
    model = ReMambaForCausalLM.from_mamba(base, {"p": 0.3}).eval()
    model.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, ReMambaForCausalLM) and loaded.config.remamba["p"] == 0.3
    ids = _ids(20, seed=4)
    with torch.no_grad():  # equal up to float rounding (oneDNN may pick other kernels for other buffers)
        torch.testing.assert_close(loaded(ids).logits, model(ids).logits, rtol=0, atol=1e-5)


def test_finetune_trains_a_remamba_variant_and_saves_it(tmp_path, tiny_tokenizer):
    from rwr.config import BaseConfig, ModelSpec, ReMambaParams, TrainConfig, TrainVariant
    from rwr.models.build import build_model, load_model, save_model
    from rwr.tracking import StageRun
    from rwr.train.sft import finetune

    save_model(build_model(ModelSpec(hidden_size=16, num_layers=2, state_size=4), tiny_tokenizer, 0),
               tiny_tokenizer, tmp_path / "base")
    records = [{"id": str(i), "system_prompt": "", "question": f"ctx {i} words here\nQuestion: q{i}?\nAnswer:",
                "response": f"a{i}"} for i in range(8)]
    variant = TrainVariant(base="base", method="remamba", max_steps=2,
                           remamba=ReMambaParams(train_long_prompt=10, train_keep_tail=4))
    cfg = TrainConfig(variants={"rm": variant}, max_len=64, batch_size=4, max_steps=50, max_minutes=0,
                      checkpoint_every=1, accelerator="cpu")
    stats = finetune("rm", cfg, BaseConfig(), records, tmp_path / "base", tmp_path / "rm", tmp_path / "ckpt",
                     StageRun(None))
    assert stats["steps"] == 2  # the variant's own budget, not train.max_steps
    model, _ = load_model(tmp_path / "rm")
    assert isinstance(model, ReMambaForCausalLM) and model.config.remamba["train_long_prompt"] == 10
    assert model.config.use_cache and model.generation_config.use_cache  # decoding reuses the pass-2 cache
    calls = []
    model.register_forward_pre_hook(lambda mod, args, kwargs: calls.append(kwargs["input_ids"].shape[1]),
                                    with_kwargs=True)
    ids = _ids(30, seed=6)
    with torch.no_grad():
        model.eval().generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=3, min_new_tokens=3)
    assert calls == [30, 1, 1]  # one two-pass prefill, then one-token steps
