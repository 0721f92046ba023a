"""Functional coverage of the engine, sampled from what happened on the DUT's ports (DESIGN §8).

Every covergroup, coverpoint, cross and bin is declared in ``verif/testplan.yaml`` (the one
place a bin is named); this module gives each coverpoint its sampling function (``XF``) and
builds the cocotb-coverage objects from the plan. Nothing here reads the scoreboard's
predictions: :class:`CoverageCollector` subscribes to the monitors' analysis ports (requests
accepted, responses, DRAM requests, command/response pairs) and keeps a small shadow of the
state those handshakes established (configuration values the DUT answered with, slot states
after successful commands, requests in flight). :class:`PortSampler` watches the ports
themselves for stalls, the reset input and the sticky ``err_dram_rsp_tag`` output.

Each run exports ``fcov.json`` (every bin and its hit count, see :func:`export`), which
:mod:`verif.coverage` merges by summing.

Sampling is *batched*: :func:`sample` only counts its values (a dict increment), and
:func:`flush` hands each distinct sample to cocotb-coverage once, with its multiplicity
(:func:`_add_hits`). cocotb-coverage costs tens of microseconds per call, and a run samples a
handful of distinct value combinations thousands of times; the bins and hit counts are the
same as sampling every call (``tests/verif/test_uvm_coverage.py``). :func:`bins`,
:func:`summary` and :func:`export` flush first.
"""

from __future__ import annotations

import collections
import json

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db
from pyuvm import ConfigDB, uvm_component, uvm_subscriber

from golden_model.config import (
    EXCLUDE_ENABLE,
    SYSCFG_MEM_ENCRYPTION_MOD_EN,
    TME_ACTIVATE_BYPASS,
    TME_ACTIVATE_ENABLE,
    ConfigReg,
    keyid_bits_field,
)
from golden_model.engine import EngineParams, ErrorCode
from golden_model.keytable import Command, KeyProgramStatus
from verif.testplan import coverpoints

__all__ = ["XF", "PORTS", "CoverageCollector", "PortSampler", "sample", "sample_now",
           "sample_platform", "flush", "export", "summary", "bins"]

#: Ports watched for stalls (valid high, ready low): the DUT's and the testbench's side.
PORTS = ("up_req", "up_rsp", "dram_req", "dram_rsp", "kp_req", "kp_rsp", "cfg_req", "cfg_rsp")
_PARAMS = EngineParams()
_HOST_SLOT = _PARAMS.slots - 1


# -- sampling functions, one per coverpoint of the plan ---------------------------------------
# Each takes the sample dict the collector builds; None means "no bin" (not sampled).

def _rw(s):
    return "W" if s["write"] else "R"


XF = {
    "mee.kp.command": lambda s: (Command(s["command"]).name if s["command"] <= 3
                                 else "BAD_CMD"),
    "mee.kp.status": lambda s: KeyProgramStatus(s["status"]).name,
    "mee.cfg.reg": lambda s: ConfigReg(s["reg"]).name if s["reg"] <= 6 else "BAD_REG",
    "mee.cfg.status": lambda s: ("OK", "LOCKED", "INVALID", "ENTROPY_ERROR")[s["status"]],
    "mee.keyid.class": lambda s: s.get("keyid_class"),
    "mee.keyid.rw": _rw,
    "mee.amd.c_bit": lambda s: s.get("c_bit"),
    "mee.amd.asid": lambda s: s.get("asid_class"),
    "mee.amd.tsme": lambda s: s.get("tsme"),
    "mee.mode.mode": lambda s: s.get("mode"),
    "mee.mode.rw": _rw,
    "mee.excl.range": lambda s: s.get("excl"),
    "mee.hazard.kind": lambda s: s.get("hazard"),
    "mee.hazard.distance": lambda s: s.get("distance"),
    "mee.keychange.command": lambda s: Command(s["command"]).name,
    "mee.bp.port": lambda s: s["port"],
    "mee.reset.traffic": lambda s: "busy" if s["in_flight"] else "idle",
    "mee.err.cause": lambda s: ErrorCode(s["error"]).name if s["error"] else None,
    "mee.err.rw": _rw,
    "mee.dram_protocol.flag": lambda s: "err_dram_rsp_tag",
    "mee.platform.event": lambda s: s["event"],
}


def _nothing(s):
    """The sampled function itself does nothing: the decorators sample."""


def _build():
    """Build the cocotb-coverage sampling functions from the plan (one per covergroup)."""
    groups = collections.defaultdict(list)
    for name, spec in coverpoints().items():
        group = name.rpartition(".")[0]
        groups[group].append((name, spec))
    samplers = {}
    for group, items in groups.items():
        # cocotb-coverage samples an item and then calls the function it decorates, and a cross
        # reads its items' hits of the current call: so every coverpoint is called before the
        # crosses (and must exist before a cross is built).
        points = sorted(items, key=lambda i: "items" in i[1])
        calls = []
        for name, spec in points:
            if "items" in spec:
                ign = [tuple(i) for i in spec.get("ignore", [])]
                calls.append(CoverCross(name, items=[f"{group}.{i}" for i in spec["items"]],
                                        ign_bins=ign)(_nothing))
            else:
                if name not in XF:
                    raise KeyError(f"testplan coverpoint {name} has no sampling function")
                calls.append(CoverPoint(name, xf=XF[name], bins=list(spec["bins"]))(_nothing))
        samplers[group] = calls
        _GROUP_ITEMS[group] = [name for name, _ in points]
    missing = set(XF) - set(coverpoints())
    if missing:
        raise KeyError(f"sampling functions for coverpoints not in the testplan: {missing}")
    return samplers


_GROUP_ITEMS: dict[str, list[str]] = {}  # covergroup -> its coverpoints and crosses
_SAMPLERS = _build()


def sample_now(group, **values):
    """Sample covergroup *group* (``"mee.kp"``) with the named values, in cocotb-coverage now."""
    for call in _SAMPLERS[group]:
        call(values)


# Samples not yet handed to cocotb-coverage: (group, sorted value items) -> multiplicity.
_PENDING: collections.Counter = collections.Counter()
#: Batch samples (see :func:`flush`); False samples every call at once (the benchmark's
#: "before" figure: ``UVM_COV_BATCH=0``).
BATCH = True


def sample(group, **values):
    """Sample covergroup *group* (``"mee.kp"``) with the named values (batched: see
    :func:`flush`)."""
    if BATCH:
        _PENDING[group, tuple(sorted(values.items()))] += 1
    else:
        sample_now(group, **values)


def _add_hits(group, extra):
    """Add *extra* hits to every bin the group's last sampling call hit (cocotb-coverage has
    no weighted sample: its items keep the bins of their last call in ``_new_hits``)."""
    for name in _GROUP_ITEMS[group]:
        item = coverage_db[name]
        before = item.coverage
        for hit in item._new_hits:
            item._hits[hit] += extra
        if item.coverage != before:  # only with at_least > 1
            item._parent._update_coverage(item.coverage - before)


def flush():
    """Hand every pending sample to cocotb-coverage (one call per distinct sample)."""
    pending = list(_PENDING.items())
    _PENDING.clear()
    for (group, items), count in pending:
        sample_now(group, **dict(items))
        if count > 1:
            _add_hits(group, count - 1)


def sample_platform(event):
    """A platform-scenario step that succeeded on the RTL (SEV firmware, TME-MK)."""
    sample("mee.platform", event=event)


def export(path="fcov.json"):
    """Write every bin of the run and its hits (``{item: {bin: hits}}``), for merging."""
    flush()
    with open(path, "w") as f:
        json.dump(bins(), f, indent=0, sort_keys=True)


def bins():
    """``{coverpoint or cross: {bin label: hits}}`` of this process's database."""
    flush()
    out = {}
    for name in coverpoints():
        item = coverage_db[name]
        out[name] = {" x ".join(map(str, b)) if isinstance(b, tuple) else str(b): int(h)
                     for b, h in item.detailed_coverage.items()}
    return out


def summary():
    """``{covergroup: (covered, size, percent)}`` of this process's database."""
    flush()
    out = {}
    for group in sorted(_SAMPLERS):
        item = coverage_db[group]
        out[group] = (item.coverage, item.size, round(item.cover_percentage, 1))
    return out


# -- the collector --------------------------------------------------------------------------


class _Sub(uvm_subscriber):
    def __init__(self, name, parent, fn):
        super().__init__(name, parent)
        self._fn = fn

    def write(self, tt):
        self._fn(tt)


class CoverageCollector(uvm_component):
    """Samples every covergroup from monitor transactions (``*_sub.analysis_export``).

    Connect ``req_sub`` to the upstream request monitor, ``rsp_sub`` to the response
    monitor, ``cmd_sub`` to both command monitors (:class:`~verif.uvm.env.CommandEvent`).
    State changes of commands take effect for requests accepted after the command's response
    cycle (architecture §4: a request in the same cycle sees the old state).
    """

    def build_phase(self):
        self.req_sub = _Sub("req_sub", self, self._on_req)
        self.rsp_sub = _Sub("rsp_sub", self, self._on_rsp)
        self.cmd_sub = _Sub("cmd_sub", self, self._on_cmd)
        self.samples = 0
        self.clear()

    def clear(self):
        """Forget the shadow state (reset: registers 0, slots empty, nothing in flight)."""
        self.regs = collections.defaultdict(int)
        self.slots = {}  # slot -> "KEY" / "NO_ENCRYPT" (absent: EMPTY)
        self.in_flight = {}  # tag -> (line, write, slot, index)
        self.recent = collections.deque(maxlen=4)  # (line, write, tag) of the last requests
        self._pending_cmds = []
        self._index = 0

    # -- shadow state -------------------------------------------------------------------

    def _apply_cmds(self, before):
        keep = []
        for ev in self._pending_cmds:
            if ev.cycle >= before:
                keep.append(ev)
            elif ev.kind == "cfg" and ev.result["status"] == 0 and ev.args["write"]:
                self.regs[ev.args["addr"]] = ev.result["data"]
            elif ev.kind == "kp" and ev.result["status"] == 0:
                slot, cmd = ev.args["keyid"], ev.args["command"]
                if cmd == Command.CLEAR_KEY:
                    self.slots.pop(slot, None)
                else:
                    self.slots[slot] = "NO_ENCRYPT" if cmd == Command.NO_ENCRYPT else "KEY"
        self._pending_cmds = keep

    def _decode(self, addr, asid):
        """``(sample values, DRAM line, key slot addressed or None)`` of a request under the
        shadow state."""
        r = self.regs
        amd = r[ConfigReg.MODE] & 1
        values = {"mode": "AMD" if amd else "INTEL"}
        slot = None
        if amd:
            c_bit = (addr >> _PARAMS.c_bit_pos) & 1
            line = addr & ((1 << _PARAMS.c_bit_pos) - 1) & ~0x3F
            if r[ConfigReg.SYSCFG] & SYSCFG_MEM_ENCRYPTION_MOD_EN:
                tsme = r[ConfigReg.TSME] & 1
                values.update(c_bit=c_bit, tsme=tsme, asid_class="host" if asid == 0 else
                              ("guest" if asid < _HOST_SLOT else "out_of_range"))
                slot = (asid if asid and c_bit else _HOST_SLOT) if (c_bit or tsme) else None
            return values, line, slot
        tme = r[ConfigReg.TME_ACTIVATE]
        k = keyid_bits_field(tme) if tme & TME_ACTIVATE_ENABLE else 0
        shift = _PARAMS.pa_width - k
        keyid = addr >> shift if addr < 1 << _PARAMS.pa_width else None
        line = addr & ((1 << shift) - 1) & ~0x3F
        if not tme & TME_ACTIVATE_ENABLE or keyid is None:
            return values, line, None
        state = self.slots.get(keyid, "EMPTY") if keyid else None
        if keyid == 0:
            cls = "keyid0"
        elif keyid >= _PARAMS.slots:
            cls = "out_of_range"
        elif state == "NO_ENCRYPT":
            cls = "no_encrypt"
        elif state == "EMPTY":
            cls = "cleared"
        elif keyid == (1 << k) - 1:
            cls = "max"
        elif keyid == 1:
            cls = "keyid1"
        else:
            cls = None
        values["keyid_class"] = cls
        if state not in ("KEY", "NO_ENCRYPT") and not tme & TME_ACTIVATE_BYPASS:
            xmask = r[ConfigReg.EXCLUDE_MASK]
            if xmask & EXCLUDE_ENABLE:
                mask = xmask & ~0xFFF
                hit = line & mask == r[ConfigReg.EXCLUDE_BASE] & mask
                values["excl"] = "hit" if hit else "miss"
        # Requests "to a slot": by their KeyID (a later command on that KeyID changes them).
        slot = keyid or None
        return values, line, slot

    # -- monitor transactions -----------------------------------------------------------

    def _on_cmd(self, ev):
        a, r = ev.args, ev.result
        if ev.kind == "kp":
            sample("mee.kp", command=a["command"], status=r["status"])
            if r["status"] == 0:
                same_slot = [t for t, (_, _, slot, _) in self.in_flight.items()
                             if slot == a["keyid"]]
                if same_slot:
                    sample("mee.keychange", command=a["command"])
        elif a["write"]:
            sample("mee.cfg", reg=a["addr"], status=r["status"])
        self._pending_cmds.append(ev)
        self.samples += 1

    def _on_req(self, txn):
        self._apply_cmds(txn.cycle)
        values, line, slot = self._decode(txn.addr, txn.asid)
        write = bool(txn.write)
        sample("mee.mode", write=write, **values)
        if "keyid_class" in values:
            sample("mee.keyid", write=write, **values)
        if "asid_class" in values:
            sample("mee.amd", write=write, **values)
        if "excl" in values:
            sample("mee.excl", **values)
        # Same-line pairs: the most recent earlier request to this line, still in flight.
        for distance, (other_line, other_write, tag) in enumerate(reversed(self.recent)):
            if other_line == line and tag in self.in_flight:
                kind = ("W" if write else "R") + "A" + ("W" if other_write else "R")
                if kind != "RAR":
                    sample("mee.hazard", hazard=kind, distance=distance)
                break
        self.recent.append((line, write, txn.tag))
        self.in_flight[txn.tag] = (line, write, slot, self._index)
        self._index += 1
        self.samples += 1

    def _on_rsp(self, txn):
        entry = self.in_flight.pop(txn.tag, None)
        if entry is not None and txn.error:
            sample("mee.err", error=txn.error, write=entry[1])

    def on_reset(self):
        """The reset input rose: sample the traffic it cut; the shadow state is cleared
        when reset is released (late transfer reports of the last cycle come in between)."""
        sample("mee.reset", in_flight=len(self.in_flight))


def _high(handle):
    """A one-bit signal is 1 (X/Z count as 0: before the first drive, in reset)."""
    try:
        return int(handle.value) == 1
    except ValueError:
        return False


class PortSampler(uvm_component):
    """Watches the DUT's ports: stalls per port, the reset input, ``err_dram_rsp_tag``.

    A stall is a cycle with ``valid`` high and ``ready`` low outside reset, whichever side
    caused it. On the burst harness the harness records stalls in hardware (sticky ``bp``
    flags, read once after the run in :meth:`extract_phase`); on the bare engine a per-cycle
    watch samples them, and stops once every port has stalled (to cost nothing in long runs).
    Reset and the DRAM protocol flag are watched by edge.
    """

    #: Read the harness's stall flags when the design has them (False: watch every cycle,
    #: the benchmark's "before" figure, ``UVM_STALL_FLAGS=0``).
    use_harness_flags = True

    def build_phase(self):
        self.tb = ConfigDB().get(self, "", "TB")
        self.collector = None  # set by the env
        self.stalled = set()

    def _ports(self):
        dut = self.tb.dut
        out = {}
        for port in PORTS:
            valid, ready = getattr(dut, f"{port}_valid", None), getattr(dut, f"{port}_ready", None)
            if valid is not None and ready is not None:
                out[port] = (valid, ready)
        return out

    def _harness_flags(self):
        """The burst harness's sticky stall flags (``bp``) and their ports, or None."""
        flags = self.tb.dut._get("bp") if self.use_harness_flags else None
        if flags is None:
            return None
        from verif.harness.burst import BP_PORTS
        return flags, BP_PORTS

    async def run_phase(self):
        dut = self.tb.dut
        cocotb.start_soon(self._watch_reset(dut))
        flag = getattr(dut, "err_dram_rsp_tag", None)
        if flag is not None:
            cocotb.start_soon(self._watch_flag(flag))
        if self._harness_flags() is not None:
            return  # the harness records the stalls (extract_phase reads them)
        ports = self._ports()
        while len(self.stalled) < len(ports):
            await RisingEdge(dut.clk)
            await ReadOnly()
            if _high(dut.rst):
                continue
            for port, (valid, ready) in ports.items():
                if port not in self.stalled and _high(valid) and not _high(ready):
                    self._stalled(port)

    def extract_phase(self):
        harness = self._harness_flags()
        if harness is None:
            return
        flags, ports = harness
        value = int(flags.value)
        for i, port in enumerate(ports):
            if value >> i & 1 and port not in self.stalled:
                self._stalled(port)

    def _stalled(self, port):
        self.stalled.add(port)
        sample("mee.bp", port=port)

    async def _watch_reset(self, dut):
        await ReadOnly()
        if _high(dut.rst):
            # The power-on reset the testbench starts with: nothing is in flight.
            if self.collector is not None:
                self.collector.on_reset()
            await FallingEdge(dut.rst)
        while True:
            await RisingEdge(dut.rst)
            if self.collector is not None:
                self.collector.on_reset()
            await FallingEdge(dut.rst)
            if self.collector is not None:
                self.collector.clear()

    async def _watch_flag(self, flag):
        await RisingEdge(flag)
        sample("mee.dram_protocol")
