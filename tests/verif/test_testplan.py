"""The testplan and the regression list agree: every test a testpoint names is a regression
job, and every regression job is mapped to at least one testpoint (OpenTitan's rule)."""

from sim.regressions import REGRESSION
from verif.testplan import load_plan


def test_testplan_names_only_regression_jobs_and_maps_every_job():
    jobs = {job.name for job in REGRESSION}
    planned = {t for tp in load_plan()["testpoints"] for t in tp.get("tests", [])}
    assert planned - jobs == set(), "testplan names tests that are not regression jobs"
    assert jobs - planned == set(), "regression jobs missing from the testplan"


def test_every_covergroup_is_planned_and_sampled():
    """Every covergroup of the plan is claimed by a testpoint, and every coverpoint of the plan
    has a sampling function (and no sampling function lacks a plan entry: checked on import)."""
    from verif.testplan import coverpoints
    from verif.uvm import coverage

    plan = load_plan()
    groups = {g["name"] for g in plan["covergroups"]}
    claimed = {g for tp in plan["testpoints"] for g in tp.get("covergroups") or []}
    assert groups == claimed
    points = {name for name, spec in coverpoints(plan).items() if "bins" in spec}
    assert points == set(coverage.XF)


def test_zero_bins_are_the_bins_runs_export():
    """The plan's bins (what a closure campaign starts from) are exactly the bins a run
    exports, crosses included (impossible pairs ignored)."""
    from verif.testplan import zero_bins
    from verif.uvm import coverage

    exported = coverage.bins()
    assert {k: set(v) for k, v in zero_bins().items()} == {k: set(v) for k, v in exported.items()}
