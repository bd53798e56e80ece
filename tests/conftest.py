import os
import random

import pytest

os.environ.setdefault("RWR_TRACKING", "off")  # tests that need MLflow point it at a tmp_path database


@pytest.fixture
def rng():
    return random.Random(0)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A byte-level BPE trained in memory on synthetic chat text (no hub access)."""
    from rwr.config import SyntheticHistory, TokenizerSpec
    from rwr.data.synthetic import pretrain_document
    from rwr.models.build import train_tokenizer

    r = random.Random(1)
    texts = [pretrain_document(r, SyntheticHistory(sessions=[1, 2], turns=[1, 2])) for _ in range(300)]
    return train_tokenizer(texts, TokenizerSpec(vocab_size=600, min_frequency=2))
