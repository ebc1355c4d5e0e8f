"""Argument checking for the command-line entry points: a bad argument is one line on stderr
and exit status 2 (argparse's convention), never a traceback."""

import argparse
import os
import sys


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: `tinytorch serve: error: argument --port: ...`."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def fail(prog, message):
    """Print `prog: message` on stderr and give exit status 2 (bad input, nothing done)."""
    print(f"{prog}: {message}", file=sys.stderr)
    return 2


def int_in(low, high=None):
    """An argparse type: an int in [low, high] (high None: no upper bound)."""
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {value}")
        return value

    return parse


def positive_float(text):
    """An argparse type: a finite number above 0 (seconds, say)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def folder(text):
    """An argparse type: an existing folder."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text}: is a file, expected a folder")
    return text


def readable_file(text):
    """An argparse type: an existing file that this process can open for reading."""
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text}: is a folder, expected a file")
    try:
        with open(text, "rb"):
            pass
    except OSError as err:
        raise argparse.ArgumentTypeError(f"{text}: cannot be read ({err.strerror})") from None
    return text


def output_file(text):
    """An argparse type: a file to write, whose folder exists (the file itself may not)."""
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text}: is a folder, expected a file name")
    parent = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"{text}: its folder does not exist")
    return text
