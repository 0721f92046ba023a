"""Directed cocotb tests of the engine (verif/engine/cocotb_engine.py) on both simulators."""

import importlib.util

import pytest

from sim.runner import SIMULATORS, run

pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(importlib.util.find_spec("rtl.engine.top") is None,
                       reason="rtl/engine/top.py not written yet"),
]


@pytest.mark.parametrize("sim", SIMULATORS)
def test_engine_directed(sim):
    """Crypto in both modes, every status, errors, backpressure per port, key change in flight."""
    result = run("rtl.engine.top:MEEngineTop", "verif.engine.cocotb_engine", sim=sim,
                 name="mee_engine", extra_env={"N_OPS": 120})
    assert result.failures == 0 and result.tests >= 10


@pytest.mark.parametrize("sim", SIMULATORS)
def test_engine_uvm(sim):
    """pyuvm env: random multi-key traffic scoreboarded by the golden model; one expected fail."""
    result = run("rtl.engine.top:MEEngineTop", "verif.uvm.cocotb_uvm", sim=sim,
                 name="mee_engine")
    assert result.failures == 0 and result.tests == 3
