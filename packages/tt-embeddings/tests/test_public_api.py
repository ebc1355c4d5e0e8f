"""Every public name of tt_embeddings imports: the contract other packages rely on."""

import importlib


def test_all_names_resolve():
    module = importlib.import_module("tt_embeddings")
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == [], f"tt_embeddings.__all__ names that do not exist: {missing}"


def test_version_is_a_string():
    module = importlib.import_module("tt_embeddings")
    assert module.__version__.count(".") >= 2
