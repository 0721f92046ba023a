"""Tests of the regression driver: selection, report, JUnit, replay command, exit status."""

import xml.etree.ElementTree as ET

import pytest

from sim import regress, regressions
from sim.regressions import SimJob

TINY = dict(design="tests.sim.tiny_design:Accumulator", module="tests.sim.cocotb_tiny",
            verilog_name="accumulator")


@pytest.fixture
def tiny_regression(monkeypatch):
    jobs = [SimJob("tiny_pass", **TINY),
            SimJob("tiny_fail", **TINY, env={"TINY_FAIL": "1"}, smoke=False)]
    monkeypatch.setattr(regressions, "REGRESSION", jobs)
    monkeypatch.setattr(regress, "REGRESSION", jobs)
    return jobs


def test_select_by_substring_glob_and_smoke(tiny_regression):
    assert [j.name for j in regress.select("pass")] == ["tiny_pass"]
    assert [j.name for j in regress.select("tiny_*")] == ["tiny_pass", "tiny_fail"]
    assert [j.name for j in regress.select(None, smoke_only=True)] == ["tiny_pass"]
    assert regress.select("nothing") == []


@pytest.mark.sim
def test_failure_reported_with_replay(tiny_regression, tmp_path, capsys):
    junit = tmp_path / "junit.xml"
    rc = regress.main(["--sim", "icarus", "--seed", "11", "--jobs", "2", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "1 passed, 1 failed" in out
    assert "replay: make sim SIM=icarus TESTS=tiny_fail SEED=11" in out
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"


@pytest.mark.sim
def test_all_pass_exit_zero(tiny_regression, tmp_path, capsys):
    rc = regress.main(["--sim", "icarus", "--tests", "tiny_pass", "--reseed", "2",
                       "--junit", str(tmp_path / "j.xml")])
    assert rc == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out


def test_bad_arguments_exit_2(tiny_regression, capsys):
    assert regress.main(["--sim", "xsim"]) == 2
    assert "SIM=icarus or SIM=verilator" in capsys.readouterr().err
    assert regress.main(["--sim", "icarus", "--tests", "nope"]) == 2
