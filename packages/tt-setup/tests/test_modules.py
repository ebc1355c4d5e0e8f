"""module_report() lists the seventeen modules; classify_install() tells reference from own."""

from importlib import metadata
from pathlib import Path

import pytest

from tt_setup import COURSE_MODULES, classify_install, module_report

DISTRIBUTIONS = ["tt-setup", "tt-tensor", "tt-activations", "tt-layers", "tt-networks",
                 "tt-spatial", "tt-dataloader", "tt-normalization", "tt-autograd",
                 "tt-optimizers", "tt-training", "tt-embeddings", "tt-attention",
                 "tt-transformers", "tt-generation", "tt-regularization", "tt-systems"]


def installed_version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def test_course_modules_are_the_seventeen_in_order():
    assert [module.distribution for module in COURSE_MODULES] == DISTRIBUTIONS
    assert [module.number for module in COURSE_MODULES] == list(range(1, 18))
    assert COURSE_MODULES[6].import_name == "tt_dataloader"


@pytest.mark.parametrize("number, extra", [(1, "foundations"), (5, "foundations"),
                                           (6, "vision"), (11, "vision"),
                                           (12, "language"), (17, "language")])
def test_each_module_knows_its_smallest_extra(number, extra):
    assert COURSE_MODULES[number - 1].extra == extra


def test_report_has_one_record_per_module_in_course_order():
    report = module_report()
    assert [(r.number, r.distribution, r.import_name) for r in report] == [
        (m.number, m.distribution, m.import_name) for m in COURSE_MODULES]


def test_report_marks_tt_setup_installed_with_its_version():
    setup = module_report()[0]
    assert setup.installed
    assert setup.version == metadata.version("tt-setup")
    assert setup.kind in ("reference", "own")
    assert Path(setup.location).is_dir()


def test_report_agrees_with_installed_distributions():
    for record in module_report():
        version = installed_version(record.distribution)
        assert record.installed == (version is not None), record.distribution
        assert record.version == version
        if not record.installed:
            assert (record.kind, record.location) == (None, None)


def test_local_label_own_means_own(tmp_path):
    assert classify_install("tt-layers", "0.1.0+own", None, None) == "own"
    assert classify_install("tt-layers", "0.1.0+own", str(tmp_path), str(tmp_path)) == "own"


def test_wheel_install_is_the_reference():
    assert classify_install("tt-layers", "0.1.0", None, "/repo/packages") == "reference"


def test_editable_install_from_the_checkout_is_the_reference(tmp_path):
    packages = tmp_path / "packages"
    (packages / "tt-layers").mkdir(parents=True)
    source = str(packages / "tt-layers")
    assert classify_install("tt-layers", "0.1.0", source, str(packages)) == "reference"


def test_editable_install_elsewhere_is_own(tmp_path):
    packages = tmp_path / "repo" / "packages"
    learner = tmp_path / "my-layers"
    learner.mkdir()
    assert classify_install("tt-layers", "0.1.0", str(learner), str(packages)) == "own"
    # another module's folder inside the checkout is not this module's reference either
    other = str(packages / "tt-tensor")
    assert classify_install("tt-layers", "0.1.0", other, str(packages)) == "own"


def test_editable_install_without_a_known_checkout_is_own(tmp_path):
    assert classify_install("tt-layers", "0.1.0", str(tmp_path), None) == "own"
