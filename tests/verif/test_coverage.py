"""Merging and reporting functional coverage (verif/coverage.py), without a simulator."""

import pytest

from verif import coverage


def test_merge_sums_and_holes(tmp_path):
    a = {"g.p.x": {"a": 1, "b": 0}, "g.q": {"z": 0}}
    b = {"g.p.x": {"a": 2, "b": 0}, "g.q": {"z": 3}}
    merged = coverage.merge([a, coverage.write(b, tmp_path / "b.json")])
    assert merged == {"g.p.x": {"a": 3, "b": 0}, "g.q": {"z": 3}}
    assert coverage.holes(merged) == ["g.p.x: b"]
    assert coverage.total(merged)[:2] == (2, 3)


def test_exclusions_remove_bins_with_their_reason(tmp_path):
    path = tmp_path / "excl.yaml"
    path.write_text("functional:\n  - item: g.p.*\n    bin: b\n    reason: UNR because\n")
    ex = coverage.load_exclusions(path)
    data = {"g.p.x": {"a": 1, "b": 0}}
    g = coverage.groups(data, ex)["g.p"]
    assert (g["hit"], g["total"], g["empty"]) == (1, 1, [])
    assert g["excluded"] == [("g.p.x: b", "UNR because")]


def test_exclusion_without_reason_is_refused(tmp_path):
    path = tmp_path / "excl.yaml"
    path.write_text("functional:\n  - item: g.p.x\n")
    with pytest.raises(ValueError, match="needs `item` and a `reason`"):
        coverage.load_exclusions(path)


def test_project_exclusions_all_have_reasons():
    from sim import codecov

    assert coverage.load_exclusions() and codecov.load_exclusions(coverage.EXCLUSIONS)
