"""tt_setup.write_atomically: the one way the course's packages save small files."""

import os

import pytest

from tt_setup import write_atomically


def test_text_is_written_as_utf8_and_the_path_returned(tmp_path):
    target = tmp_path / "vocab.json"
    text = '{"chars": "\u00e9\u4e2d\\n"}\n'
    assert write_atomically(str(target), text) == target
    assert target.read_bytes() == text.encode("utf-8")


def test_bytes_are_written_as_they_are_and_parents_created(tmp_path):
    target = tmp_path / "a" / "b" / "blob.bin"
    data = bytes(range(256))
    write_atomically(target, data)
    assert target.read_bytes() == data


def test_an_existing_file_is_replaced_and_no_temporary_is_left(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")
    write_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert sorted(os.listdir(tmp_path)) == ["state.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")

    def refuse(source, destination):
        raise OSError(f"cannot rename {source} to {destination}")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="cannot rename"):
        write_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(os.listdir(tmp_path)) == ["state.json"]


@pytest.mark.parametrize("data", [None, 3, ["text"], bytearray(b"x")])
def test_other_data_is_refused_naming_its_type(tmp_path, data):
    target = tmp_path / "x.txt"
    with pytest.raises(TypeError, match=type(data).__name__):
        write_atomically(target, data)
    assert not target.exists()
