"""tools/release.py: the content check fails on an unbumped change, and one bump fixes it all.

Every test that changes files works on a temporary copy of packages/, learners/ and tools/.
"""

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

import graph
import release
from conftest import ROOT, to_first_release

DATE = "2030-01-02"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")


@pytest.fixture
def repo(tmp_path):
    """A copy of the repository's packages, learners, tools and the files the course table
    generates, set back to the first release (modules 0.1.0, the meta-package 0.2.0, each with
    one Unreleased note), so the versions written below hold whatever the real repository is
    at. It passes both checks."""
    # capstones and notebooks: tinytorch's build ships them
    for folder in ("packages", "tools", "learners", "capstones", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=IGNORED)
    for name in ("tox.ini", *graph.course_table.BLOCKS):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    manifest = {"distributions": {}}
    for package in graph.load_packages(tmp_path).values():
        first = "0.2.0" if package.name == graph.META else "0.1.0"
        to_first_release(package.path / "pyproject.toml")
        release.set_version(package, first)
        (package.path / "CHANGELOG.md").write_text(
            f"# Changelog of {package.name}\n\n## [Unreleased]\n\n### Added\n\n- Something.\n\n"
            f"## [{first}] - 2026-11-24\n\n### Added\n\n- The first release.\n")
        release.record(manifest, graph.load_package(package.path), "2026-11-24")
    for own in (tmp_path / "learners").glob("*/pyproject.toml"):
        to_first_release(own)
        release.set_version(graph.load_package(own.parent), "0.1.0+own")
        own.write_text(re.sub(r"\(\d+\.\d+\.\d+\+own,", "(0.1.0+own,", own.read_text()))
    release.save_manifest(tmp_path, manifest)
    graph.write_requirement_files(graph.load_packages(tmp_path), tmp_path)
    return tmp_path


def run(root, *args):
    """`python tools/release.py ARGS` in the copy: (exit code, stdout + stderr)."""
    done = subprocess.run([sys.executable, str(root / "tools" / "release.py"), *args],
                          cwd=root, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def version(root, name):
    return graph.load_packages(root)[name].version


def requirement(root, owner, name):
    """The spec `owner` writes for `name` in its pyproject, e.g. '~=0.1.0' or '==0.2.0'."""
    specs = re.findall(rf'"{name}\s*([~=]=[0-9.]+)"', read(root, owner, "pyproject.toml"))
    assert specs, f"{owner} does not name {name}"
    return set(specs)


def read(root, name, relative):
    return (root / "packages" / name / relative).read_text(encoding="utf-8")


def append_line(root, name, relative, line):
    path = root / "packages" / name / relative
    path.write_text(path.read_text(encoding="utf-8") + line, encoding="utf-8")


def add_note(root, name, note):
    path = root / "packages" / name / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(release.UNRELEASED, f"{release.UNRELEASED}\n\n{note}", 1),
                    encoding="utf-8")


# ---------------------------------------------------------------- the check

def test_the_repository_passes():
    assert release.check(ROOT) == []


def test_the_copy_passes(repo):
    assert run(repo, "check") == (0, "release check: ok\n")


def test_one_changed_line_fails_naming_the_package_and_the_bump_command(repo):
    append_line(repo, "tt-attention", "src/tt_attention/functional.py", "# one more line\n")
    code, out = run(repo, "check")
    assert code == 1
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    assert "tt-attention: the sources differ from tt-attention 0.1.0" in errors[0]
    assert "python tools/release.py bump tt-attention patch" in errors[0]


def test_a_changed_capstone_program_needs_a_tinytorch_bump(repo):
    """The tinytorch wheel ships the capstone programs (`tinytorch run`): they are its content."""
    script = repo / "capstones" / "xornet" / "xornet.py"
    script.write_text(script.read_text() + "# one more line\n")
    code, out = run(repo, "check")
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1, out
    assert "tinytorch: the sources differ" in errors[0]
    assert "python tools/release.py bump tinytorch patch" in errors[0]


def test_a_new_file_counts_and_caches_do_not(repo):
    package = repo / "packages" / "tt-layers"
    before = release.content_hash(package)
    (package / "src" / "tt_layers" / "__pycache__").mkdir(exist_ok=True)
    (package / "src" / "tt_layers" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (package / ".pytest_cache").mkdir()
    (package / ".pytest_cache" / "README.md").write_text("cache")
    assert release.content_hash(package) == before
    (package / "src" / "tt_layers" / "extra.py").write_text("X = 1\n")
    assert release.content_hash(package) != before


def test_unreleased_notes_do_not_count_but_released_sections_do(repo):
    package = repo / "packages" / "tt-layers"
    before = release.content_hash(package)
    changelog = package / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    changelog.write_text(text.replace(release.UNRELEASED,
                                      release.UNRELEASED + "\n\n### Fixed\n\n- A note.", 1))
    assert release.content_hash(package) == before
    changelog.write_text(text.replace("## [0.1.0] - 2026-11-24", "## [0.1.0] - 2026-11-25"))
    assert release.content_hash(package) != before


def test_the_hash_is_sha256_over_the_sorted_file_digests(repo):
    import hashlib

    package = repo / "packages" / "tt-setup"
    lines = []
    for relative in sorted(p.relative_to(package).as_posix() for p in package.rglob("*")
                           if p.is_file()):
        data = (package / relative).read_bytes()
        if relative == "CHANGELOG.md":
            data = release.without_unreleased(data.decode()).encode()
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {relative}\n")
    assert release.content_hash(package) == hashlib.sha256("".join(lines).encode()).hexdigest()


def test_a_version_missing_from_the_manifest_is_named(repo):
    path = repo / "packages/tt-setup/src/tt_setup/_version.py"
    path.write_text('__version__ = "0.1.7"\n')
    code, out = run(repo, "check")
    assert code == 1
    assert "tt-setup 0.1.7 is not in releases.json" in out
    assert "no '## [0.1.7] - <date>' section" in out


# ---------------------------------------------------------------- the bump

def test_bump_makes_the_check_pass_and_updates_pins_changelog_and_requirements(repo):
    append_line(repo, "tt-attention", "src/tt_attention/functional.py", "# one more line\n")
    notes = release.unreleased_notes(read(repo, "tt-attention", "CHANGELOG.md"))
    assert notes, "tt-attention has Unreleased notes to release"
    code, out = run(repo, "--date", DATE, "bump", "tt-attention", "minor")
    assert code == 0, out
    assert run(repo, "check") == (0, "release check: ok\n")
    assert graph.check(repo) == []  # ranges, pins and requirement files agree
    assert version(repo, "tt-attention") == "0.2.0"
    changelog = read(repo, "tt-attention", "CHANGELOG.md")
    assert f"## [Unreleased]\n\n## [0.2.0] - {DATE}\n\n{notes}\n\n## [0.1.0]" in changelog
    # a contract change: the dependant moves to the new series and gets a patch release
    assert requirement(repo, "tt-transformers", "tt-attention") == {"~=0.2.0"}
    assert version(repo, "tt-transformers") == "0.1.1"
    assert "- Requires tt-attention~=0.2.0 (was ~=0.1.0)." in read(
        repo, "tt-transformers", "CHANGELOG.md")
    # the meta-package pins both exactly and is bumped once
    assert requirement(repo, "tinytorch", "tt-attention") == {"==0.2.0"}
    assert requirement(repo, "tinytorch", "tt-transformers") == {"==0.1.1"}
    assert version(repo, "tinytorch") == "0.2.1"
    assert "- Pins tt-attention 0.2.0, tt-transformers 0.1.1." in read(
        repo, "tinytorch", "CHANGELOG.md")
    wanted = graph.requirement_files(graph.load_packages(repo), repo)
    assert all(path.read_text() == text for path, text in wanted.items())
    manifest = release.load_manifest(repo)["distributions"]
    assert manifest["tt-attention"]["0.2.0"]["date"] == DATE
    assert set(manifest["tt-attention"]) == {"0.1.0", "0.2.0"}


def test_a_patch_leaves_the_dependants_ranges_alone(repo):
    code, out = run(repo, "--date", DATE, "bump", "tt-tensor", "patch")
    assert code == 0, out
    assert version(repo, "tt-tensor") == "0.1.1"
    assert requirement(repo, "tt-layers", "tt-tensor") == {"~=0.1.0"}
    assert version(repo, "tt-layers") == "0.1.0"
    assert requirement(repo, "tinytorch", "tt-tensor") == {"==0.1.1"}
    assert run(repo, "check")[0] == 0 and graph.check(repo) == []


def test_several_at_once_bump_the_meta_package_once(repo):
    code, out = run(repo, "--date", DATE, "bump", "tt-tensor", "minor", "tt-layers", "minor",
                    "tt-setup", "patch")
    assert code == 0, out
    assert version(repo, "tinytorch") == "0.2.1"
    assert read(repo, "tinytorch", "CHANGELOG.md").count(f"] - {DATE}") == 1
    # tt-layers is both named (minor) and a dependant of tt-tensor: the larger bump wins
    assert version(repo, "tt-layers") == "0.2.0"
    assert requirement(repo, "tt-networks", "tt-layers") == {"~=0.2.0"}
    assert requirement(repo, "tt-training", "tt-tensor") == {"~=0.2.0"}
    assert version(repo, "tt-autograd") == "0.1.1"  # a direct dependant of tt-tensor
    assert run(repo, "check")[0] == 0 and graph.check(repo) == []


def test_a_meta_pin_with_an_extra_keeps_the_extra(repo):
    # tinytorch[language] and [all] pin "tt-systems[metrics]==...": the bump moves the version
    code, out = run(repo, "--date", DATE, "bump", "tt-systems", "patch")
    assert code == 0, out
    assert requirement(repo, "tinytorch", r"tt-systems\[metrics\]") == {"==0.1.1"}
    assert '"tt-systems==' not in read(repo, "tinytorch", "pyproject.toml")
    assert run(repo, "check")[0] == 0 and graph.check(repo) == []


def test_a_test_extra_range_moves_too(repo):
    code, out = run(repo, "--date", DATE, "bump", "tt-autograd", "minor")
    assert code == 0, out
    assert requirement(repo, "tt-attention", "tt-autograd") == {"~=0.2.0"}  # its test extra
    assert version(repo, "tt-attention") == "0.1.1"
    assert requirement(repo, "tt-optimizers", "tt-autograd") == {"~=0.2.0"}
    assert run(repo, "check")[0] == 0 and graph.check(repo) == []


def test_a_bump_with_no_notes_is_refused_and_changes_nothing(repo):
    assert run(repo, "--date", DATE, "bump", "tt-tensor", "patch")[0] == 0
    before = {path: path.read_bytes() for path in repo.rglob("*") if path.is_file()}
    code, out = run(repo, "--date", DATE, "bump", "tt-tensor", "patch")
    assert code != 0
    assert "tt-tensor: nothing under '## [Unreleased]'" in out
    assert {path: path.read_bytes() for path in repo.rglob("*") if path.is_file()} == before


def test_bad_arguments_are_named(repo):
    assert "level 'huge' is not one of" in run(repo, "bump", "tt-tensor", "huge")[1]
    assert "unknown distribution tt-nothing" in run(repo, "bump", "tt-nothing", "patch")[1]


def test_rehash_records_an_unpublished_version_again(repo):
    append_line(repo, "tt-setup", "README.md", "More words.\n")
    assert run(repo, "check")[0] == 1
    code, out = run(repo, "rehash", "tt-setup")
    assert code == 0, out
    assert run(repo, "check")[0] == 0
    assert release.load_manifest(repo)["distributions"]["tt-setup"]["0.1.0"]["date"] == (
        "2026-11-24")


# ---------------------------------------------------------------- versions and changelogs

@pytest.mark.parametrize("old, level, new, breaking", [
    ("0.1.0", "patch", "0.1.1", False), ("0.1.3", "minor", "0.2.0", True),
    ("0.4.2", "major", "1.0.0", True), ("1.2.3", "minor", "1.3.0", False),
    ("1.2.3", "major", "2.0.0", True), ("1.2.3", "patch", "1.2.4", False),
])
def test_next_version_and_what_breaks(old, level, new, breaking):
    assert release.next_version(old, level) == new
    assert release.is_breaking(old, new) is breaking


def test_ranges_cover_one_series():
    assert release.compatible_range("0.3.0") == "~=0.3.0"  # >=0.3.0,<0.4
    assert release.compatible_range("1.2.0") == "~=1.2"  # >=1.2,<2


def test_release_changelog_merges_generated_lines_into_changed():
    text = ("# Changelog\n\n## [Unreleased]\n\n### Added\n\n- New thing.\n\n### Changed\n\n"
            "- Old thing.\n\n## [0.1.0] - 2026-11-24\n\n- First.\n")
    out = release.release_changelog(text, "0.1.1", DATE, ["Requires x~=0.2.0."])
    assert out == ("# Changelog\n\n## [Unreleased]\n\n## [0.1.1] - 2030-01-02\n\n### Added\n\n"
                   "- New thing.\n\n### Changed\n\n- Old thing.\n- Requires x~=0.2.0.\n\n"
                   "## [0.1.0] - 2026-11-24\n\n- First.\n")
    empty = "# C\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-24\n"
    assert release.release_changelog(empty, "0.1.1", DATE, ["Pins a 1."]) == (
        "# C\n\n## [Unreleased]\n\n## [0.1.1] - 2030-01-02\n\n### Changed\n\n- Pins a 1.\n\n"
        "## [0.1.0] - 2026-11-24\n")


# ---------------------------------------------------------------- the hash covers the artifacts

def build(package_dir, out):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-t", "wheel",
                    "-d", str(out)], cwd=package_dir, check=True, capture_output=True)
    sdist, = out.glob("*.tar.gz")
    wheel, = out.glob("*.whl")
    return sdist, wheel


@pytest.mark.parametrize("name", ["tt-attention", "tinytorch"])
def test_the_hashed_files_are_the_sdist_and_cover_the_wheel(repo, tmp_path, name):
    package = repo / "packages" / name
    sdist, wheel = build(package, tmp_path / "out")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile()}
    # PKG-INFO is generated; .gitignore is the repository's, copied in by hatchling; the
    # meta-package's _course/ copies are covered by its exact pins (each module has its hash);
    # its _capstones/ (the capstone programs for `tinytorch run`) and _notebooks/ (the course
    # notebooks for `tinytorch new`) are hashed with it
    shipped = {m for m in members if m not in {"PKG-INFO", ".gitignore"}
               and not m.startswith("_course/")}
    assert shipped == set(release.content_files(package)) | set(release.shipped_files(package))
    assert any(m.startswith("_capstones/") for m in shipped) == (name == "tinytorch")
    assert any(m.startswith("_notebooks/") for m in shipped) == (name == "tinytorch")
    source = package / "src" / name.replace("-", "_")
    with zipfile.ZipFile(wheel) as archive:
        code = {n for n in archive.namelist() if ".dist-info/" not in n and not n.startswith(
            ("tinytorch/_course/", "tinytorch/_capstones/", "tinytorch/_notebooks/"))}
        changelog = [n for n in archive.namelist()
                     if n.split("/")[-2:] == ["extra_metadata", "CHANGELOG.md"]]
        notebooks = {n.split("/")[-1]: archive.read(n) for n in archive.namelist()
                     if n.startswith("tinytorch/_notebooks/")}
    assert code == {p.relative_to(source.parent).as_posix() for p in source.rglob("*.py")}
    assert len(changelog) == 1
    built = sorted((repo / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks == ({p.name: p.read_bytes() for p in built} if name == "tinytorch" else {})
    assert name != "tinytorch" or len(notebooks) == len(graph.COURSE)


def test_a_changed_notebook_needs_a_tinytorch_bump(repo):
    """The tinytorch wheel ships the built notebooks (`tinytorch new`): they are its content;
    their cell sources (notebooks/NN_<name>.py) are not shipped and do not count."""
    before = release.content_hash(repo / "packages" / "tinytorch")
    (repo / "notebooks" / "03_activations.py").write_text("# %% [markdown]\n# changed\n")
    assert release.content_hash(repo / "packages" / "tinytorch") == before
    notebook = repo / "notebooks" / "03_activations.ipynb"
    notebook.write_text(notebook.read_text() + "\n")
    code, out = run(repo, "check")
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1, out
    assert "tinytorch: the sources differ" in errors[0]


# ---------------------------------------------------------------- old releases for nox -s oldest

def commit_all(root, message):
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit",
                    "-q", "-m", message], cwd=root, check=True)


def test_oldest_allowed_is_the_lowest_recorded_version_in_each_range(repo):
    assert run(repo, "--date", DATE, "bump", "tt-tensor", "patch")[0] == 0
    packages = graph.load_packages(repo)
    manifest = release.load_manifest(repo)
    assert set(manifest["distributions"]["tt-tensor"]) == {"0.1.0", "0.1.1"}
    assert release.oldest_allowed(manifest, packages["tt-layers"]) == {
        "tt-activations": "0.1.0", "tt-tensor": "0.1.0"}
    # the test extra counts: tt-attention's contract tests need tt-autograd
    assert set(release.oldest_allowed(manifest, packages["tt-attention"])) == {
        "tt-autograd", "tt-layers", "tt-tensor"}
    add_note(repo, "tt-tensor", "### Changed\n\n- **Contract:** something.")
    assert "tt-tensor -> 0.2.0" in run(repo, "--date", DATE, "bump", "tt-tensor", "minor")[1]
    packages, manifest = graph.load_packages(repo), release.load_manifest(repo)
    assert release.oldest_allowed(manifest, packages["tt-layers"])["tt-tensor"] == "0.2.0"


def test_an_old_release_is_found_in_the_history_by_its_hash(repo, tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    commit_all(repo, "0.1.0")
    recorded = release.load_manifest(repo)["distributions"]["tt-setup"]["0.1.0"]["sha256"]
    append_line(repo, "tt-setup", "src/tt_setup/doctor.py", "# a fix\n")
    assert run(repo, "--date", DATE, "bump", "tt-setup", "patch")[0] == 0
    commit_all(repo, "tt-setup 0.1.1")
    old = release.export_release(repo, "tt-setup", "0.1.0", tmp_path / "sources")
    assert graph.load_package(old).version == "0.1.0"
    assert release.content_hash(old) == recorded
    assert "# a fix" not in (old / "src/tt_setup/doctor.py").read_text()
    manifest = release.load_manifest(repo)
    manifest["distributions"]["tt-tensor"]["0.1.0"]["sha256"] = "0" * 64
    release.save_manifest(repo, manifest)
    with pytest.raises(SystemExit, match="tt-tensor 0.1.0: no commit of this history"):
        release.export_release(repo, "tt-tensor", "0.1.0", tmp_path / "sources")


def test_the_learner_packages_follow_their_reference(repo):
    own = repo / "learners" / "activations"
    assert graph.load_package(own).version == "0.1.0+own"
    code, out = run(repo, "--date", DATE, "bump", "tt-tensor", "minor", "tt-activations", "patch")
    assert code == 0, out
    assert graph.load_package(own).version == "0.1.1+own"
    text = (own / "pyproject.toml").read_text()
    assert '"tt-tensor~=0.2.0"' in text and "(0.1.1+own, in src/" in text
    layers = graph.load_package(repo / "learners" / "layers")
    assert layers.version == "0.1.1+own"  # a dependant of tt-tensor: its patch release
    assert {r.spec for r in layers.deps if r.name == "tt-tensor"} == {"~=0.2.0"}
