"""The contract tests check the lesson (`embedding`, your code): the lookup's fast path is
off for them; test_fast_paths.py checks it against `embedding`."""

import pytest

import tt_embeddings


@pytest.fixture(autouse=True)
def plain_lookup(request):
    switch = getattr(tt_embeddings, "use_fast_paths", None)  # a module may have none
    if switch is None or request.module.__name__.endswith("test_fast_paths"):
        yield
        return
    before = switch(False)
    yield
    switch(before)
