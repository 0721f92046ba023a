"""pyuvm environment of the engine (issue 5, first cut): agents over the BFMs, a scoreboard
that asks the golden model for every response and every DRAM write, a random multi-key
sequence.

Structure (OpenTitan/TinyALU shape):

- :class:`UpstreamAgent`: a sequencer, a driver that turns :class:`UpReqItem` into
  :meth:`EngineTB.issue` calls, and a monitor publishing accepted requests (``req_ap``) and
  responses (``rsp_ap``) from the BFMs' transfer callbacks;
- :class:`DramMonitor`: publishes every DRAM write (``ap``);
- :class:`CommandAgent`: runs configuration and key-program commands through the TB and
  publishes ``(kind, command, result)`` (``ap``);
- :class:`EngineScoreboard`: applies commands to :class:`golden_model.engine.Engine` and checks
  their results; predicts each accepted request in acceptance order; checks each response by
  tag and each DRAM write by address, in order; in ``check_phase`` nothing may be left over.

Limitation of this first cut: commands are only issued while no upstream request is in
flight (the sequence drains first), so the scoreboard does not need to model the cycle of
a key change (the directed test ``key_change_with_traffic_in_flight`` covers that).
"""

from __future__ import annotations

import random

import cocotb
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequence,
    uvm_sequence_item,
    uvm_sequencer,
    uvm_subscriber,
)

from golden_model.engine import Engine, EngineParams, Request
from golden_model.entropy import EntropySource
from golden_model.keytable import KeyProgramCommand

__all__ = ["UpReqItem", "UpstreamDriver", "UpstreamAgent", "DramMonitor", "CommandAgent",
           "EngineScoreboard", "EngineEnv", "RandomMultiKeySeq"]


class UpReqItem(uvm_sequence_item):
    """One upstream request (the driver fills ``tag``)."""

    def __init__(self, name="up_req", addr=0, write=False, data=0, asid=0):
        super().__init__(name)
        self.addr, self.write, self.data, self.asid = addr, write, data, asid

    def __str__(self):
        return f"{'W' if self.write else 'R'} {self.addr:#x} asid={self.asid}"


class UpstreamDriver(uvm_driver):
    """Sends each item with :meth:`EngineTB.issue`; never waits for the response."""

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")

    async def run_phase(self):
        while True:
            item = await self.seq_item_port.get_next_item()
            await self.tb.issue(item.addr, item.write, item.data, item.asid)
            self.seq_item_port.item_done()


class UpstreamAgent(uvm_component):
    """Sequencer + driver + monitor of the upstream request/response streams."""

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = UpstreamDriver("driver", self)
        self.req_ap = uvm_analysis_port("req_ap", self)
        self.rsp_ap = uvm_analysis_port("rsp_ap", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.tb.up_req.add_callback(self.req_ap.write)
        self.tb.up_rsp.add_callback(self.rsp_ap.write)


class DramMonitor(uvm_component):
    """Publishes every DRAM request (reads and writes) from the DRAM model's sink."""

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        self.ap = uvm_analysis_port("ap", self)

    def connect_phase(self):
        self.tb.dram.req_sink.add_callback(self.ap.write)


class CommandAgent(uvm_component):
    """Runs configuration / key-program commands and publishes their results."""

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        self.ap = uvm_analysis_port("ap", self)

    async def config_write(self, reg, value):
        status, data = await self.tb.config_write(reg, value)
        self.ap.write(("cfg", (int(reg), value), (status, data)))
        return status

    async def program_key(self, keyid, command, key1=0, key2=0, enc_alg=1):
        status = await self.tb.program_key(keyid, command, key1, key2, enc_alg)
        self.ap.write(("kp", (keyid, command, key1, key2, enc_alg), status))
        return status


class _Sub(uvm_subscriber):
    """A subscriber forwarding each written item to a scoreboard method."""

    def __init__(self, name, parent, fn):
        super().__init__(name, parent)
        self._fn = fn

    def write(self, item):
        self._fn(item)


class EngineScoreboard(uvm_component):
    """Predicts with the golden model and compares every response and DRAM write.

    ConfigDB keys: ``TB``; ``ENTROPY_SEED`` (must match the TB's entropy BFM); optional
    ``CORRUPT`` (bool) flips one bit of the first predicted DRAM write, which must fail.
    """

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        seed = ConfigDB().get(self, "", "ENTROPY_SEED")
        try:
            self.corrupt = ConfigDB().get(self, "", "CORRUPT")
        except Exception:
            self.corrupt = False
        self.model = Engine(EngineParams(), EntropySource(seed=seed))
        self.by_tag = {}
        self.dram_expect = {}
        self.errors = []
        self.checked = {"responses": 0, "dram_writes": 0, "commands": 0}
        self.req_sub = _Sub("req_sub", self, self._on_req)
        self.rsp_sub = _Sub("rsp_sub", self, self._on_rsp)
        self.dram_sub = _Sub("dram_sub", self, self._on_dram)
        self.cmd_sub = _Sub("cmd_sub", self, self._on_cmd)

    def _fail(self, message):
        self.errors.append(message)
        self.logger.error(message)

    def _on_cmd(self, event):
        kind, args, got = event
        self.checked["commands"] += 1
        if kind == "cfg":
            want = self.model.config_access(args[0], True, args[1])
            want = (int(want[0]), want[1])
        else:
            keyid, command, key1, key2, enc_alg = args
            want = int(self.model.key_program(KeyProgramCommand(keyid, command, enc_alg,
                                                                key1, key2)))
        if got != want:
            self._fail(f"{kind} {args}: RTL {got}, model {want}")

    def _on_req(self, txn):
        data = txn.data.to_bytes(64, "little") if txn.write else None
        rsp = self.model.request(Request(txn.addr, bool(txn.write), txn.asid, data, txn.tag))
        self.by_tag[txn.tag] = rsp
        if rsp.dram is not None and rsp.dram.write:
            value = int.from_bytes(rsp.dram.data, "little")
            if self.corrupt:
                value ^= 1
                self.corrupt = False
            self.dram_expect.setdefault(rsp.dram.addr, []).append(value)

    def _on_rsp(self, txn):
        want = self.by_tag.pop(txn.tag, None)
        self.checked["responses"] += 1
        if want is None:
            self._fail(f"response with unpredicted tag {txn.tag}")
            return
        wdata = int.from_bytes(want.data, "little")
        if (txn.error, txn.data) != (int(want.error), wdata):
            self._fail(f"tag {txn.tag}: RTL error {txn.error} data {txn.data:#x}, "
                       f"model {want.error!r} {wdata:#x}")

    def _on_dram(self, txn):
        if not txn.write:
            return
        self.checked["dram_writes"] += 1
        queue = self.dram_expect.get(txn.addr)
        if not queue:
            self._fail(f"unpredicted DRAM write to {txn.addr:#x}")
            return
        want = queue.pop(0)
        if txn.data != want:
            self._fail(f"DRAM write {txn.addr:#x}: RTL {txn.data:#x}, model {want:#x}")

    def check_phase(self):
        left = {a: q for a, q in self.dram_expect.items() if q}
        if self.by_tag:
            self._fail(f"responses never seen for tags {sorted(self.by_tag)}")
        if left:
            self._fail(f"DRAM writes never seen at {[hex(a) for a in left]}")
        self.logger.info(f"scoreboard checked {self.checked}")
        assert not self.errors, f"{len(self.errors)} scoreboard errors, first: {self.errors[0]}"
        assert self.checked["responses"], "scoreboard saw no traffic"


class EngineEnv(uvm_env):
    """Agents + scoreboard, connected."""

    def build_phase(self):
        self.up = UpstreamAgent("up", self)
        self.dram = DramMonitor("dram", self)
        self.cmd = CommandAgent("cmd", self)
        self.sb = EngineScoreboard("sb", self)

    def connect_phase(self):
        self.up.req_ap.connect(self.sb.req_sub.analysis_export)
        self.up.rsp_ap.connect(self.sb.rsp_sub.analysis_export)
        self.dram.ap.connect(self.sb.dram_sub.analysis_export)
        self.cmd.ap.connect(self.sb.cmd_sub.analysis_export)


class RandomMultiKeySeq(uvm_sequence):
    """Bursts of random reads/writes over few lines and many KeyIDs, keys reprogrammed
    between bursts (traffic drained first)."""

    def __init__(self, name="random_multikey", env=None, rng=None, bursts=4, burst_len=40,
                 configure=True):
        super().__init__(name)
        self.env, self.rng = env, rng or random.Random()
        self.bursts, self.burst_len, self.configure = bursts, burst_len, configure

    async def body(self):
        rng, cmd, tb = self.rng, self.env.cmd, self.env.up.tb
        k = 6
        if self.configure:
            await cmd.config_write(0, (1 << 1) | (k << 32) | (1 << 48))
        lines = [0x40000 + 64 * i for i in range(8)]
        for _ in range(self.bursts):
            await tb.drain()
            if self.configure:
                for keyid in rng.sample(range(1, 64), 4):
                    await cmd.program_key(keyid, rng.choice([0, 0, 1, 2, 3]),
                                          rng.getrandbits(128), rng.getrandbits(128))
            for _ in range(self.burst_len):
                keyid = rng.randrange(64) if self.configure else 0
                addr = (keyid << (48 - k) if self.configure else 0) | rng.choice(lines)
                if rng.random() < 0.04:
                    addr |= 0x20
                item = UpReqItem(addr=addr, write=rng.random() < 0.5, data=rng.getrandbits(512))
                await self.start_item(item)
                await self.finish_item(item)
        await tb.drain()
        await cocotb.triggers.ClockCycles(tb.dut.clk, 2)
