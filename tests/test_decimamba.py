"""DeciMamba on a tiny random Mamba (CPU scan): exactness without decimation, top-K on a hand-built Δ, decoding."""

import pytest
import torch
from transformers import MambaConfig, MambaForCausalLM

from rwr.models.decimamba import DeciMambaForCausalLM, Decimation, decimated_backbone, keep_count, kept_indices
from rwr.models.decimamba_sweep import sweep_first_layer
from rwr.models.fast_mamba import install_cpu_mamba


@pytest.fixture(scope="module")
def tiny():
    install_cpu_mamba()
    torch.manual_seed(0)
    cfg = MambaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=4, state_size=4, expand=2, use_cache=True)
    base = MambaForCausalLM(cfg).eval()
    deci = DeciMambaForCausalLM(cfg).eval()
    deci.backbone, deci.lm_head = base.backbone, base.lm_head  # the very same weights: exact comparisons
    return base, deci


def test_kept_indices_are_top_k_of_a_hand_built_delta():
    # Δ with 2 channels over 10 tokens; ‖Δ_t‖₂ = 3·t mod 7 distinct-ish scores, last 2 tokens are the response.
    norms = torch.tensor([5.0, 1.0, 9.0, 2.0, 7.0, 3.0, 8.0, 0.5, 0.1, 0.2])
    step = torch.stack([norms * 0.6, norms * 0.8])[None]  # ‖(0.6x, 0.8x)‖ = x
    dec = Decimation(decimating_layers=[1, 2], beta=0.5, L_base=3, min_seq_len=2)
    # s = 0: K = max(min(8, 3), 2) = 3 -> tokens 2 (9.0), 6 (8.0), 4 (7.0), ascending, then the response 8, 9.
    assert kept_indices(step, resp_len=2, s=0, dec=dec).tolist() == [2, 4, 6, 8, 9]
    # s = 1: K = max(min(8, 1.5), 2) = 2 (the min_seq_len floor) -> 2, 6.
    assert kept_indices(step, resp_len=2, s=1, dec=dec).tolist() == [2, 6, 8, 9]
    assert keep_count(8, 0, Decimation(L_base=100, min_seq_len=20)) == 8  # never more than L_ctx
    assert keep_count(100, 0, Decimation(L_base=10, min_seq_len=20)) == 20


def test_l_base_at_least_length_equals_vanilla_exactly(tiny):
    base, deci = tiny
    ids = torch.randint(0, 64, (1, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = base(ids).logits
        a = base.generate(ids, max_new_tokens=6, do_sample=False, min_new_tokens=6)
        # L_base·β^s >= L at every decimating layer: nothing is dropped.
        for dec in (Decimation(decimating_layers=[1], L_base=40), Decimation(decimating_layers=[1, 2], beta=1.0,
                                                                             L_base=64, min_seq_len=5)):
            deci.decimation = dec
            assert torch.equal(deci(ids).logits, ref)
            assert torch.equal(deci.generate(ids, max_new_tokens=6, do_sample=False, min_new_tokens=6), a)


def test_decimation_shortens_the_residual_stream_and_decoding_continues(tiny):
    base, deci = tiny
    ids = torch.randint(0, 64, (1, 50), generator=torch.Generator().manual_seed(2))
    dec = Decimation(decimating_layers=[1, 2], beta=0.5, L_base=20, min_seq_len=4)
    deci.decimation = dec
    with torch.no_grad():
        hidden, positions = decimated_backbone(deci, ids, dec, resp_len=1)
        # layer 1 keeps 20 + 1, layer 2 keeps 10 of those 20 + 1; the last token always survives.
        assert hidden.shape[1] == 11 and positions[-1] == 49 and torch.all(positions[1:] > positions[:-1])
        assert deci(ids).logits.shape[1] == 11
        out = deci.generate(ids, max_new_tokens=5, do_sample=False, min_new_tokens=5)
    assert out.shape[1] == 55 and torch.equal(out[:, :50], ids)


def test_layer_sweep_returns_the_layer_not_its_list_position(tiny):
    _, deci = tiny
    ids = torch.randint(0, 64, (30,), generator=torch.Generator().manual_seed(3)).tolist()
    seen = []

    def fake_score(model, items, dec):
        seen.append(list(dec.decimating_layers))
        return {2: 5.0, 3: 1.0}[dec.decimating_layers[0]]  # layer 3 (list position 1) is best

    best, scores = sweep_first_layer(deci, [(ids, 4)], [2, 3], Decimation(L_base=8), num_layers=2, score=fake_score)
    assert best == 3 and scores == {2: 5.0, 3: 1.0}
    assert seen == [[2, 3], [3]]  # consecutive decimating layers, clipped at the last layer


def test_stage_sweeps_writes_a_system_and_load_model_uses_it(tmp_path, tiny_tokenizer):
    from rwr.config import DeciMambaSystem, ModelSpec, PromptFormat
    from rwr.models.build import build_model, load_model, save_model
    from rwr.models.decimamba_build import build_decimamba

    models = tmp_path / "models"
    save_model(build_model(ModelSpec(hidden_size=16, num_layers=3, state_size=4), tiny_tokenizer, 0),
               tiny_tokenizer, models / "mamba_sft")
    records = [{"id": str(i), "system_prompt": "", "question": f"My cat is called Tom{i}.\nQuestion: cat?\nAnswer:",
                "response": f"Tom{i}"} for i in range(6)]
    spec = DeciMambaSystem(base="mamba_sft", sweep_layers=[1, 2], L_base=30, min_seq_len=4, sweep_items=2,
                           sweep_length=80)
    stats = build_decimamba("mamba_deci", spec, PromptFormat(), records, models, models / "mamba_deci", seed=0)
    assert stats["first_layer"] in (1, 2) and stats["decimating_layers"] == [stats["first_layer"]]
    assert stats["dev_prompt_tokens"] >= 80 and {"nll_layer_1", "nll_layer_2", "vanilla_nll"} <= set(stats)
    model, _ = load_model(models / "mamba_deci")
    assert isinstance(model, DeciMambaForCausalLM) and model.decimation.decimating_layers == stats["decimating_layers"]
    save_model(build_model(ModelSpec(hidden_size=16, num_layers=3, state_size=4), tiny_tokenizer, 1),
               tiny_tokenizer, models / "mamba_sft")  # the base was retrained: the system is stale
    with pytest.raises(ValueError, match="rerun its decimamba stage"):
        load_model(models / "mamba_deci")
