"""Every `tinytorch` subcommand with bad arguments, run in a subprocess as a user would: exit
status 2, one line on stderr naming the command, no traceback. module 17's commands are
included: with tt-systems installed they refuse the argument themselves, without it they say
which extra to install; either way one line and exit 2."""

import os
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-fuzz")
    (root / "file.txt").write_text("a file, not a folder")
    (root / "full").mkdir()
    (root / "full" / "keep.txt").write_text("x")
    return {"file": str(root / "file.txt"), "full": str(root / "full"),
            "under_file": str(root / "file.txt" / "pkg"), "missing": str(root / "missing")}


BAD = [
    ["--no-such-option"], ["no-such-command"],
    ["doctor", "extra"], ["doctor", "--verbose"],
    ["new"], ["new", "activations"], ["new", "no-such-module", "{missing}"],
    ["new", "99", "{missing}"], ["new", "activations", "{file}"],
    ["new", "activations", "{full}"], ["new", "activations", "{under_file}"],
    ["test"], ["test", "no-such-module"], ["test", "0"],
    ["serve", "{missing}"], ["serve", "{full}", "--port", "70000"],
    ["serve", "{full}", "--max-concurrent", "0"], ["export", "{file}", "--out", "{missing}"],
    ["profile", "--top", "-5"], ["profile", "--batch-size", "0"],
    ["bench", "quantize", "--repeats", "0"],
]


def run(*args):
    return subprocess.run([sys.executable, "-m", "tinytorch", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_arguments_exit_2_with_one_line(places, args):
    done = run(*[arg.format(**places) for arg in args])
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinytorch"), done.stderr


def test_no_command_shows_the_help_and_exits_2():
    done = run()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "doctor" in done.stderr and "new" in done.stderr


def test_a_refused_new_leaves_the_folder_as_it_was(places):
    run("new", "activations", places["full"])
    assert os.listdir(places["full"]) == ["keep.txt"]
