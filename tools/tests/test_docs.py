"""Every document the repository cites is in the repository: relative Markdown links (and their
#anchors) resolve, and every Markdown file name written in a .md or .py file exists."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# a file name ending in .md, not part of a longer path or a template such as tt-<name>/README.md
CITED = re.compile(r"(?<![\w<>{}*/.-])((?:[\w.-]+/)*[\w-]+\.md)\b")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def repository_files():
    """The checkout's files as git sees them (tracked, or new and not ignored)."""
    done = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in done.stdout.splitlines() if (ROOT / line).is_file()]


FILES = repository_files()
DOCUMENTS = [path for path in FILES if path.suffix == ".md"]
NAMES = {path.name for path in FILES}


def shown(path):
    return path.relative_to(ROOT).as_posix()


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    """The #anchors of a Markdown file's headings (code blocks skipped)."""
    found, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#{1,6}\s+(.*)", line)):
            found.add(slug(match.group(1).replace("`", "")))
    return found


def broken_link(document, target):
    """What is wrong with a link from `document` to `target` ('' when nothing is)."""
    if SCHEME.match(target):
        return ""  # http(s), mailto: not ours to check offline
    file, _, anchor = target.partition("#")
    destination = (document.parent / file).resolve() if file else document
    if not destination.exists():
        return f"{shown(document)} links to {target}, which does not exist"
    if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
        return f"{shown(document)} links to {target}: {shown(destination)} has no such heading"
    return ""


def test_the_scan_sees_the_repository():
    assert {"README.md", "ARCHITECTURE.md", "CONTRIBUTING.md"} <= {p.name for p in DOCUMENTS}


@pytest.mark.parametrize("document", DOCUMENTS, ids=shown)
def test_relative_markdown_links_resolve(document):
    text = document.read_text(encoding="utf-8")
    problems = [problem for target in LINK.findall(text)
                if (problem := broken_link(document, target))]
    assert problems == []


def cites_a_missing_document(path, name):
    """A cited .md name exists beside the citing file, from the root, or (a bare file name such
    as a package's README.md) somewhere in the repository."""
    if (path.parent / name).exists() or (ROOT / name).exists():
        return False
    return "/" in name or name not in NAMES


@pytest.mark.parametrize("path", [p for p in FILES if p.suffix in (".md", ".py")], ids=shown)
def test_every_cited_markdown_file_exists(path):
    text = path.read_text(encoding="utf-8")
    missing = sorted({name for name in CITED.findall(text)
                      if cites_a_missing_document(path, name)})
    assert missing == [], f"{shown(path)} cites {', '.join(missing)}"


GHOST = "GHOST" + ".md"  # built, so that this file itself cites no missing document


@pytest.mark.parametrize("text, document, expected", [
    (f"see [the design]({GHOST}) and [B](README.md#no-such-part)", "README.md",
     [f"README.md links to {GHOST}, which does not exist",
      "README.md links to README.md#no-such-part: README.md has no such heading"]),
    ("[ok](CONTRIBUTING.md) [web](https://example.org/x.md) [here](#the-modules)", "README.md",
     []),
])
def test_broken_links_are_named(text, document, expected):
    path = ROOT / document
    assert [p for t in LINK.findall(text) if (p := broken_link(path, t))] == expected


def test_a_cited_name_that_is_nowhere_is_missing():
    readme = ROOT / "README.md"
    text = f"read {GHOST} section 4; docs/{GHOST}; packages/tt-<name>/README.md; README.md"
    assert [name for name in CITED.findall(text)
            if cites_a_missing_document(readme, name)] == [GHOST, f"docs/{GHOST}"]


def test_capstone_pictures_are_run_outputs_not_checked_in():
    # a picture in the repository goes stale when the plotting code changes; each capstone run
    # draws its own into --out (capstones/tests/test_capstone_pictures.py checks those)
    tracked = subprocess.run(["git", "ls-files", "capstones"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert tracked, "git ls-files saw no capstone file"
    assert [f for f in tracked if f.endswith((".png", ".svg", ".jpg"))] == []
    embedded = [f"{readme.relative_to(ROOT)}: {m}" for readme in ROOT.glob("capstones/*/README.md")
                for m in re.findall(r"!\[[^\]]*\]\([^)]*\)", readme.read_text(encoding="utf-8"))]
    assert embedded == []
