"""pyuvm environment of the engine (issue 5): agents, a cycle-ordered scoreboard, coverage.

Structure (OpenTitan shape, TinyALU-style pyuvm):

- :class:`UpstreamAgent`: sequencer, :class:`UpstreamDriver` (turns :class:`UpReqItem` into
  :meth:`EngineTB.issue`, never waiting for the response) and a monitor publishing accepted
  requests (``req_ap``) and responses (``rsp_ap``) from the BFMs' transfer callbacks;
- :class:`DramAgent`: the reactive DRAM (the TB's sparse :class:`~verif.bfm.dram.DramModel`
  with random latency, reads answered out of order), pluggable pause generators for its
  request-ready and response-valid sides, and a monitor publishing every DRAM request (``ap``);
- :class:`KeyProgramAgent` and :class:`ConfigAgent`: sequencer + driver (items
  :class:`KpItem` / :class:`CfgItem`, the driver fills in the status) + a monitor that pairs
  each command with its response and publishes a :class:`CommandEvent` stamped with the cycle
  of the response handshake (when the command takes effect);
- :class:`EngineScoreboard`: orders requests, commands, entropy changes and resets by cycle
  stamp (architecture §4 cycle rule: a request accepted in the cycle of a command's response
  handshake is ordered before the command), applies them to the golden model, and checks every
  command status and configuration response value, every response (data, error), every DRAM
  write (bit-exact line, per address in order), every DRAM read request (only predicted reads:
  an errored request never reaches DRAM), the entropy words the engine drew (count and value,
  per command) and the sticky ``err_dram_rsp_tag`` output; it writes the transaction trace
  (``trace_<test>.jsonl``);
- :class:`~verif.uvm.coverage.CoverageCollector` and :class:`~verif.uvm.coverage.PortSampler`:
  functional coverage sampled from the monitors' analysis ports and the DUT's ports (never
  from the scoreboard's predictions);
- :class:`VirtualSequencer`: handles to every agent, for the virtual sequences of
  :mod:`verif.uvm.sequences`.

ConfigDB keys: ``TB`` (:class:`~verif.engine_tb.EngineTB`), ``ENTROPY_SEED``, optional
``CORRUPT`` (flip one bit of the first predicted DRAM write: the test must fail),
optional ``TRACE`` (path of the trace file, default none).
"""

from __future__ import annotations

import bisect
import collections
import hashlib
import heapq
import itertools
import json
import re
from dataclasses import dataclass

from cocotb.triggers import Event as CocotbEvent
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequence_item,
    uvm_sequencer,
    uvm_subscriber,
    uvm_transaction,
)

from golden_model.dram import Dram
from golden_model.engine import Engine, EngineParams, Request
from golden_model.entropy import EntropySource
from golden_model.keytable import KeyProgramCommand

__all__ = ["UpReqItem", "UpReqBatch", "KpItem", "CfgItem", "CommandEvent", "UpstreamDriver",
           "UpstreamAgent", "DramAgent", "DramMonitor", "KeyProgramAgent", "ConfigAgent",
           "CommandAgent", "EngineScoreboard", "VirtualSequencer", "EngineEnv", "cfg_get"]


def cfg_get(component, key, default=None):
    """``ConfigDB().get`` with a default for keys nobody set."""
    try:
        return ConfigDB().get(component, "", key)
    except Exception:  # pyuvm raises UVMConfigItemNotFound
        return default


def _digest(value: int) -> str:
    return hashlib.sha1(value.to_bytes(64, "little")).hexdigest()[:16]


# Strings JSON writes as they are (ASCII letters, digits and ``_`` only).
_plain = re.compile(r"[A-Za-z0-9_]+\Z").match


def _json_line(rec: dict) -> str:
    """``json.dumps(rec, separators=(",", ":"))``, written directly for the records of the
    hot path (flat: ints, hex or name strings, None) and by ``json`` otherwise; the output is
    the same byte for byte (``tests/verif/test_scoreboard.py``)."""
    parts = []
    for key, value in rec.items():
        if value is None:
            text = "null"
        elif type(value) is int:
            text = str(value)
        elif type(value) is str and _plain(value) and _plain(key):
            text = f'"{value}"'
        else:
            return json.dumps(rec, separators=(",", ":"))
        parts.append(f'"{key}":{text}')
    return "{" + ",".join(parts) + "}"


# -- sequence items -------------------------------------------------------------------------


class _LazyEvent:
    """A cocotb ``Event`` attribute made on first use."""

    def __set_name__(self, owner, name):
        self.slot = f"_lazy_{name}"

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        event = obj.__dict__.get(self.slot)
        if event is None:
            event = obj.__dict__[self.slot] = CocotbEvent()
        return event

    def __set__(self, obj, value):
        obj.__dict__[self.slot] = value


class UpReqItem(uvm_sequence_item):
    """One upstream request (the driver fills ``tag``; ``pending`` once issued).

    pyuvm's sequence item makes three cocotb Events for ``start_item`` / ``finish_item`` in
    its constructor; a request sent inside an :class:`UpReqBatch` never uses them (they were
    a tenth of the per-request cost), so here they are made on first use. Everything else
    of ``uvm_sequence_item.__init__`` is done as it does it.
    """

    start_condition = _LazyEvent()
    finish_condition = _LazyEvent()
    item_ready = _LazyEvent()

    def __init__(self, name="up_req", addr=0, write=False, data=0, asid=0):
        uvm_transaction.__init__(self, name)
        self.parent_sequence_id = None
        self.response_id = None
        self.addr, self.write, self.data, self.asid = addr, bool(write), data, asid
        self.pending = None

    def __str__(self):
        return f"{'W' if self.write else 'R'} {self.addr:#x} asid={self.asid}"


class UpReqBatch(uvm_sequence_item):
    """Many :class:`UpReqItem` in one sequencer handshake; the driver issues them in order.

    A request's handshake with the driver is a handful of coroutine switches, more than the
    rest of its stimulus costs; a sequence that queues many requests back to back (they never
    wait for one another) hands them over as one batch. Each item gets its ``pending``.
    """

    def __init__(self, name="up_batch", items=()):
        super().__init__(name)
        self.items = list(items)

    def __str__(self):
        return f"{len(self.items)} requests"


class KpItem(uvm_sequence_item):
    """One key-program command; the driver sets ``status`` (architecture §4)."""

    def __init__(self, name="kp", keyid=0, command=0, key1=0, key2=0, enc_alg=1):
        super().__init__(name)
        self.keyid, self.command, self.enc_alg = keyid, command, enc_alg
        self.key1 = int.from_bytes(key1, "little") if isinstance(key1, bytes) else key1
        self.key2 = int.from_bytes(key2, "little") if isinstance(key2, bytes) else key2
        self.status = None

    def __str__(self):
        return f"KP keyid={self.keyid} cmd={self.command} alg={self.enc_alg:#x}"


class CfgItem(uvm_sequence_item):
    """One configuration access; the driver sets ``status`` and ``rdata`` (architecture §6)."""

    def __init__(self, name="cfg", reg=0, write=True, data=0):
        super().__init__(name)
        self.reg, self.write, self.data = int(reg), bool(write), data
        self.status = self.rdata = None

    def __str__(self):
        return f"CFG {'W' if self.write else 'R'} reg={self.reg} data={self.data:#x}"


@dataclass
class CommandEvent:
    """A command and its response, stamped with the response handshake cycle."""

    kind: str  # "kp" or "cfg"
    args: dict
    result: dict
    cycle: int


# -- agents ---------------------------------------------------------------------------------


class UpstreamDriver(uvm_driver):
    """Sends each item (or each item of an :class:`UpReqBatch`) with :meth:`EngineTB.issue`;
    never waits for the response."""

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")

    async def run_phase(self):
        issue = self.tb.issue
        while True:
            item = await self.seq_item_port.get_next_item()
            for one in item.items if isinstance(item, UpReqBatch) else (item,):
                one.pending = await issue(one.addr, one.write, one.data, one.asid)
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


class DramAgent(uvm_component):
    """The reactive DRAM: sparse memory, random read latency, pluggable pause generators.

    The memory itself is the TB's :class:`~verif.bfm.dram.DramModel` (it must exist from
    time 0); this agent configures it and publishes every request it takes (``ap``).
    """

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        self.model = self.tb.dram
        self.ap = uvm_analysis_port("ap", self)
        latency = cfg_get(self, "DRAM_LATENCY")
        if latency is not None:
            self.model.latency = tuple(latency)

    def connect_phase(self):
        self.model.req_sink.add_callback(self.ap.write)

    def set_pause(self, req=None, rsp=None):
        """Pause generators: ``req`` for ``dram_req_ready``, ``rsp`` for ``dram_rsp_valid``."""
        self.model.set_req_pause(req)
        self.model.set_rsp_pause(rsp)


DramMonitor = DramAgent  # the first cut's name


class _CommandDriverBase(uvm_driver):
    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")


class _KpDriver(_CommandDriverBase):
    async def run_phase(self):
        while True:
            item = await self.seq_item_port.get_next_item()
            item.status = await self.tb.program_key(item.keyid, item.command, item.key1,
                                                    item.key2, item.enc_alg)
            self.seq_item_port.item_done()


class _CfgDriver(_CommandDriverBase):
    async def run_phase(self):
        while True:
            item = await self.seq_item_port.get_next_item()
            if item.write:
                item.status, item.rdata = await self.tb.config_write(item.reg, item.data)
            else:
                item.status, item.rdata = await self.tb.config_read(item.reg)
            self.seq_item_port.item_done()


class _CommandAgentBase(uvm_component):
    """Sequencer + driver + a monitor pairing each command with its response."""

    kind = ""
    driver_cls = _CommandDriverBase

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = self.driver_cls("driver", self)
        self.ap = uvm_analysis_port("ap", self)
        self._reqs = collections.deque()

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        req, rsp = (self.tb.kp_req, self.tb.kp_rsp) if self.kind == "kp" else (self.tb.cfg_req,
                                                                             self.tb.cfg_rsp)
        if req is not None:  # the BFM loopback has no command ports
            req.add_callback(self._reqs.append)
            rsp.add_callback(self._on_rsp)

    def _on_rsp(self, txn):
        req = self._reqs.popleft()
        self.ap.write(CommandEvent(self.kind, req.fields(), txn.fields(), txn.cycle))

    def flush(self):
        """Forget commands whose response a reset swallowed."""
        self._reqs.clear()


class KeyProgramAgent(_CommandAgentBase):
    """Key-program port agent (items :class:`KpItem`)."""

    kind = "kp"
    driver_cls = _KpDriver


class ConfigAgent(_CommandAgentBase):
    """Configuration port agent (items :class:`CfgItem`)."""

    kind = "cfg"
    driver_cls = _CfgDriver


class CommandAgent:
    """Helper bundling both command agents (direct calls, as the first cut offered)."""

    def __init__(self, kp: KeyProgramAgent, cfg: ConfigAgent):
        self.kp, self.cfg = kp, cfg

    async def program_key(self, keyid, command, key1=0, key2=0, enc_alg=1):
        """Run one :class:`KpItem` on the key-program sequencer; returns its status."""
        from .sequences import run_item
        item = KpItem(keyid=keyid, command=command, key1=key1, key2=key2, enc_alg=enc_alg)
        await run_item(self.kp.seqr, item)
        return item.status

    async def config_write(self, reg, value):
        """Run one configuration write; returns its status."""
        from .sequences import run_item
        item = CfgItem(reg=reg, write=True, data=value)
        await run_item(self.cfg.seqr, item)
        return item.status


# -- scoreboard -----------------------------------------------------------------------------


class _Sub(uvm_subscriber):
    """A subscriber forwarding each written item to a scoreboard method."""

    def __init__(self, name, parent, fn):
        super().__init__(name, parent)
        self._fn = fn

    def write(self, tt):
        self._fn(tt)


# Priorities of ordered events in one cycle: requests first (cycle rule), then commands.
_P_REQ, _P_CMD = 0, 1


class EngineScoreboard(uvm_component):
    """Predicts with the golden model, in cycle order, and compares everything.

    Ordered events (request accepted, command effective, entropy change) go to a heap keyed
    by ``(cycle, priority, arrival)``; a check event (upstream response, DRAM request) at cycle
    ``x`` first applies every ordered event of a cycle before ``x`` (all of them have been
    reported by then: BFMs report right after the edge of their transfer).
    """

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        seed = ConfigDB().get(self, "", "ENTROPY_SEED")
        self.corrupt = bool(cfg_get(self, "CORRUPT", False))
        self.model = Engine(EngineParams(), EntropySource(seed=seed))
        self.by_tag = {}
        self.dram_expect = {}
        self.dram_reads = collections.Counter()  # predicted DRAM read addresses not yet seen
        self.errors = []
        self.checked = collections.Counter()
        self._heap = []
        self._seq = itertools.count()
        self._trace_path = cfg_get(self, "TRACE")
        self._trace = []
        # Entropy words drawn before the last reset (model, RTL), for the per-run check.
        self._entropy_base = self._entropy_rtl_base = 0
        self._entropy_ok = 0  # words since the last reset already compared equal
        self.req_sub = _Sub("req_sub", self, self._on_req)
        self.rsp_sub = _Sub("rsp_sub", self, self._on_rsp)
        self.dram_sub = _Sub("dram_sub", self, self._on_dram)
        self.cmd_sub = _Sub("cmd_sub", self, self._on_cmd)

    # -- helpers -------------------------------------------------------------------------

    def _fail(self, message):
        self.errors.append(message)
        self.logger.error(message)

    def _log(self, **rec):
        # Kept as a dict: serialized once, in write_trace (json.dumps per event was a tenth
        # of the per-line cost).
        if self._trace_path:
            self._trace.append(rec)

    def write_trace(self):
        """Write the trace, canonically ordered: by cycle, then event kind, then content
        (simulators may report same-cycle transfers in different orders)."""
        if self._trace_path:
            lines = sorted((rec["c"], rec["ev"], _json_line(rec)) for rec in self._trace)
            with open(self._trace_path, "w") as f:
                f.writelines(line + "\n" for *_, line in lines)

    def _push(self, cycle, prio, kind, payload):
        heapq.heappush(self._heap, (cycle, prio, next(self._seq), kind, payload))

    def flush(self, before=None):
        """Apply every ordered event of a cycle before *before* (all when ``None``)."""
        while self._heap and (before is None or self._heap[0][0] < before):
            cycle, _, _, kind, payload = heapq.heappop(self._heap)
            getattr(self, f"_apply_{kind}")(cycle, payload)

    # -- ordered events ------------------------------------------------------------------

    def _on_req(self, txn):
        self._push(txn.cycle, _P_REQ, "req", txn)

    def _on_cmd(self, event):
        self._push(event.cycle, _P_CMD, "cmd", event)

    def entropy_changed(self, cycle, available):
        """The entropy stream's availability changed, effective from *cycle* on."""
        self._push(cycle, _P_CMD, "entropy", available)

    def _apply_entropy(self, cycle, available):
        self.model.entropy.available = available
        self._log(c=cycle, ev="entropy", on=int(available))

    def _apply_req(self, cycle, txn):
        m = self.model
        data = txn.data.to_bytes(64, "little") if txn.write else None
        rsp = m.request(Request(txn.addr, bool(txn.write), txn.asid, data, txn.tag))
        self.by_tag[txn.tag] = (rsp, txn)
        self._log(c=cycle, ev="req", tag=txn.tag, a=hex(txn.addr), w=txn.write, asid=txn.asid,
                  d=_digest(txn.data) if txn.write else None)
        if rsp.dram is not None and not rsp.dram.write:
            self.dram_reads[rsp.dram.addr] += 1
        if rsp.dram is not None and rsp.dram.write:
            value = int.from_bytes(rsp.dram.data, "little")
            if self.corrupt:
                value ^= 1
                self.corrupt = False
            self.dram_expect.setdefault(rsp.dram.addr, []).append(value)

    def _apply_cmd(self, cycle, ev):
        a, r = ev.args, ev.result
        self.checked["commands"] += 1
        if ev.kind == "cfg":
            st, val = self.model.config_access(a["addr"], bool(a["write"]), a["data"])
            want, got = (int(st), val), (r["status"], r["data"])
        else:
            want = int(self.model.key_program(KeyProgramCommand(
                a["keyid"], a["command"], a["enc_alg"], a["key1"], a["key2"])))
            got = r["status"]
        self._log(c=cycle, ev=ev.kind, args={k: hex(v) for k, v in a.items()}, got=got)
        if got != want:
            self._fail(f"{ev.kind} {a} at cycle {cycle}: RTL {got}, model {want}")
        self._check_entropy(cycle)

    def _check_entropy(self, cycle=None):
        """The engine drew exactly the entropy words the model drew, by *cycle* (all: None).

        A command that draws a word (SET_KEY_RANDOM, TME_ACTIVATE with ENABLE) takes it
        before its response, so after the response cycle both counts must agree. Words
        already compared (``_entropy_ok``, since the last reset) are not compared again: the
        RTL's and the model's lists only grow, so each check compares the new words only
        (comparing them all was quadratic in the test's length).
        """
        bfm = getattr(self.tb, "entropy", None)
        if bfm is None:
            return
        consumed, cycles = bfm.consumed, bfm.consumed_cycles
        count = len(consumed) if cycle is None else bisect.bisect_right(cycles, cycle)
        drawn = count - self._entropy_rtl_base
        want = self.model.entropy.words_drawn - self._entropy_base
        self.checked["entropy"] += 1
        if drawn != want:
            self._fail(f"entropy at cycle {cycle}: the RTL drew {drawn} words, the model {want}")
            return
        start = self._entropy_ok
        rtl = consumed[self._entropy_rtl_base + start:self._entropy_rtl_base + want]
        model = [self.model.entropy.word(self._entropy_base + i) for i in range(start, want)]
        if rtl != model:
            self._fail(f"entropy at cycle {cycle}: the RTL drew other words than the model")
            return
        self._entropy_ok = want

    # -- checks --------------------------------------------------------------------------

    def _on_rsp(self, txn):
        self.flush(txn.cycle)
        entry = self.by_tag.pop(txn.tag, None)
        self.checked["responses"] += 1
        self._log(c=txn.cycle, ev="rsp", tag=txn.tag, e=txn.error, d=_digest(txn.data))
        if entry is None:
            self._fail(f"response with unpredicted tag {txn.tag} at cycle {txn.cycle}")
            return
        want, req = entry
        wdata = int.from_bytes(want.data, "little")
        if (txn.error, txn.data) != (int(want.error), wdata):
            self._fail(f"tag {txn.tag} ({'W' if req.write else 'R'} {req.addr:#x} asid "
                       f"{req.asid}, accepted cycle {req.cycle}): RTL error {txn.error} data "
                       f"{txn.data:#x}, model {want.error!r} {wdata:#x}")

    def _on_dram(self, txn):
        self.flush(txn.cycle)
        if not txn.write:
            # Only a predicted read may reach DRAM: never an errored or plaintext-less one.
            self.checked["dram_reads"] += 1
            if self.dram_reads[txn.addr] <= 0:
                self._fail(f"unpredicted DRAM read of {txn.addr:#x} at cycle {txn.cycle} "
                           "(an errored or unknown request reached DRAM)")
            else:
                self.dram_reads[txn.addr] -= 1
            return
        self.checked["dram_writes"] += 1
        self._log(c=txn.cycle, ev="dram_w", a=hex(txn.addr), d=_digest(txn.data))
        queue = self.dram_expect.get(txn.addr)
        if not queue:
            self._fail(f"unpredicted DRAM write to {txn.addr:#x} at cycle {txn.cycle}")
            return
        want = queue.pop(0)
        if txn.data != want:
            self._fail(f"DRAM write {txn.addr:#x} at cycle {txn.cycle}: RTL {txn.data:#x}, "
                       f"model {want:#x}")

    def on_reset(self, cycle):
        """The engine was reset (call while ``rst`` is high, after the TB flushed its BFMs).

        Applies every earlier event, drops predictions the reset cancelled, resets the model
        (keys zeroized, registers 0) and resynchronizes its DRAM with the DRAM agent's memory
        (writes the engine never performed are lost, as in the RTL).
        """
        self.flush()
        self._check_flag()
        self._check_entropy()
        dropped = len(self.by_tag)
        self.by_tag.clear()
        self.dram_expect.clear()
        self.dram_reads.clear()
        self.model.reset()
        self._entropy_base = self.model.entropy.words_drawn
        self._entropy_ok = 0
        bfm = getattr(self.tb, "entropy", None)
        self._entropy_rtl_base = len(bfm.consumed) if bfm is not None else 0
        dram = Dram()
        for addr, value in self.tb.dram.mem.items():
            dram.write(addr, value.to_bytes(64, "little"))
        self.model.dram = dram
        self._log(c=cycle, ev="reset", dropped=dropped)
        self.checked["resets"] += 1
        return dropped

    def _check_flag(self):
        """``err_dram_rsp_tag`` is high exactly when the test injected a stray DRAM response
        (``tb.expect_err_dram_rsp_tag``)."""
        flag = getattr(self.tb, "err_dram_rsp_tag", None)
        if flag is None:
            return
        self.checked["flags"] += 1
        got, want = int(flag.value), int(bool(getattr(self.tb, "expect_err_dram_rsp_tag", False)))
        if got != want:
            self._fail(f"err_dram_rsp_tag is {got}, expected {want}")

    def total_checked(self):
        """Responses + DRAM writes and reads + command statuses checked."""
        return (self.checked["responses"] + self.checked["dram_writes"]
                + self.checked["dram_reads"] + self.checked["commands"])

    def check_phase(self):
        self.flush()
        self._check_flag()
        self._check_entropy()
        left = {a: q for a, q in self.dram_expect.items() if q}
        reads = sorted(hex(a) for a, n in self.dram_reads.items() if n > 0)
        if self.by_tag:
            self._fail(f"responses never seen for tags {sorted(self.by_tag)}")
        if left:
            self._fail(f"DRAM writes never seen at {[hex(a) for a in left]}")
        if reads:
            self._fail(f"DRAM reads never seen at {reads}")
        self.logger.info(f"scoreboard checked {dict(self.checked)}")
        self.write_trace()
        assert not self.errors, f"{len(self.errors)} scoreboard errors, first: {self.errors[0]}"
        assert self.checked["responses"], "scoreboard saw no traffic"


# -- env ------------------------------------------------------------------------------------


class VirtualSequencer(uvm_sequencer):
    """Handles to every agent's sequencer (and the env), for virtual sequences."""

    def build_phase(self):
        super().build_phase()
        self.tb = ConfigDB().get(self, "", "TB")
        self.up_seqr = self.kp_seqr = self.cfg_seqr = self.env = None


class EngineEnv(uvm_env):
    """Agents + scoreboard + coverage collector + virtual sequencer, connected."""

    def build_phase(self):
        from .coverage import CoverageCollector, PortSampler

        self.up = UpstreamAgent("up", self)
        self.dram = DramAgent("dram", self)
        self.kp = KeyProgramAgent("kp", self)
        self.cfg = ConfigAgent("cfg", self)
        self.sb = EngineScoreboard("sb", self)
        self.cov = CoverageCollector("cov", self)
        self.ports = PortSampler("ports", self)
        self.vseqr = VirtualSequencer("vseqr", self)

    def connect_phase(self):
        self.up.req_ap.connect(self.sb.req_sub.analysis_export)
        self.up.rsp_ap.connect(self.sb.rsp_sub.analysis_export)
        self.dram.ap.connect(self.sb.dram_sub.analysis_export)
        self.kp.ap.connect(self.sb.cmd_sub.analysis_export)
        self.cfg.ap.connect(self.sb.cmd_sub.analysis_export)
        # Functional coverage from the monitors (what happened on the ports).
        self.up.req_ap.connect(self.cov.req_sub.analysis_export)
        self.up.rsp_ap.connect(self.cov.rsp_sub.analysis_export)
        self.kp.ap.connect(self.cov.cmd_sub.analysis_export)
        self.cfg.ap.connect(self.cov.cmd_sub.analysis_export)
        self.ports.collector = self.cov
        self.cmd = CommandAgent(self.kp, self.cfg)
        v = self.vseqr
        v.up_seqr, v.kp_seqr, v.cfg_seqr, v.env = self.up.seqr, self.kp.seqr, self.cfg.seqr, self
