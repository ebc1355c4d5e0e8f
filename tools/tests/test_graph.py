"""tools/graph.py: the check passes on the repository and fails, naming the problem, on drift."""

import re
import subprocess
import sys

import pytest

import graph
from conftest import ROOT, edit_file as edit


def problems(root):
    return graph.check(root)


def test_the_repository_passes(capsys):
    assert graph.main(["--root", str(ROOT), "check"]) == 0
    assert capsys.readouterr().out.strip() == "graph check: ok"


def test_the_copy_passes(repo):
    assert problems(repo) == []


def test_an_extra_edge_is_named(repo):
    edit(repo / "packages/tt-embeddings/pyproject.toml", '"tt-layers~=0.1.0",',
         '"tt-layers~=0.1.0",\n    "tt-normalization~=0.1.0",')
    found = problems(repo)
    assert ("tt-embeddings declares tt-normalization but the course graph does not (an extra "
            "edge must be recorded in the course table, with its reason)") in found
    assert "tools/requirements/tt-embeddings.txt is out of date: " \
           "run python tools/graph.py reqs" in found


def test_a_missing_edge_is_named(repo):
    edit(repo / "packages/tt-networks/pyproject.toml", '    "tt-layers~=0.1.0",\n', "")
    assert any(p.startswith("tt-networks is missing tt-layers") for p in problems(repo))


def test_a_lagging_meta_pin_is_named(repo):
    edit(repo / "packages/tt-tensor/src/tt_tensor/_version.py", '"0.1.0"', '"0.1.1"')
    found = problems(repo)
    for extra in ("foundations", "vision", "language", "all"):
        assert (f"tinytorch [{extra}] pins 'tt-tensor==0.1.0' but packages/tt-tensor is 0.1.1: "
                "pin tt-tensor==0.1.1") in found
    assert len(found) == 4  # ~=0.1.0 still admits 0.1.1: the siblings are fine


def test_a_meta_pin_with_an_extra_is_checked_like_any_pin(repo):
    # the meta-package brings tt-systems with its [metrics] extra (prometheus-client)
    assert graph.parse_requirement("tt-systems[metrics]==0.1.0")[:2] == ("tt-systems", "==0.1.0")
    edit(repo / "packages/tt-systems/src/tt_systems/_version.py", '"0.1.0"', '"0.1.1"')
    found = problems(repo)
    for extra in ("language", "all"):
        assert (f"tinytorch [{extra}] pins 'tt-systems[metrics]==0.1.0' but packages/tt-systems "
                "is 0.1.1: pin tt-systems==0.1.1") in found
    assert len(found) == 2


def test_a_sibling_range_that_excludes_the_version_is_named(repo):
    edit(repo / "packages/tt-tensor/src/tt_tensor/_version.py", '"0.1.0"', '"0.2.0"')
    found = problems(repo)
    assert "tt-activations requires tt-tensor~=0.1.0 but packages/tt-tensor is 0.2.0" in found
    assert "tt-training requires tt-tensor~=0.1.0 but packages/tt-tensor is 0.2.0" in found


def test_a_sibling_requirement_must_be_a_compatible_range(repo):
    edit(repo / "packages/tt-networks/pyproject.toml", '"tt-layers~=0.1.0"', '"tt-layers>=0.1"')
    assert any(p.startswith("tt-networks requires 'tt-layers>=0.1'") for p in problems(repo))


def test_extras_must_equal_their_exit_points(repo):
    meta = repo / "packages/tinytorch/pyproject.toml"
    edit(meta, 'foundations = [\n', 'foundations = [\n    "tt-embeddings==0.1.0",\n')
    edit(meta, 'vision = [\n', 'vision = [\n    "tt-spatial==0.1.0",\n')  # duplicate is fine
    edit(meta, '    "tt-training==0.1.0",\n]\nlanguage', ']\nlanguage')
    found = problems(repo)
    assert ("tinytorch [foundations] pins tt-embeddings but that exit point does not include it"
            in found)
    assert "tinytorch [vision] is missing tt-training" in found


def test_the_base_install_is_tt_setup_only(repo):
    edit(repo / "packages/tinytorch/pyproject.toml", '"tt-setup==0.1.0",\n]',
         '"tt-setup==0.1.0",\n    "tt-tensor==0.1.0",\n]')
    assert ("tinytorch base install pins tt-tensor but that exit point does not include it"
            in problems(repo))


def test_a_meta_version_below_0_2_0_is_named(repo):
    edit(repo / "packages/tinytorch/src/tinytorch/_version.py", '"0.2.0"', '"0.1.5"')
    assert any(p.startswith("tinytorch is 0.1.5; it must be >= 0.2.0") for p in problems(repo))


def test_a_cycle_is_named(repo):
    edit(repo / "packages/tt-tensor/pyproject.toml", '"numpy>=1.24",',
         '"numpy>=1.24",\n    "tt-systems~=0.1.0",')
    found = problems(repo)
    assert any(p.startswith("tt-tensor declares tt-systems but the course graph does not")
               for p in found)
    assert any(p.startswith("declared dependencies have a cycle through tt-tensor")
               for p in found)


def test_importing_an_undeclared_sibling_is_named(repo):
    init = repo / "packages/tt-embeddings/src/tt_embeddings/__init__.py"
    init.write_text("from tt_layers import Module\nimport tt_normalization\n")
    assert ("packages/tt-embeddings/src/tt_embeddings/__init__.py imports tt_normalization "
            "but tt-embeddings does not depend on tt-normalization") in problems(repo)


def test_a_test_extra_lets_tests_but_not_code_import_autograd(repo):
    pyproject = repo / "packages/tt-dataloader/pyproject.toml"
    test = repo / "packages/tt-dataloader/tests/test_gradients.py"
    test.parent.mkdir()
    test.write_text("from tt_autograd import gradcheck\n")
    assert ("packages/tt-dataloader/tests/test_gradients.py imports tt_autograd but "
            "tt-dataloader does not depend on tt-autograd") in problems(repo)
    pyproject.write_text(pyproject.read_text() + '\n[project.optional-dependencies]\n'
                         'test = ["tt-autograd~=0.1.0"]\n')
    graph.write_requirement_files(graph.load_packages(repo), repo)
    assert problems(repo) == []
    reqs = (repo / "tools/requirements/tt-dataloader.txt").read_text()
    assert "-e ./packages/tt-autograd" in reqs and "-e ./packages/tt-networks" in reqs
    code = repo / "packages/tt-dataloader/src/tt_dataloader/grads.py"
    code.parent.mkdir(parents=True, exist_ok=True)
    code.write_text("import tt_autograd\n")
    assert ("packages/tt-dataloader/src/tt_dataloader/grads.py imports tt_autograd but "
            "tt-dataloader does not depend on tt-autograd") in problems(repo)


def test_a_test_extra_may_not_point_back_at_its_package(repo):
    pyproject = repo / "packages/tt-layers/pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[project.optional-dependencies]\n'
                         'test = ["tt-networks~=0.1.0"]\n')
    graph.write_requirement_files(graph.load_packages(repo), repo)
    assert problems(repo) == [
        "tt-layers's test extra names tt-networks, which depends on tt-layers"]


def test_tests_may_not_import_a_private_submodule(repo):
    test = repo / "packages/tt-layers/tests/test_private.py"
    test.parent.mkdir()
    test.write_text("from tt_layers._impl import thing\nfrom tt_tensor import Tensor\n")
    assert problems(repo) == [
        "packages/tt-layers/tests/test_private.py imports tt_layers._impl: use the public "
        "names of tt_layers (its __all__), not a submodule"]


def test_reqs_lists_the_package_and_its_siblings_in_dependency_order(repo, capsys):
    (repo / "tools/requirements/tt-generation.txt").unlink()
    (repo / "tools/requirements/tt-stale.txt").write_text("./packages/tt-stale\n")
    found = problems(repo)
    assert "tools/requirements/tt-generation.txt is out of date: " \
           "run python tools/graph.py reqs" in found
    assert "tools/requirements/tt-stale.txt belongs to no package: delete it" in found
    assert graph.main(["--root", str(repo), "reqs"]) == 0
    lines = (repo / "tools/requirements/tt-generation.txt").read_text().splitlines()
    assert lines[1:] == [f"-e ./packages/tt-{name}" for name in [
        "setup", "tensor", "activations", "layers", "normalization", "embeddings", "attention",
        "transformers", "generation"]]


def test_every_requirement_file_is_a_dependency_closed_order():
    packages = graph.load_packages(ROOT)
    declared = graph.declared_graph(packages)
    for name in packages:
        lines = graph.requirement_lines(packages, name)
        names = [packages_name(packages, line) for line in lines]
        assert set(names) == graph.test_closure(packages, name)
        for position, dep_owner in enumerate(names):
            assert set(declared[dep_owner]) <= set(names[:position]), (name, dep_owner)


def packages_name(packages, line):
    folder = line.removeprefix("-e ./packages/")
    return next(name for name, package in packages.items() if package.path.name == folder)


def test_order_is_topological(capsys):
    assert graph.main(["--root", str(ROOT), "order"]) == 0
    order = capsys.readouterr().out.split()
    assert order[0] == "tt-setup" and order[-1] == "tinytorch"
    for name, module in graph.COURSE.items():
        assert all(order.index(dep) < order.index(name) for dep in module.deps)


def test_the_command_line_exits_1_and_lists_every_problem(repo):
    edit(repo / "packages/tt-networks/pyproject.toml", '    "tt-layers~=0.1.0",\n', "")
    edit(repo / "packages/tt-tensor/src/tt_tensor/_version.py", '"0.1.0"', '"0.1.1"')
    done = subprocess.run([sys.executable, str(ROOT / "tools/graph.py"), "--root", str(repo),
                           "check"], capture_output=True, text=True)
    assert done.returncode == 1
    assert "error: tt-networks is missing tt-layers" in done.stdout
    assert "error: tinytorch [vision] pins 'tt-tensor==0.1.0'" in done.stdout
    assert re.search(r"graph check: \d+ problem\(s\)", done.stdout)


def test_the_subset_reader_reads_our_pyproject_shapes():
    text = '''
[project]
name = "tt-x"  # a trailing comment
dynamic = ["version"]
dependencies = [
    "numpy>=1.24",
    # a comment line
    "tt-tensor~=0.1.0",  # "#" in a comment
    "odd#name",
]

[project.optional-dependencies]
small = ["tt-a==0.1.0", "tt-b==0.1.0"]

[tool.hatch.version]
path = "src/tt_x/_version.py"
'''
    assert graph.read_toml_subset(text) == {
        "project": {"name": "tt-x", "dynamic": ["version"],
                    "dependencies": ["numpy>=1.24", "tt-tensor~=0.1.0", "odd#name"],
                    "optional-dependencies": {"small": ["tt-a==0.1.0", "tt-b==0.1.0"]}},
        "tool": {"hatch": {"version": {"path": "src/tt_x/_version.py"}}},
    }


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is new in Python 3.11")
@pytest.mark.parametrize("pyproject", sorted(ROOT.glob("packages/*/pyproject.toml")),
                         ids=lambda path: path.parent.name)
def test_the_subset_reader_agrees_with_tomllib(pyproject):
    import tomllib

    full = tomllib.loads(pyproject.read_text())
    subset = graph.read_toml_subset(pyproject.read_text())
    assert subset["project"]["name"] == full["project"]["name"]
    for key in ("dependencies", "optional-dependencies"):
        assert subset["project"].get(key) == full["project"].get(key)
    assert subset["tool"]["hatch"]["version"] == full["tool"]["hatch"]["version"]


def test_tt_setup_lists_the_same_modules_as_the_graph():
    from tt_setup import COURSE_MODULES

    assert [(m.distribution, m.number, m.part) for m in COURSE_MODULES] == [
        (name, module.number, module.part) for name, module in graph.COURSE.items()]


def test_the_uv_workspace_names_every_distribution_and_nothing_else(repo):
    text = (ROOT / "pyproject.toml").read_text()
    (repo / "pyproject.toml").write_text(text)
    assert problems(repo) == []
    edit(repo / "pyproject.toml", "tt-layers = { workspace = true }\n", "")
    edit(repo / "pyproject.toml", "tinytorch = { workspace = true }",
         "tinytorch = { workspace = true }\ntt-extra = { workspace = true }")
    assert problems(repo) == [
        "pyproject.toml: [tool.uv.sources] is missing tt-layers = { workspace = true }",
        "pyproject.toml: [tool.uv.sources] names tt-extra, which is not in packages/"]
    (repo / "pyproject.toml").write_text('[project]\nname = "root"\n' + text)
    assert problems(repo)[0].startswith("pyproject.toml: the workspace root must not be a package")
