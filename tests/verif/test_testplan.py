"""The testplan and the regression list agree: every test a testpoint names is a regression
job, and every regression job is mapped to at least one testpoint (OpenTitan's rule)."""

from sim.regressions import REGRESSION
from verif.testplan import load_plan


def test_testplan_names_only_regression_jobs_and_maps_every_job():
    jobs = {job.name for job in REGRESSION}
    planned = {t for tp in load_plan()["testpoints"] for t in tp.get("tests", [])}
    assert planned - jobs == set(), "testplan names tests that are not regression jobs"
    assert jobs - planned == set(), "regression jobs missing from the testplan"
