"""One home per concept: no public class or function is defined in two packages' sources.

A second copy (a tokenizer in tt-systems, activation classes in tt-activations beside
tt-layers' Modules, embeddings hand-rolled in the GPT) starts as a definition under a name
another package already exports. Packages import the one home instead (an extra edge to an
earlier module where the course graph needs one).
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# the same name for two things that are not one concept, with the reason
NOT_COPIES = {
    "tanh": "module 03's activation over tt-tensor's primitive (as torch.nn.functional.tanh "
            "over torch.tanh): a learner task that calls the primitive, not a second formula",
    "ModuleRecord": "tt-setup's is a course module's install record, tt-systems' a profiled "
                    "layer's time and FLOPs",
    "lm_loss": "tt-systems' evaluates a model's mean loss over random windows of a token "
               "stream (no graph); tinytorch's milestone runner's is one batch's loss to train on",
    "use_fast_paths": "each package's switch for its own fast paths (as torch.backends has one "
                      "flag per backend), made by tt_tensor.FastPathSwitch.functions, the one "
                      "implementation: a replaced module brings its own switch, or none",
    "fast_paths_enabled": "reads the switch of its own package's fast paths (use_fast_paths)",
}


def definitions(src, root=ROOT):
    """{public name: [file]} of the classes and functions defined at the top of each file: by
    `def`/`class`, or made by a call (`add = _elementwise(P.ADD, np.add, ...)`, also
    several at once: `use_fast_paths, fast_paths_enabled = _switch.functions(...)`)."""
    found = defaultdict(list)
    for path in sorted(src.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                targets = [e for t in node.targets  # `a, b = make()` defines a and b
                           for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
            else:
                continue
            for name in names:
                if not name.startswith("_"):
                    found[name].append(path.relative_to(root).as_posix())
    return found


def exported(src):
    """The names in the package's `__all__` (read from its __init__.py, nothing imported)."""
    for init in src.glob("*/__init__.py"):
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__"
                                                    for t in node.targets):
                return set(ast.literal_eval(node.value))
    return set()


def copies(root):
    """{name: [files]} for public names defined in two packages, one of which exports it."""
    where, public = defaultdict(list), set()
    for src in sorted(root.glob("packages/*/src")):
        public |= exported(src)
        for name, files in definitions(src, root).items():
            where[name] += files
    packages = lambda files: {f.split("/")[1] for f in files}  # noqa: E731
    return {name: files for name, files in where.items()
            if len(packages(files)) > 1 and name in public and name not in NOT_COPIES}


def test_no_concept_is_defined_in_two_packages():
    assert copies(ROOT) == {}


def test_the_check_catches_a_second_tokenizer(tmp_path):
    for package, code in [("tt-embeddings", "class CharTokenizer:\n    pass\n"),
                          ("tt-systems", "class CharTokenizer:\n    '''a copy'''\n")]:
        src = tmp_path / "packages" / package / "src" / package.replace("-", "_")
        src.mkdir(parents=True)
        (src / "tokenizer.py").write_text(code)
        (src / "__init__.py").write_text('__all__ = ["CharTokenizer"]\n')
    assert copies(tmp_path) == {"CharTokenizer": [
        "packages/tt-embeddings/src/tt_embeddings/tokenizer.py",
        "packages/tt-systems/src/tt_systems/tokenizer.py"]}


def test_the_allowed_names_are_still_in_use():
    # an entry of NOT_COPIES that no longer names two definitions is stale: remove it
    where = defaultdict(set)
    for src in ROOT.glob("packages/*/src"):
        for name, files in definitions(src).items():
            where[name] |= {f.split("/")[1] for f in files}
    assert {name for name in NOT_COPIES if len(where[name]) < 2} == set()


def test_the_check_sees_a_function_made_by_a_call(tmp_path):
    for package, code in [("tt-tensor", "exp = _elementwise(P.EXP, np.exp, 'e ** x.')\n"),
                          ("tt-layers", "def exp(x):\n    return x\n")]:
        src = tmp_path / "packages" / package / "src" / package.replace("-", "_")
        src.mkdir(parents=True)
        (src / "ops.py").write_text(code)
        (src / "__init__.py").write_text('__all__ = ["exp"]\n')
    assert copies(tmp_path) == {"exp": ["packages/tt-layers/src/tt_layers/ops.py",
                                        "packages/tt-tensor/src/tt_tensor/ops.py"]}


def test_the_check_sees_names_made_together_by_one_call(tmp_path):
    for package in ("tt-spatial", "tt-attention"):
        src = tmp_path / "packages" / package / "src" / package.replace("-", "_")
        src.mkdir(parents=True)
        (src / "fused.py").write_text("switch_on, switch_state = _switch.functions('x')\n")
        (src / "__init__.py").write_text('__all__ = ["switch_on"]\n')
    assert copies(tmp_path) == {"switch_on": ["packages/tt-attention/src/tt_attention/fused.py",
                                              "packages/tt-spatial/src/tt_spatial/fused.py"]}
