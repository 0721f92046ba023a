"""Reproducibility of the pyuvm environment (verif/uvm): (test, seed, simulator) replays the
same transaction trace. The pyuvm tests themselves run as regression jobs
(tests/sim/test_regression.py, generated from ``sim/regressions.py``)."""

import pytest

from sim.runner import SIMULATORS, run

pytestmark = pytest.mark.sim

DESIGN = "rtl.engine.top:MEEngineTop"
MODULE = "verif.uvm.cocotb_uvm"
REPRO_TESTS = ["SmokeTest", "KeyChurnTest", "ResetTest"]


def _traces(sim, seed):
    result = run(DESIGN, MODULE, sim=sim, name="mee_engine", seed=seed, testcase=REPRO_TESTS,
                 extra_env={"UVM_N": 0.5}, check=True)
    return {t: (result.test_dir / f"trace_{t}.jsonl").read_bytes() for t in REPRO_TESTS}


def test_uvm_trace_reproducible_and_simulators_agree():
    """The same seed replays the identical transaction trace (Icarus twice, byte for byte),
    and Verilator produces the same trace as Icarus."""
    first = _traces("icarus", 99)
    assert all(len(t.splitlines()) > 20 for t in first.values())
    assert _traces("icarus", 99) == first
    if "verilator" in SIMULATORS:
        assert _traces("verilator", 99) == first
    assert _traces("verilator" if "verilator" in SIMULATORS else "icarus", 98) != first
