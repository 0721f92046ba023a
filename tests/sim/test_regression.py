"""The cocotb regression as CI runs it: generated from ``sim/regressions.py``.

Every smoke job of the regression list runs once per simulator with its CI knobs
(``SimJob.ci_env``), exactly as ``make sim`` would run it (``sim.campaign.run_job``): a job
meant to fail passes only if it failed for its declared reason. Nothing here restates a job,
a design, a module or a knob. A missing simulator is an error, never a skip.
"""

import pytest

from sim import campaign, regress
from sim.regressions import ci_job
from sim.runner import SIMULATORS

SEED = 7
CASES = [(job, sim) for job in regress.select(smoke_only=True) for sim in SIMULATORS]


@pytest.mark.sim
@pytest.mark.parametrize("job,sim", CASES, ids=[f"{j.name}-{s}" for j, s in CASES])
def test_regression_job(job, sim):
    rec = campaign.run_job(campaign.JobSpec(ci_job(job, sim), SEED, sim))
    assert rec["passed"], (f"{rec['error'] or 'cocotb test failed'}; log: {rec['log']}; "
                           f"replay: {regress.replay_command(rec)}")
    assert rec["tests"] > 0


def test_smoke_is_a_real_subset():
    """``--smoke`` selects fewer jobs than the whole list (the lanes 2/4 jobs are not smoke)."""
    smoke = regress.select(smoke_only=True)
    assert 0 < len(smoke) < len(regress.select())
    assert not any("lanes" in job.name for job in smoke)
