"""The changelog of a distribution: Keep a Changelog sections, the Unreleased notes.

Used by tools/release.py: the content hash leaves the Unreleased notes out, and a bump moves them
into a dated section. Standard library only.
"""

from __future__ import annotations

import re

UNRELEASED = "## [Unreleased]"


def without_unreleased(changelog: str) -> str:
    """The changelog with the body of its Unreleased section removed (the heading stays).

    Notes gathered for the next release are not part of any release, so writing them must not
    change the hash and force a bump; edits to released sections do count."""
    start = changelog.find(UNRELEASED)
    if start < 0:
        return changelog
    body = start + len(UNRELEASED)
    end = changelog.find("\n## [", body)
    return changelog[:body] + "\n" + (changelog[end:] if end >= 0 else "")


def check_changelog(package) -> list[str]:
    """`package` (a Package of tools/graph.py) has a CHANGELOG.md with an Unreleased section
    and a section for its current version."""
    path = package.path / "CHANGELOG.md"
    if not path.is_file():
        return [f"{package.name} has no CHANGELOG.md"]
    text = path.read_text(encoding="utf-8")
    problems = []
    if UNRELEASED not in text:
        problems.append(f"{package.name}/CHANGELOG.md has no '{UNRELEASED}' section")
    if f"## [{package.version}] - " not in text:
        problems.append(f"{package.name}/CHANGELOG.md has no '## [{package.version}] - <date>' "
                        "section for the current version")
    return problems


def release_changelog(text: str, version: str, date: str, lines: list[str]) -> str:
    """Move the Unreleased notes (plus `lines`, under Changed) into `## [version] - date`."""
    start = text.find(UNRELEASED)
    if start < 0:
        raise ValueError(f"no '{UNRELEASED}' section")
    body_start = start + len(UNRELEASED)
    end = text.find("\n## [", body_start)
    end = len(text) if end < 0 else end + 1
    body = add_changed(text[body_start:end].strip("\n"), lines)
    section = f"{UNRELEASED}\n\n## [{version}] - {date}\n\n{body}\n\n"
    return text[:start] + section + text[end:].lstrip("\n")


def add_changed(body: str, lines: list[str]) -> str:
    """Append `- line` entries to the body's `### Changed` list (made when missing)."""
    if not lines:
        return body
    items = "\n".join(f"- {line}" for line in lines)
    match = re.search(r"^### Changed\n(?:.*\n?)*?(?=^### |\Z)", body, flags=re.MULTILINE)
    if match is None:
        return (body + "\n\n" if body else "") + f"### Changed\n\n{items}"
    changed = match.group(0).rstrip("\n") + "\n" + items
    rest = body[match.end():]
    return body[:match.start()] + changed + ("\n\n" + rest if rest else "")


def unreleased_notes(text: str) -> str:
    start = text.find(UNRELEASED)
    end = text.find("\n## [", start + len(UNRELEASED))
    return text[start + len(UNRELEASED):end if end >= 0 else len(text)].strip()
