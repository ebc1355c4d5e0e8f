"""course_table(): the course table shipped with tt_setup, as dataclasses; bad files are named."""

import json
from importlib import resources

import pytest

from tt_setup import (
    COURSE_MODULES,
    CourseModule,
    CourseTableError,
    ExtraEdge,
    course_table,
)


def shipped():
    return json.loads(resources.files("tt_setup").joinpath("course.json").read_text())


def write(tmp_path, data):
    path = tmp_path / "course.json"
    path.write_text(json.dumps(data))
    return path


def test_the_shipped_table_is_the_file_in_the_package():
    data = shipped()
    table = course_table()
    assert [m.distribution for m in table.modules] == [e["distribution"] for e in data["modules"]]
    assert [m.number for m in table.modules] == list(range(1, len(data["modules"]) + 1))
    assert table.modules == COURSE_MODULES
    assert all(isinstance(m, CourseModule) for m in table.modules)


def test_every_module_knows_its_edges_and_extra():
    table = course_table()
    by_part = {part.number: part.extra for part in table.parts}
    for entry, module in zip(shipped()["modules"], table.modules):
        assert module.requires == tuple(entry["requires"])
        assert module.extra_edges == tuple(ExtraEdge(e["to"], e["reason"])
                                           for e in entry["extra_edges"])
        assert module.dependencies == module.requires + tuple(e.to for e in module.extra_edges)
        assert module.extra == by_part[module.part]
        assert module.import_name == entry["import"]


def test_extra_edges_point_back_and_give_a_reason():
    table = course_table()
    for module in table.modules:
        for edge in module.extra_edges:
            target = table.module(edge.to)
            assert target.number < module.number and target.part <= module.part
            assert edge.reason.strip()


def test_lookup_by_distribution_or_import_name():
    table = course_table()
    assert table.module("tt-layers") is table.module("tt_layers")
    with pytest.raises(KeyError, match="no course module 'tt-nothing'.*tt-setup"):
        table.module("tt-nothing")
    nn = table.namespace("tinytorch.nn")
    assert nn.sources[0] == nn.primary == "tt-layers"
    members = [m for m in table.modules if m.namespace == "tinytorch.nn"]
    assert sorted(nn.sources) == sorted(m.distribution for m in members)
    rest = [table.module(name).number for name in nn.sources[1:]]
    assert rest == sorted(rest)


def test_a_table_from_a_path_is_read_the_same(tmp_path):
    assert course_table(write(tmp_path, shipped())) == course_table()


def test_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "course.json"
    path.write_text('{"parts": [')
    with pytest.raises(CourseTableError, match=r"course\.json: not valid JSON"):
        course_table(path)


def test_a_missing_field_is_named(tmp_path):
    data = shipped()
    del data["modules"][3]["requires"]
    with pytest.raises(CourseTableError, match=r"course\.json: missing or malformed field "
                                               r"'requires'"):
        course_table(write(tmp_path, data))


def test_a_wrong_import_name_is_named(tmp_path):
    data = shipped()
    data["modules"][2]["import"] = "tt_activation"
    with pytest.raises(CourseTableError, match=r"course\.json: tt-activations: import name 'tt_activation'"):
        course_table(write(tmp_path, data))


def test_a_namespace_whose_primary_is_not_a_member_is_named(tmp_path):
    data = shipped()
    data["namespaces"][1]["primary"] = "tt-tensor"
    with pytest.raises(CourseTableError, match=r"course\.json: namespace tinytorch.nn: its primary tt-tensor"):
        course_table(write(tmp_path, data))
