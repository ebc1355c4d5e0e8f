"""The course table drives the dependency rule, tox.ini's lists and the README's module table;
`graph.py check` fails on each way they can disagree, and `graph.py sync` repairs the files."""

import json
import re

import pytest

import course_table
import graph
from conftest import ROOT


def change_table(root, change):
    """Load root's course.json, let `change(modules_by_name)` edit it, write it back."""
    path = root / course_table.TABLE
    data = json.loads(path.read_text())
    change({entry["distribution"]: entry for entry in data["modules"]})
    path.write_text(json.dumps(data, indent=1))


def declare(root, package, dep, edit):
    edit(root / f"packages/{package}/pyproject.toml", 'dependencies = [\n',
         f'dependencies = [\n    "{dep}~=0.1.0",\n')
    graph.write_requirement_files(graph.load_packages(root), root)


def test_a_recorded_extra_edge_with_its_declaration_passes(repo, edit):
    change_table(repo, lambda m: m["tt-attention"]["extra_edges"].append(
        {"to": "tt-embeddings", "reason": "a reason"}))
    declare(repo, "tt-attention", "tt-embeddings", edit)
    assert graph.check(repo) == [
        "README.md differs from the course table: run python tools/graph.py sync",
        "ARCHITECTURE.md differs from the course table: run python tools/graph.py sync"]
    assert graph.main(["--root", str(repo), "sync"]) == 0
    assert graph.check(repo) == []
    assert "| tensor, layers; extra: embeddings |" in (repo / "README.md").read_text()


def test_an_extra_edge_pointing_forward_is_named(repo, edit):
    change_table(repo, lambda m: m["tt-embeddings"]["extra_edges"].append(
        {"to": "tt-attention", "reason": "masks"}))
    declare(repo, "tt-embeddings", "tt-attention", edit)
    found = graph.check(repo)
    assert ("course table: the extra edge tt-embeddings -> tt-attention points forward (module "
            "13, part 3, is not before module 12, part 3): an extra edge may only point to an "
            "earlier module") in found


def test_an_extra_edge_into_a_later_part_breaks_the_exit_point(repo, edit):
    change_table(repo, lambda m: m["tt-layers"]["extra_edges"].append(
        {"to": "tt-spatial", "reason": "convolutions"}))
    declare(repo, "tt-layers", "tt-spatial", edit)
    found = graph.check(repo)
    assert any(p.startswith("course table: the extra edge tt-layers -> tt-spatial points "
                            "forward") for p in found)
    assert ("course table: tinytorch[foundations] is not closed: tt-layers needs tt-spatial"
            in found)


def test_a_required_edge_into_a_later_part_breaks_the_exit_point(repo, edit):
    change_table(repo, lambda m: m["tt-networks"]["requires"].append("tt-dataloader"))
    declare(repo, "tt-networks", "tt-dataloader", edit)
    found = graph.check(repo)
    assert ("course table: tinytorch[foundations] is not closed: tt-networks needs "
            "tt-dataloader") in found
    assert "course table: tinytorch[vision] is not closed" not in " ".join(found)


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_extra_edge_without_a_reason_is_named(repo, reason):
    change_table(repo, lambda m: m["tt-systems"]["extra_edges"][0].update(reason=reason))
    assert ("course table: the extra edge tt-systems -> tt-embeddings has no reason"
            in graph.check(repo))


def test_an_extra_edge_that_is_also_a_course_edge_is_named(repo):
    change_table(repo, lambda m: m["tt-generation"]["extra_edges"].append(
        {"to": "tt-transformers", "reason": "twice"}))
    assert ("course table: tt-generation -> tt-transformers is a course edge and also an extra "
            "edge") in graph.check(repo)


def test_a_recorded_extra_edge_must_be_declared(repo, edit):
    edit(repo / "packages/tt-transformers/pyproject.toml", '    "tt-embeddings~=0.1.0",\n', "")
    graph.write_requirement_files(graph.load_packages(repo), repo)
    reason = graph.course_table.load_course(repo).modules["tt-transformers"].extra[0][1]
    assert graph.check(repo) == [
        f"tt-transformers is missing tt-embeddings (an extra edge of the course table: {reason})"]


def test_a_wrong_import_name_and_an_unknown_sibling_are_named(repo):
    def change(modules):
        modules["tt-layers"]["import"] = "tt_layer"
        modules["tt-layers"]["requires"].append("tt-nothing")

    change_table(repo, change)
    found = graph.check(repo)
    assert "course table: tt-layers has import name 'tt_layer'" in found
    assert "course graph: tt-layers depends on unknown tt-nothing" in found


def test_an_unreadable_table_is_one_problem_naming_the_file(repo):
    (repo / course_table.TABLE).write_text('{"modules": [')
    [problem] = graph.check(repo)
    assert problem.startswith(f"{repo / course_table.TABLE}: cannot read the course table")


@pytest.mark.parametrize("old, new", [
    ("foundations = tt-{setup,", "foundations = tt-{"),
    ("    networks: TT_PACKAGE = tt-networks\n", ""),
    ("py313: PYENV_VERSION = 3.13", "py313: PYENV_VERSION = 3.12"),
    ("tinytorch, tools, capstones", "tinytorch, capstones"),
])
def test_tox_ini_drift_is_named_and_sync_repairs_it(repo, edit, old, new):
    edit(repo / "tox.ini", old, new)
    assert graph.check(repo) == [
        "tox.ini differs from the course table: run python tools/graph.py sync"]
    assert graph.main(["--root", str(repo), "sync"]) == 0
    assert (repo / "tox.ini").read_text() == (ROOT / "tox.ini").read_text()


def test_readme_drift_is_named_and_sync_repairs_it(repo, edit):
    edit(repo / "README.md", "| 16 | tt-regularization |", "| 16 | tt-regularisation |")
    assert graph.check(repo) == [
        "README.md differs from the course table: run python tools/graph.py sync"]
    graph.main(["--root", str(repo), "sync"])
    assert (repo / "README.md").read_text() == (ROOT / "README.md").read_text()


def test_a_readme_without_the_markers_is_named(repo, edit, capsys):
    edit(repo / "README.md", course_table.markers("module table")[1], "")
    [problem] = graph.check(repo)
    assert problem.startswith("README.md has no module table markers")
    before = (repo / "README.md").read_text()
    assert graph.main(["--root", str(repo), "sync"]) == 1
    assert capsys.readouterr().out.startswith("error: README.md has no module table markers")
    assert (repo / "README.md").read_text() == before


def test_architecture_tables_follow_the_table_and_sync_repairs_them(repo):
    change_table(repo, lambda m: m["tt-systems"]["extra_edges"][0].update(reason="tokens"))
    assert graph.check(repo) == [
        "README.md differs from the course table: run python tools/graph.py sync",
        "ARCHITECTURE.md differs from the course table: run python tools/graph.py sync"]
    graph.main(["--root", str(repo), "sync"])
    assert graph.check(repo) == []
    text = (repo / "ARCHITECTURE.md").read_text()
    assert "| 17 tt-systems | 12 tt-embeddings | tokens |" in text
    assert "| I, foundations | 01–05: setup, tensor, activations, layers, networks |" in text


def expand(pattern):
    """tox's brace expansion of one label item: `tt-{a,b}` -> [`tt-a`, `tt-b`]."""
    match = re.fullmatch(r"(.*)\{(.*)\}(.*)", pattern)
    if match is None:
        return [pattern]
    return [match[1] + part + match[3] for part in match[2].split(",")]


def tox_labels():
    text = (ROOT / "tox.ini").read_text()
    block = re.search(r"^labels =\n((?:    .*\n)+)", text, re.MULTILINE).group(1)
    labels = {}
    for line in block.splitlines():
        name, _, items = line.strip().partition(" = ")
        labels[name] = [env for item in items.split(", ") for env in expand(item)]
    return labels


def test_each_exit_point_label_runs_exactly_its_modules():
    labels = tox_labels()
    for extra in ("foundations", "vision", "language"):
        assert labels[extra] == graph.exit_point(extra)


@pytest.mark.parametrize("python", course_table.PYTHONS)
def test_each_python_label_runs_every_env_of_env_list(python):
    text = (ROOT / "tox.ini").read_text()
    block = re.search(r"^env_list =\n((?:    .*\n)+)", text, re.MULTILINE).group(1)
    env_list = [env.strip() for env in block.replace("\n", " ").split(",") if env.strip()]
    factor = "py" + python.replace(".", "")
    assert env_list == [*graph.COURSE, "tinytorch", "tools", "capstones"]
    assert tox_labels()[factor] == [f"{factor}-{env}" for env in env_list]


def test_tt_setup_reads_the_same_table_as_the_tools():
    import tt_setup

    table = tt_setup.course_table()
    assert [(m.distribution, m.number, m.part, m.import_name, m.requires,
             tuple((e.to, e.reason) for e in m.extra_edges), m.title, m.provides)
            for m in table.modules] == [
        (name, m.number, m.part, m.import_name, m.deps, m.extra, m.title, m.provides)
        for name, m in graph.COURSE.items()]
    assert {part.extra: part.number for part in table.parts} == {
        extra: last for extra, last in graph.EXTRAS.items() if extra != "all"}


def test_a_module_readme_heading_must_match_the_table(repo):
    readme = repo / "packages/tt-layers/README.md"
    readme.write_text("# tt-layers (module 04, Part I)\n\ntext\n")
    assert graph.check(repo) == []
    readme.write_text("# tt-layers (module 05, Part I)\n")
    assert graph.check(repo) == [
        "packages/tt-layers/README.md opens with '# tt-layers (module 05, Part I)'; the course "
        "table says '# tt-layers (module 04, Part I)'"]


def test_every_module_readme_opens_with_its_number_and_part():
    for name, module in graph.COURSE.items():
        first = (ROOT / "packages" / name / "README.md").read_text().splitlines()[0]
        assert first == course_table.heading(name, module)
