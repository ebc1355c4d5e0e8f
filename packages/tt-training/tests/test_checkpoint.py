"""Contract tests for checkpoint files: atomic_write's targets, permissions and temporary
files; what save_checkpoint refuses; every way a bad checkpoint fails to load."""

import io
import json
import os
import stat
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from tt_training import (CheckpointError, atomic_write, load_checkpoint, npz_headers,
                         save_checkpoint)


def write_bytes(data):
    return lambda f: f.write(data)


def leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tt-tmp"))


# --- atomic_write: what it may replace ----------------------------------------------------------
def test_a_folder_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "runs"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match=r"runs.*is a folder"):
        atomic_write(target, write_bytes(b"new"))
    assert (target / "keep.txt").read_text() == "x"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="pipe.*not a regular file"):
        atomic_write(fifo, write_bytes(b"new"))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs a device file")
def test_a_device_file_behind_a_symlink_is_refused(tmp_path):
    link = tmp_path / "out.npz"
    link.symlink_to("/dev/null")
    with pytest.raises(ValueError, match="device"):
        atomic_write(link, write_bytes(b"new"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert link.is_symlink()


def test_a_symlink_to_a_file_updates_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    atomic_write(link, write_bytes(b"new"))
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_missing_parent_folders_are_created(tmp_path):
    target = tmp_path / "a" / "b" / "f.bin"
    atomic_write(target, write_bytes(b"data"))
    assert target.read_bytes() == b"data"


def test_text_mode_writes_text(tmp_path):
    atomic_write(tmp_path / "t.txt", lambda f: f.write("héllo"), mode="w")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo"


def test_text_mode_is_utf8_whatever_the_locale(tmp_path):
    """Under the C locale without UTF-8 mode, Python's default text encoding is ASCII."""
    target = tmp_path / "t.txt"
    code = ("import sys; from tt_training import atomic_write; "
            "atomic_write(sys.argv[1], lambda f: f.write('h\\u00e9llo \\u2713'), mode='w')")
    env = dict(os.environ, LC_ALL="C", PYTHONUTF8="0")
    done = subprocess.run([sys.executable, "-X", "utf8=0", "-c", code, str(target)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == "h\u00e9llo \u2713".encode("utf-8")


def test_an_interrupt_while_writing_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def interrupted(f):
        f.write(b"half of the new")
        raise KeyboardInterrupt  # Ctrl-C in the middle of a save

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


# --- permissions ---------------------------------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umasks_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "f.bin", write_bytes(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "f.bin").st_mode) == 0o666 & ~umask


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write(target, write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


# --- stale temporary files -----------------------------------------------------------------
def make_old(path, seconds=3600):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_stale_temporaries_of_the_target_are_removed_and_nothing_else(tmp_path):
    stale = tmp_path / ".ck.npz.0123abcd.tt-tmp"
    fresh = tmp_path / ".ck.npz.89abcdef.tt-tmp"     # could be a writer that just started
    other_target = tmp_path / ".other.npz.0123abcd.tt-tmp"
    not_ours = tmp_path / ".ck.npz.notours.tt-tmp"
    for path in (stale, fresh, other_target, not_ours):
        path.write_bytes(b"partial")
    for path in (stale, other_target, not_ours):
        make_old(path)
    atomic_write(tmp_path / "ck.npz", write_bytes(b"new"))
    assert not stale.exists()
    assert fresh.exists() and other_target.exists() and not_ours.exists()


WRITER = """
import sys, time
from tt_training import atomic_write

def write(f):
    f.write(b"partial")
    f.flush()
    print("writing", flush=True)
    time.sleep(60)

atomic_write(sys.argv[1], write)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the lock that marks a live writer is flock")
def test_a_live_writers_file_is_kept_and_a_killed_writers_file_is_removed(tmp_path):
    target = tmp_path / "ck.npz"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        (temp,) = leftovers(tmp_path)
        make_old(tmp_path / temp)               # old, but its writer is still alive
        atomic_write(target, write_bytes(b"mine"))
        assert leftovers(tmp_path) == [temp]
    finally:
        writer.kill()
        writer.wait()
    make_old(tmp_path / temp)
    atomic_write(target, write_bytes(b"again"))
    assert leftovers(tmp_path) == []
    assert target.read_bytes() == b"again"


# --- save_checkpoint refuses what load_checkpoint could not read ----------------------------
def test_an_object_array_is_refused_at_save_time_naming_its_key(tmp_path):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, {"step": 1})
    before = path.read_bytes()
    state = {"model": {"w": np.ones(2), "names": np.array(["a", 1], dtype=object)}}
    with pytest.raises(TypeError, match=r"state\['model'\]\['names'\] is an object-dtype"):
        save_checkpoint(path, state)
    with pytest.raises(TypeError, match=r"state\['log'\]\[1\]"):
        save_checkpoint(path, {"log": [np.zeros(1), np.array([None])]})
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


# --- load_checkpoint: every bad file is a CheckpointError naming it -------------------------
def write_checkpoint(path, meta, **arrays):
    """A checkpoint-shaped .npz whose metadata is `meta` (any JSON text)."""
    arrays["__meta__"] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("meta,message", [
    ('[1, 2, 3]', "JSON list, not an object"),
    ('{"format": "tinytorch-checkpoint-v1"}', "no 'state'"),
    ('{"format": "tinytorch-checkpoint-v1", "state": {"__array__": "a7"}}', "'a7'.*missing"),
    ('{"format": "tinytorch-checkpoint-v1", "state": {"__list__": 5, "tuple": false}}',
     "malformed"),
    ('{"format": "tinytorch-checkpoint-v1", "state": {"__dict__": [[1, 2, 3]]}}', "malformed"),
    ('{"format": "tinytorch-checkpoint-v1", "state": {"x": 1}}', "malformed|missing"),
    ('{"format": "tinytorch-checkpoint-v1", "state": ' + '[' * 5000 + ']' * 5000 + '}',
     "nested too deeply"),
    ('{"format": "tinytorch-checkpoint-v1", "state": '
     + '{"__list__": [' * 5000 + '1' + '], "tuple": false}' * 5000 + '}', "nested too deeply"),
    ('{"format": "tinytorch-checkpoint-v1", "state": ', "corrupt"),
])
def test_bad_metadata_is_a_checkpoint_error_naming_the_file(tmp_path, meta, message):
    path = tmp_path / "bad-meta.npz"
    write_checkpoint(path, meta, a0=np.ones(2))
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path)
    assert "bad-meta.npz" in str(info.value)


def test_a_pickled_object_array_in_the_file_is_refused(tmp_path):
    path = tmp_path / "objects.npz"
    write_checkpoint(path, '{"format": "tinytorch-checkpoint-v1", "state": {"__array__": "a0"}}',
                     a0=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="objects.npz.*Python objects"):
        load_checkpoint(path)


def npy_bytes(header_shape, data):
    """A .npy member whose header claims `header_shape` float64 but holds the bytes `data`."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": header_shape})
    return buf.getvalue() + data


def uint8_npy(data):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.frombuffer(data, dtype=np.uint8))
    return buf.getvalue()


def test_a_header_claiming_a_huge_array_fails_before_anything_is_allocated(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a0.npy", npy_bytes((10**12,), np.ones(2).tobytes()))
        meta = b'{"format": "tinytorch-checkpoint-v1", "state": {"__array__": "a0"}}'
        zf.writestr("__meta__.npy", uint8_npy(meta))
    with pytest.raises(CheckpointError, match=r"huge.npz.*a0.npy.*\(1000000000000,\)"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="huge.npz"):
        npz_headers(path)


def test_npz_headers_agree_with_the_arrays(tmp_path):
    arrays = {"w": np.zeros((3, 4), np.float32), "i": np.arange(5), "s": np.float64(2.0)}
    np.savez(tmp_path / "a.npz", **arrays)
    headers = npz_headers(tmp_path / "a.npz")
    assert headers == {k: (np.shape(v), np.asarray(v).dtype) for k, v in arrays.items()}


def test_garbage_is_not_an_npz(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all" * 10)
    with pytest.raises(CheckpointError, match="junk.npz"):
        npz_headers(tmp_path / "junk.npz")
    with pytest.raises(CheckpointError, match="junk.npz"):
        load_checkpoint(tmp_path / "junk.npz")


def test_round_trip_still_works_after_the_checks(tmp_path):
    state = {"model": {"w": np.arange(6.0).reshape(2, 3)}, "step": 3, "tags": ["a", "b"]}
    save_checkpoint(tmp_path / "ok.npz", state)
    back = load_checkpoint(tmp_path / "ok.npz")
    np.testing.assert_array_equal(back["model"]["w"], state["model"]["w"])
    assert back["step"] == 3 and back["tags"] == ["a", "b"]


# --- the metadata format: _flatten's tags, read back by _unflatten -----------------------------
def saved_metadata(path):
    """(the metadata JSON, the arrays) of a checkpoint file, read without tt_training."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return json.loads(arrays.pop("__meta__").tobytes().decode("utf-8")), arrays


def test_the_metadata_uses_the_documented_tags(tmp_path):
    state = {"w": np.ones((2, 3), np.float32), 3: (1, [5, None]), "ok": True, "name": "run"}
    save_checkpoint(tmp_path / "ck.npz", state)
    meta, arrays = saved_metadata(tmp_path / "ck.npz")
    pairs = meta["state"]["__dict__"]
    assert [key for key, _ in pairs] == ["w", 3, "ok", "name"]  # int keys stay ints
    entries = dict(pairs)
    stored = arrays[entries["w"]["__array__"]]
    assert stored.dtype == np.float32 and stored.shape == (2, 3)
    assert entries[3] == {"__list__": [1, {"__list__": [5, None], "tuple": False}],
                          "tuple": True}
    assert entries["ok"] is True and entries["name"] == "run"


def test_documented_tags_written_by_hand_load_back(tmp_path):
    path = tmp_path / "hand.npz"
    meta = {"format": "tinytorch-checkpoint-v1", "state": {"__dict__": [
        [1, {"__list__": [{"__array__": "x"}, 2.5], "tuple": True}],
        ["rest", {"__list__": ["a", None, False], "tuple": False}]]}}
    write_checkpoint(path, json.dumps(meta), x=np.arange(4, dtype=np.int16))
    back = load_checkpoint(path)
    assert set(back) == {1, "rest"} and back["rest"] == ["a", None, False]
    assert isinstance(back[1], tuple) and back[1][1] == 2.5
    np.testing.assert_array_equal(back[1][0], np.arange(4))
    assert back[1][0].dtype == np.int16


def test_numpy_scalars_come_back_as_equal_numbers(tmp_path):
    save_checkpoint(tmp_path / "ck.npz", {"i": np.int64(7), "f": np.float64(0.25),
                                          "b": np.bool_(True)})
    back = load_checkpoint(tmp_path / "ck.npz")
    assert (back["i"], back["f"], back["b"]) == (7, 0.25, True)
    assert isinstance(back["i"], (int, np.integer)) and isinstance(back["f"], (float, np.floating))


@pytest.mark.parametrize("state,named", [({"s": {1, 2}}, "set"), ({"o": [object()]}, "object")])
def test_a_value_the_format_cannot_hold_is_refused_before_the_file_changes(tmp_path, state,
                                                                          named):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, {"step": 1})
    before = path.read_bytes()
    with pytest.raises(TypeError, match=named):
        save_checkpoint(path, state)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
