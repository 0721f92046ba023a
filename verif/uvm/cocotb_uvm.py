"""pyuvm tests of the engine (not collected by pytest; run by ``make sim`` / ``tests/verif``).

Each test builds :class:`~verif.uvm.env.EngineEnv` over an :class:`~verif.engine_tb.EngineTB`
and starts one virtual sequence (:mod:`verif.uvm.sequences`, :mod:`verif.uvm.platform`) with
an ``rng`` seeded from cocotb's per-test random seed, so (test, seed, simulator) reproduces
the run. Each test writes into the run directory: ``trace_<Test>.jsonl`` (every transaction
the scoreboard saw, in order, with cycle stamps), ``fcov.json`` (the run's functional coverage,
sampled from the DUT's ports; merged by :mod:`verif.coverage`) and ``stats.json`` (checked
transactions, for the regression report).

Knobs (environment): ``UVM_N`` scales every sequence's length (default 1.0); ``UVM_BURSTS``
and ``UVM_BURST_LEN`` the random multi-key test (4 x 40); ``UVM_CONFIGURE=0`` runs the
plaintext-only variant of :class:`RandomMultiKeyTest` (no config/key commands, which also
works on the BFM loopback); ``UVM_WINDOW`` the burst harness's cycles per Python wake-up
(default: its ring depth). ``UVM_ITEM_BATCH=0``, ``UVM_COV_BATCH=0`` and ``UVM_STALL_FLAGS=0``
turn off the request batches, the batched coverage samples and the harness's stall flags (the
benchmark's per-change figures, ``sim/bench_verif.py``; same checks, same trace).

The design is either the burst harness (:class:`~verif.harness.burst.BurstHarness`, the
regression's: the upstream and DRAM traffic moves through HDL-side rings, Python wakes once
per window) or the bare engine (per-cycle BFMs); the env, sequences and checks are the same.
"""

import json
import os
import random
import time

import cocotb
import pyuvm
from cocotb.triggers import ClockCycles
from pyuvm import ConfigDB, uvm_test

from verif.bfm.burst import PAUSE_PORTS
from verif.bfm.stream import random_pause
from verif.engine_tb import BurstTB, EngineTB
from verif.uvm import coverage
from verif.uvm.coverage import PortSampler
from verif.uvm.env import EngineEnv
from verif.uvm.platform import MktmeVmsVseq, SevGuestVseq
from verif.uvm.sequences import (
    ConfigVseq,
    EngineVseq,
    ErrorsVseq,
    KatVseq,
    KeyChurnVseq,
    RandomMultiKeyVseq,
    ResetVseq,
    TrafficVseq,
    tme_value,
)

SEED = 21
SCALE = float(os.environ.get("UVM_N", "1"))
CONFIGURE = os.environ.get("UVM_CONFIGURE", "1") == "1"
BURSTS = int(os.environ.get("UVM_BURSTS", "4"))
BURST_LEN = int(os.environ.get("UVM_BURST_LEN", "40"))
WINDOW = int(os.environ.get("UVM_WINDOW", "0")) or None  # burst harness: cycles per wake-up
# Throughput knobs (sim/bench_verif.py measures what each bought); all on by default.
EngineVseq.batch_requests = os.environ.get("UVM_ITEM_BATCH", "1") != "0"
coverage.BATCH = os.environ.get("UVM_COV_BATCH", "1") != "0"
PortSampler.use_harness_flags = os.environ.get("UVM_STALL_FLAGS", "1") != "0"


def _n(base):
    return max(2, int(base * SCALE))


def _add_stats(checked, lines, **extra):
    """Accumulate into ``stats.json`` (several tests may share one run directory):
    ``checked`` (every check), ``lines`` (responses + DRAM writes checked)."""
    old = {}
    if os.path.exists("stats.json"):
        with open("stats.json") as f:
            old = json.load(f)
    with open("stats.json", "w") as f:
        json.dump({**old, **extra, "checked": int(old.get("checked", 0)) + int(checked),
                   "lines": int(old.get("lines", 0)) + int(lines)}, f)


class BaseTest(uvm_test):
    """Builds the TB (clock, BFMs) and the env, runs :meth:`sequence`; subclasses set knobs.

    Attributes
    ----------
    corrupt : bool
        Flip one bit of the first predicted DRAM write (the scoreboard must fail).
    backpressure : float
        Probability of a pause cycle on every port (sources idle, sinks not ready).
    """

    corrupt = False
    backpressure = 0.0
    dram_latency = (1, 16)

    def build_phase(self):
        # The burst harness (verif/harness) when the design is one, else per-cycle BFMs on
        # the bare engine: the same env, sequences and checks on either.
        if BurstTB.fits(cocotb.top):
            self.tb = BurstTB(cocotb.top, entropy_seed=SEED, dram_latency=self.dram_latency,
                              window=WINDOW)
        else:
            self.tb = EngineTB(cocotb.top, entropy_seed=SEED, dram_latency=self.dram_latency)
        name = type(self).__name__
        ConfigDB().set(None, "*", "TB", self.tb)
        ConfigDB().set(None, "*", "ENTROPY_SEED", SEED)
        ConfigDB().set(None, "*", "CORRUPT", self.corrupt)
        ConfigDB().set(None, "*", "TRACE", f"trace_{name}.jsonl")
        self.env = EngineEnv("env", self)

    def sequence(self, rng):
        """The virtual sequence to run."""
        return TrafficVseq("smoke", rng, n=_n(20))

    def _set_backpressure(self, rng):
        tb = self.tb
        ports = {"up_req": tb.up_req, "up_rsp": tb.up_rsp, "dram_req": tb.dram.req_sink,
                 "dram_rsp": tb.dram.rsp_source, "kp_rsp": tb.kp_rsp, "cfg_rsp": tb.cfg_rsp}
        for port, bfm in ports.items():
            gen = random_pause(random.Random(rng.getrandbits(32)), self.backpressure)
            if isinstance(tb, BurstTB) and port in PAUSE_PORTS:
                tb.transport.set_pause(port, self.backpressure)  # the harness's LFSRs
                continue
            bfm.set_pause_generator(gen)

    async def run_phase(self):
        self.raise_objection()
        rng = random.Random(random.getrandbits(32))
        if self.backpressure:
            self._set_backpressure(rng)
        await self.tb.reset()
        # Steady-state throughput (sim/bench_verif.py): the sequence, the settling after it
        # and the extract and check phases (work batched until the end, such as coverage
        # samples and the trace, is counted), without the set-up and reports around them.
        self._wall0, ns0 = time.perf_counter(), cocotb.utils.get_sim_time("ns")
        await self.sequence(rng).start(self.env.vseqr)
        await self.tb.settle()
        self.run_sim_ns = cocotb.utils.get_sim_time("ns") - ns0
        self.drop_objection()

    def extract_phase(self):
        # Batched coverage samples reach cocotb-coverage here (counted in run_wall_s).
        coverage.flush()

    def report_phase(self):
        # Every component's check_phase has run (pyuvm runs each phase over the whole tree).
        self.run_wall_s = time.perf_counter() - getattr(self, "_wall0", time.perf_counter())
        sb = self.env.sb
        try:
            coverage.export()
        except OSError as exc:  # coverage must never hide the test result
            self.logger.warning(f"coverage export failed: {exc}")
        cov = coverage.summary()
        self.logger.info("coverage: " + ", ".join(f"{k} {v[0]}/{v[1]} ({v[2]}%)"
                                                   for k, v in cov.items()))
        _add_stats(sb.total_checked(), sb.checked["responses"] + sb.checked["dram_writes"],
                   coverage={k: v[2] for k, v in cov.items()},
                   sim_time_ns=cocotb.utils.get_sim_time("ns"),
                   run_wall_s=round(getattr(self, "run_wall_s", 0.0), 6),
                   run_sim_ns=getattr(self, "run_sim_ns", 0))


@pyuvm.test()
class SmokeTest(BaseTest):
    """TME enabled, two KeyIDs, a short burst of random traffic."""

    def sequence(self, rng):
        if not CONFIGURE:
            return TrafficVseq("plain", rng, n=_n(40), p_bad=0.0, keyids=[0])

        class Smoke(TrafficVseq):
            async def body(inner):
                await inner.cfg(0, tme_value(6))
                await inner.kp(1, 0, rng.getrandbits(128), rng.getrandbits(128))
                await inner.kp(2, 3)
                inner.knobs["keyids"] = [0, 1, 2, 3]
                await super().body()
        return Smoke("smoke", rng, n=_n(20))


@pyuvm.test()
class RandomMultiKeyTest(BaseTest):
    """Random multi-key traffic (Intel bursts with key reprogramming, then AMD ASIDs)."""

    def sequence(self, rng):
        if not CONFIGURE:
            return TrafficVseq("plain", rng, n=BURSTS * BURST_LEN, p_bad=0.0, keyids=[0])
        return RandomMultiKeyVseq("random", rng, bursts=BURSTS, burst_len=BURST_LEN)


@pyuvm.test()
class RandomMultiKeyBackpressureTest(RandomMultiKeyTest):
    """Stress: the same with random backpressure on every port (up, DRAM, kp/cfg responses)."""

    backpressure = 0.3


@pyuvm.test()
class KeyChurnTest(BaseTest):
    """Key reprogramming (and TME BYPASS flips) during traffic, scoreboarded by cycle."""

    dram_latency = (4, 24)

    def sequence(self, rng):
        return KeyChurnVseq("churn", rng, n=_n(60), gap=(1, 12), config=True)


@pyuvm.test()
class ErrorsTest(BaseTest):
    """Every bad command, configuration access and address class; ENTROPY_ERROR."""

    def sequence(self, rng):
        return ErrorsVseq("errors", rng, n=_n(20))


@pyuvm.test()
class ConfigTest(BaseTest):
    """Exclusion range, BYPASS, TSME, MODE switches, LOCK, config changes during traffic."""

    def sequence(self, rng):
        return ConfigVseq("config", rng, n=_n(16))


@pyuvm.test()
class ResetTest(BaseTest):
    """Reset in mid-traffic; keys and registers gone afterwards."""

    dram_latency = (8, 24)

    def sequence(self, rng):
        return ResetVseq("reset", rng, n=_n(24))


@pyuvm.test()
class SevGuestTest(BaseTest):
    """SEV guest launched through the firmware model, then guest traffic, all on the RTL."""

    def sequence(self, rng):
        return SevGuestVseq("sev", rng, entropy_seed=SEED, n=_n(16))


@pyuvm.test()
class MktmeVmsTest(BaseTest):
    """Two TME-MK VMs with their own KeyIDs (WRMSR + PCONFIG), then an alias access."""

    def sequence(self, rng):
        return MktmeVmsVseq("mktme", rng, entropy_seed=SEED, n=_n(12))


@pyuvm.test()
class KatTest(BaseTest):
    """FIPS-197, IEEE 1619 and OpenSSL XTS known answers through the engine."""

    def sequence(self, rng):
        return KatVseq("kat", rng)


@pyuvm.test()
class DramProtocolTest(BaseTest):
    """DRAM responses with tags the engine never sent, between model-checked traffic: the
    engine drops them, raises the sticky ``err_dram_rsp_tag`` (checked by the scoreboard) and
    answers everything else exactly as the model says."""

    def sequence(self, rng):
        tb = self.tb

        class Stray(TrafficVseq):
            async def body(inner):
                await inner.cfg(0, tme_value(6))
                await inner.kp(1, 0, rng.getrandbits(128), rng.getrandbits(128))
                inner.knobs["keyids"] = [0, 1]
                await super().body()
                await tb.drain()
                width = len(tb.dut.dram_rsp_tag)
                for tag in (0, rng.randrange(1 << width), (1 << width) - 1):
                    tb.dram.inject_response(tag, rng.getrandbits(512))
                await ClockCycles(tb.dut.clk, 8)
                tb.expect_err_dram_rsp_tag = True
                await super().body()
        return Stray("stray", rng, n=_n(12))


@pyuvm.test(expect_fail=True)
class CorruptedPredictionTest(SmokeTest):
    """One predicted DRAM write is corrupted: the scoreboard must fail this test."""

    corrupt = True
