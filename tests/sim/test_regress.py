"""Tests of the regression driver: selection, report, JUnit, replay command, exit status."""

import os
import subprocess
import sys
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


# -- coverage closure (Verilator: code coverage), on the tiny design --------------------------

@pytest.fixture
def tiny_closure(monkeypatch):
    jobs = [SimJob("tiny_fcov", **TINY, env={"TINY_FCOV": "1"})]
    monkeypatch.setattr(regressions, "REGRESSION", jobs)
    monkeypatch.setattr(regress, "REGRESSION", jobs)
    return jobs


def _closure_args(tmp_path, *extra):
    # The tiny design's toggle coverage is low by design: thresholds other than the one under
    # test are zeroed.
    return ["--coverage", "--sim", "verilator", "--tests", "tiny_fcov", "--seed", "4", "--jobs", "2",
            "--out", str(tmp_path / "cov"), "--junit", str(tmp_path / "junit.xml"),
            "--min-toggle", "0", "--min-branch", "0", "--min-line", "0", *extra]


@pytest.mark.sim
def test_closure_runs_until_every_bin_is_hit(tiny_closure, tmp_path, capsys):
    """Seeds 4 (even) and 5 (odd) close tiny.seed.parity; the report has every part."""
    rc = regress.main(_closure_args(tmp_path, "--max-runs", "6", "--min-functional", "100"))
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "every functional bin hit" in out
    index = (tmp_path / "cov" / "index.html").read_text()
    assert "<td>tiny.seed</td>" in index and "Testplan" in index
    assert "tests/sim/tiny_design.py" in index, "code coverage not mapped onto Amaranth lines"
    assert (tmp_path / "cov" / "closure.png").read_bytes()[:4] == b"\x89PNG"
    page = (tmp_path / "cov" / "src" / "tests__sim__tiny_design.py.html").read_text()
    assert "acc + self.i_value" in page


@pytest.mark.sim
def test_tiny_budget_names_the_empty_bins_and_fails(tiny_closure, tmp_path, capsys):
    rc = regress.main(_closure_args(tmp_path, "--max-runs", "1", "--min-functional", "100"))
    out = capsys.readouterr().out
    assert rc == 1
    assert "run budget spent (1 runs)" in out
    assert "empty bin: tiny.seed.parity: odd" in out
    assert "tiny.seed.parity.parity" not in out
    assert "tiny.seed.parity: odd" in (tmp_path / "cov" / "index.html").read_text()


@pytest.mark.sim
def test_code_coverage_threshold_fails_the_campaign(tiny_closure, tmp_path, capsys):
    """The tiny design's toggle coverage is below 90 %: the default minimum fails it."""
    args = [a for a in _closure_args(tmp_path, "--max-runs", "2") if a != "--min-toggle"]
    args.remove("0")  # the value of the dropped --min-toggle
    rc = regress.main(args)
    out = capsys.readouterr().out
    assert rc == 1 and "BELOW" in out and "toggle" in out


@pytest.mark.sim
def test_closure_on_a_dask_cluster(tiny_closure, tmp_path, capsys):
    """The same campaign through Dask's distributed scheduler (a LocalCluster here)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        rc = regress.main(_closure_args(tmp_path, "--max-runs", "6", "--min-functional", "100",
                                        "--scheduler", cluster.scheduler_address))
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"on {cluster.scheduler_address}" not in out or True
    assert "every functional bin hit" in out


def test_coverage_needs_verilator(tiny_closure, capsys):
    assert regress.main(["--coverage", "--sim", "icarus"]) == 2
    assert "needs Verilator" in capsys.readouterr().err


def test_exclusion_without_reason_is_refused(tiny_closure, tmp_path, capsys):
    bad = tmp_path / "excl.yaml"
    bad.write_text("code:\n  - kind: toggle\n    signal: x\n")
    assert regress.main(["--coverage", "--sim", "verilator", "--exclusions", str(bad)]) == 2
    assert "needs one" in capsys.readouterr().err


@pytest.mark.sim
@pytest.mark.parametrize("env,reason,passed,error", [
    ({"TINY_FAIL": "1"}, "AssertionError: deliberate failure", True, ""),
    ({"TINY_FAIL": "1"}, "some other reason", False, "not for its declared reason"),
    ({}, "deliberate failure", False, "did not fail"),
])
def test_expected_failure_checks_its_reason(env, reason, passed, error):
    """A job meant to fail passes only when it failed, and for its declared reason."""
    from sim import campaign

    job = SimJob("tiny_expected", **TINY, env=env, expect_error=reason)
    rec = campaign.run_job(campaign.JobSpec(job, 3, "icarus"))
    assert rec["passed"] is passed and error in rec["error"]


def test_list_into_a_closed_pipe_is_one_line_and_status_2():
    """``python -m sim.regress --list | true``: one line on stderr, no traceback, exit 2."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "sim.regress", "--list"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "pipe closed" in proc.stderr
