"""pyuvm tests of the engine (not collected by pytest).

``UVM_CONFIGURE=0`` runs the plaintext-only variant (no config/key commands), which also
works on the BFM loopback (``tests/sim/bfm_loopback.py``). ``UVM_BURSTS`` (default 4) and
``UVM_BURST_LEN`` (default 40) set the length of the random sequence.
"""

import os
import random

import pyuvm
from pyuvm import ConfigDB, uvm_test

from verif.engine_tb import EngineTB
from verif.uvm.env import EngineEnv, RandomMultiKeySeq

SEED = 21
CONFIGURE = os.environ.get("UVM_CONFIGURE", "1") == "1"
BURSTS = int(os.environ.get("UVM_BURSTS", "4"))
BURST_LEN = int(os.environ.get("UVM_BURST_LEN", "40"))


class BaseTest(uvm_test):
    """Builds the TB (clock, BFMs) and the env; subclasses choose knobs."""

    corrupt = False
    backpressure = 0.0

    def build_phase(self):
        import cocotb

        self.tb = EngineTB(cocotb.top, entropy_seed=SEED, dram_latency=(1, 16))
        ConfigDB().set(None, "*", "TB", self.tb)
        ConfigDB().set(None, "*", "ENTROPY_SEED", SEED)
        ConfigDB().set(None, "*", "CORRUPT", self.corrupt)
        self.env = EngineEnv("env", self)

    async def run_phase(self):
        self.raise_objection()
        rng = random.Random(random.getrandbits(32))
        if self.backpressure:
            self.tb.set_backpressure(rng, self.backpressure)
        await self.tb.reset()
        seq = RandomMultiKeySeq("seq", env=self.env, rng=rng, configure=CONFIGURE,
                               bursts=BURSTS, burst_len=BURST_LEN)
        await seq.start(self.env.up.seqr)
        self.drop_objection()


@pyuvm.test()
class RandomMultiKeyTest(BaseTest):
    """Random multi-key traffic, keys reprogrammed between bursts, scoreboarded."""


@pyuvm.test()
class RandomMultiKeyBackpressureTest(BaseTest):
    """The same with random backpressure on every port."""

    backpressure = 0.3


@pyuvm.test(expect_fail=True)
class CorruptedPredictionTest(BaseTest):
    """One predicted DRAM write is corrupted: the scoreboard must fail this test."""

    corrupt = True
