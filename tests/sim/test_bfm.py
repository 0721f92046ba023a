"""Runs the BFM self-tests (verif/bfm/cocotb_bfm_selftest.py) on the crypto-free loopback."""

import pytest

from sim.runner import SIMULATORS, run

DESIGN = "tests.sim.bfm_loopback:BfmLoopback"


@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMULATORS)
def test_bfm_selftest(sim):
    """Traffic with backpressure and out-of-order DRAM, pause patterns, command ports."""
    result = run(DESIGN, "verif.bfm.cocotb_bfm_selftest", sim=sim, name="bfm_loopback",
                 extra_env={"N_OPS": 300})
    assert result.tests >= 5 and result.failures == 0


@pytest.mark.sim
@pytest.mark.parametrize("bug", ["dup_tag", "drop_valid", "rsp_tag"])
def test_bfm_checkers_catch_injected_bugs(bug):
    """Each checker fires on a loopback built with the matching fault (Icarus: cheap builds)."""
    result = run(DESIGN, "verif.bfm.cocotb_bfm_selftest", sim="icarus", params={"bug": bug},
                 name="bfm_loopback", extra_env={"LOOPBACK_BUG": bug})
    assert result.failures == 0


@pytest.mark.sim
def test_bfm_checker_failure_fails_the_run():
    """A checker error escalates to a failed cocotb test (the runner raises)."""
    from sim.runner import SimulationFailed

    with pytest.raises(SimulationFailed):
        # The correct-design tests expect no bug; run them against the buggy loopback.
        run(DESIGN, "verif.bfm.cocotb_bfm_selftest", sim="icarus", params={"bug": "rsp_tag"},
            name="bfm_loopback", testcase="traffic_in_order_full_rate")


@pytest.mark.sim
def test_uvm_env_on_loopback():
    """The pyuvm env (plaintext variant) passes on the loopback; the corrupted test fails."""
    result = run(DESIGN, "verif.uvm.cocotb_uvm", sim="icarus", name="bfm_loopback",
                 extra_env={"UVM_CONFIGURE": "0"},
                 testcase=["RandomMultiKeyTest", "RandomMultiKeyBackpressureTest",
                           "CorruptedPredictionTest"])
    assert result.tests == 3 and result.failures == 0
