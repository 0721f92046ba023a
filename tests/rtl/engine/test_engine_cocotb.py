"""Directed cocotb tests of the engine (verif/engine/cocotb_engine.py) on both simulators.

The pyuvm environment's tests are in tests/verif/test_uvm.py."""

import importlib.util
import os

import pytest

from sim.runner import SIMULATORS, run

pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(importlib.util.find_spec("rtl.engine.top") is None,
                       reason="rtl/engine/top.py not written yet"),
]


# Random-traffic length per simulator. Icarus evaluates the three AES pipelines every active
# cycle (~10-20 engine cycles per CPU second), so its CI variant is short; MEE_N_OPS=120 (the
# cocotb module's default) or more gives the long run on either simulator.
N_OPS = {"icarus": 24, "verilator": 120}


@pytest.mark.parametrize("sim", SIMULATORS)
def test_engine_directed(sim):
    """Crypto in both modes, every status, errors, backpressure per port, key change in flight,
    the cycle rule at the handshake boundary."""
    n_ops = int(os.environ.get("MEE_N_OPS", N_OPS[sim]))
    result = run("rtl.engine.top:MEEngineTop", "verif.engine.cocotb_engine", sim=sim,
                 name="mee_engine", extra_env={"N_OPS": n_ops})
    assert result.failures == 0 and result.tests == 18

