"""The pyuvm environment (verif/uvm) against the real engine, on both simulators."""

import importlib.util
import os

import pytest

from sim.runner import SIMULATORS, run

pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(importlib.util.find_spec("rtl.engine.top") is None,
                       reason="rtl/engine/top.py not written yet"),
]

# Sequence length per simulator (bursts, requests per burst). Icarus runs the engine at
# ~10-20 active cycles per CPU second, so its CI variant is short; MEE_UVM_BURSTS /
# MEE_UVM_BURST_LEN select longer runs (the cocotb module's defaults are 4 x 40).
LENGTH = {"icarus": (2, 12), "verilator": (4, 40)}


@pytest.mark.parametrize("sim", SIMULATORS)
def test_engine_uvm(sim):
    """Random multi-key traffic scoreboarded by the golden model (plain and with backpressure
    on every port), and one expected-fail test whose prediction is corrupted."""
    bursts, burst_len = LENGTH[sim]
    env = {"UVM_BURSTS": os.environ.get("MEE_UVM_BURSTS", bursts),
           "UVM_BURST_LEN": os.environ.get("MEE_UVM_BURST_LEN", burst_len)}
    result = run("rtl.engine.top:MEEngineTop", "verif.uvm.cocotb_uvm", sim=sim,
                 name="mee_engine", extra_env=env)
    assert result.failures == 0 and result.tests == 3
