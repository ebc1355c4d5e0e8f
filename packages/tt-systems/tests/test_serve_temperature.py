"""The server passes temperature to tt_generation, which owns the check: a temperature that
underflows is greedy, and NaN or infinite temperatures never reach the model."""

import numpy as np
import pytest
from tt_systems import GenerationService, RequestError, export, load_exported
from tt_transformers import GPT, GPTConfig

CHARS = "abcdefg"
CONFIG = GPTConfig(block_size=16, vocab_size=len(CHARS), n_layer=1, n_head=2, n_embd=16)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    np.random.seed(0)
    path = tmp_path_factory.mktemp("serve") / "export"
    export(GPT(CONFIG), CONFIG, CHARS, path)
    return GenerationService(*load_exported(path))


def test_an_underflowing_temperature_generates_the_greedy_tokens(service):
    request = {"prompt": "abc", "max_new_tokens": 8, "seed": 1}
    tiny = service.run(service.validate({**request, "temperature": 1e-320}))
    greedy = service.run(service.validate({**request, "temperature": 0}))
    assert tiny["tokens"] == greedy["tokens"]


@pytest.mark.parametrize("body", [b'{"prompt": "ab", "temperature": NaN}',
                                  b'{"prompt": "ab", "temperature": Infinity}',
                                  b'{"prompt": "ab", "temperature": -Infinity}'])
def test_non_finite_temperatures_are_refused(service, body):
    with pytest.raises(RequestError, match="temperature"):
        service.parse(body)
