"""Python side of the burst transport: one coroutine that services ``mee_burst``'s rings.

:class:`~verif.harness.burst.BurstHarness` does the per-cycle work in hardware (presenting
requests, random stalls, recording every transfer with its cycle, the reactive DRAM).
:class:`BurstTransport` wakes once every ``window`` clock cycles (a ``Timer``, never a
per-cycle trigger), and in that one wake-up:

1. reads which request slots the engine accepted and their acceptance cycles;
2. reads every new ``up_rsp`` and ``dram_req`` record;
3. hands all of them, merged in cycle order (requests before checks within a cycle), to plain
   callbacks (the TB's tag bookkeeping, then the uvm monitors' analysis ports);
4. answers DRAM misses through the fill ring from its copy of memory (:attr:`BurstDram.mem`,
   updated by every recorded DRAM write, in order);
5. refills the request ring from its queue.

Everything it does depends on cycle counts only (the wake-ups are at fixed cycles, the stalls
come from the harness's seeded LFSRs), so a run is reproducible from its seed and the same on
both simulators.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import cocotb
from cocotb.triggers import Event, RisingEdge, Timer

from ..harness.burst import DRAM_REC, FILL, PAUSE_PORTS, UP_REQ, UP_RSP_REC
from .stream import ProtocolError, StreamTransaction

__all__ = ["BurstTransport", "BurstUpReq", "BurstUpRsp", "BurstDram", "is_burst_harness",
           "probability_threshold", "record_fields", "pack_record", "unpack_record"]


def is_burst_harness(dut) -> bool:
    """Whether *dut* is a :class:`~verif.harness.burst.BurstHarness` (it has ``rq_wp``)."""
    return dut._get("rq_wp") is not None


def probability_threshold(probability: float) -> int:
    """The harness's 8-bit pause threshold for a per-cycle pause *probability* (0..1)."""
    if not 0.0 <= probability < 1.0:
        raise ValueError(f"pause probability must be in [0, 1), not {probability!r}")
    return min(255, round(probability * 256))


def record_fields(layout):
    """``[(name, offset, mask)]`` of one of the harness's ``StructLayout`` records (the HDL
    layout is the one source of truth for the packing)."""
    return [(name, f.offset, (1 << f.width) - 1) for name, f in layout]


def unpack_record(value: int, fields) -> dict:
    """Field values of a packed record (*fields* from :func:`record_fields`)."""
    return {name: (value >> off) & mask for name, off, mask in fields}


def pack_record(values, fields) -> int:
    """Pack a mapping of field values (missing ones 0) into one word."""
    word = 0
    for name, off, mask in fields:
        word |= (int(values.get(name, 0)) & mask) << off
    return word


_REQ_F, _RSP_F, _DRAM_F, _FILL_F = (record_fields(x)
                                    for x in (UP_REQ, UP_RSP_REC, DRAM_REC, FILL))
_RSP_PUBLIC = ("tag", "data", "error")
_DRAM_PUBLIC = ("addr", "write", "tag", "data")
# (offset, mask) of each field, by name: poll() unpacks with these directly (no dict per record).
_RSP_AT, _DRAM_AT = ({name: (off, mask) for name, off, mask in f} for f in (_RSP_F, _DRAM_F))


def _read(handle) -> int:
    """A port's value as an int (the harness's registers are never X).

    Reads the GPI handle's binary string directly: ``int(handle.value)`` builds a
    ``LogicArray`` first, which costs more than the read itself on 600-bit records (this is
    the hot path: one call per transaction).
    """
    return int(handle._handle.get_signal_val_binstr(), 2)


class _Callbacks:
    def __init__(self) -> None:
        self.callbacks: list[Callable[[StreamTransaction], None]] = []

    def add_callback(self, callback: Callable[[StreamTransaction], None]) -> None:
        """Call *callback(txn)* for every transfer (``txn.cycle`` = its edge)."""
        self.callbacks.append(callback)

    def set_pause_generator(self, generator=None) -> None:
        """Pause generators live in the harness: use :meth:`BurstTransport.set_pause`."""
        if generator is not None:
            raise TypeError("the burst harness draws its stalls from seeded LFSRs: use "
                            "BurstTransport.set_pause(port, probability)")


class BurstUpReq(_Callbacks):
    """The ``up_req`` side as the TB sees it: a queue drained into the request ring.

    Attributes
    ----------
    sent : int
        Requests accepted by the engine (reported).
    """

    def __init__(self, transport: BurstTransport) -> None:
        super().__init__()
        self._t = transport
        self.queue: collections.deque = collections.deque()
        self.sent = 0
        self._idle = Event()
        self._idle.set()

    def __repr__(self) -> str:
        return f"BurstUpReq(queued={len(self.queue)}, sent={self.sent})"

    def send_nowait(self, txn) -> StreamTransaction:
        """Queue *txn* (a :class:`StreamTransaction` or mapping of :data:`UP_REQ` fields)."""
        txn = txn if isinstance(txn, StreamTransaction) else StreamTransaction(**dict(txn))
        self.queue.append(txn)
        self._idle.clear()
        return txn

    async def send(self, txn) -> StreamTransaction:
        """Queue *txn*; it reaches the ring at the next wake-up."""
        return self.send_nowait(txn)

    def count(self) -> int:
        """Requests queued in Python (not yet in the ring)."""
        return len(self.queue)

    def idle(self) -> bool:
        """Nothing queued and every request in the ring accepted and reported."""
        return not self.queue and self._t.ring_empty()

    async def wait(self) -> None:
        """Wait until :meth:`idle`."""
        while not self.idle():
            self._idle.clear()
            await self._idle.wait()

    def abort(self) -> None:
        """Drop every queued request (the harness drops the ring's during reset)."""
        self.queue.clear()
        self._t.abort_requests()


class BurstUpRsp(_Callbacks):
    """The ``up_rsp`` side: callbacks for every recorded response."""

    def __init__(self) -> None:
        super().__init__()
        self.received = 0
        self.errors: list[str] = []


class _DramReqView(_Callbacks):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []


class BurstDram:
    """The reactive DRAM as Python sees it: the harness's line store, mirrored.

    The memory itself, the latency and the stalls are in the harness; this object keeps the
    authoritative copy of memory (:attr:`mem`, updated by every recorded write, in order),
    the request history and the protocol checks the harness does not do in hardware
    (alignment). ``req_sink`` takes the DRAM monitor's callbacks.

    Attributes
    ----------
    mem : dict[int, int]
    requests, writes : list of StreamTransaction
    errors : list of str
    """

    def __init__(self, transport: BurstTransport, latency: tuple[int, int]) -> None:
        self._t = transport
        self.mem: dict[int, int] = {}
        self.requests: list[StreamTransaction] = []
        self.writes: list[StreamTransaction] = []
        self.responses: list[StreamTransaction] = []  # not recorded by the harness
        self.errors: list[str] = []
        self.req_sink = _DramReqView()
        self.rsp_source = _Callbacks()
        self.latency = latency

    def __repr__(self) -> str:
        return f"BurstDram(lines={len(self.mem)}, requests={len(self.requests)}, " \
               f"outstanding={self.outstanding()})"

    @property
    def latency(self) -> tuple[int, int]:
        """Inclusive read latency range in cycles (drives ``lat_lo`` / ``lat_span``)."""
        return self._latency

    @latency.setter
    def latency(self, value) -> None:
        lo, hi = (int(v) for v in value)
        if not 1 <= lo <= hi <= 255 or hi - lo + 1 > 255:
            raise ValueError(f"latency must be (lo, hi) with 1 <= lo <= hi <= 255, not {value!r}")
        self._latency = (lo, hi)
        self._t.dut.lat_lo.value = lo
        self._t.dut.lat_span.value = hi - lo + 1

    def set_req_pause(self, probability: float | None) -> None:
        """Backpressure probability on ``dram_req_ready`` (``None``: never)."""
        self._t.set_pause("dram_req", probability or 0.0)

    def set_rsp_pause(self, probability: float | None) -> None:
        """Gap probability before each ``dram_rsp`` (``None``: never)."""
        self._t.set_pause("dram_rsp", probability or 0.0)

    def read(self, addr: int) -> int:
        """The stored line at *addr* (0 if never written)."""
        return self.mem.get(addr, 0)

    def write(self, addr: int, data: int) -> None:
        """Backdoor writes would bypass the harness's line store: not supported."""
        raise NotImplementedError("BurstDram has no backdoor write (the line store is in HDL)")

    def outstanding(self) -> int:
        """DRAM reads in flight, as of the last wake-up."""
        return self._t.dram_busy

    def idle(self) -> bool:
        """No read in flight (as of the last wake-up)."""
        return self._t.dram_busy == 0

    def abort(self) -> None:
        """Nothing to do: the harness forgets reads in flight while ``rst`` is high."""


class BurstTransport:
    """The one coroutine that moves transactions between Python and ``mee_burst``.

    Parameters
    ----------
    dut : cocotb handle
        The :class:`~verif.harness.burst.BurstHarness` toplevel.
    clock : cocotb handle
    period_ns : float
    seed : int
        Loaded into the harness's LFSRs (stalls and DRAM latencies).
    latency : (int, int)
        DRAM read latency range.
    window : int, optional
        Cycles between wake-ups (default: the ring depth, so the rings never fill).
    """

    def __init__(self, dut, clock, *, period_ns: float = 10, seed: int = 1,
                 latency: tuple[int, int] = (4, 12), window: int | None = None) -> None:
        self.dut = dut
        self.clock = clock
        self.period_ns = period_ns
        self.depth = sum(1 for i in range(1024) if dut._get(f"rq{i}") is not None)
        self.fill_depth = sum(1 for i in range(256) if dut._get(f"fl{i}") is not None)
        self.window = window or self.depth
        if not 1 <= self.window <= self.depth:
            raise ValueError(f"window must be 1..{self.depth} cycles, not {self.window}")
        self._mod = 1 << ((self.depth - 1).bit_length() + 1)
        self._fmod = 1 << ((self.fill_depth - 1).bit_length() + 1)
        self.rq = [dut._get(f"rq{i}") for i in range(self.depth)]
        self.acc = [dut._get(f"acc{i}") for i in range(self.depth)]
        self.rs = [dut._get(f"rs{i}") for i in range(self.depth)]
        self.dr = [dut._get(f"dr{i}") for i in range(self.depth)]
        self.fl = [dut._get(f"fl{i}") for i in range(self.fill_depth)]
        self.up_req = BurstUpReq(self)
        self.up_rsp = BurstUpRsp()
        for port in PAUSE_PORTS:
            getattr(dut, f"p_{port}").value = 0
        self.dram = BurstDram(self, latency)
        self.dram_busy = 0
        self.wakeups = 0
        self._slots: list[StreamTransaction | None] = [None] * self.depth
        self._rq_wp = self._rq_seen = 0
        self._rs_rp = self._dr_rp = 0
        self._fl_wp = 0
        self._fills: collections.deque = collections.deque()
        self._offset = None
        dut.rq_wp.value = 0
        dut.rs_rp.value = 0
        dut.dr_rp.value = 0
        dut.fl_wp.value = 0
        dut.seed.value = seed & 0xFFFFFFFF
        dut.init.value = 1
        self._task = cocotb.start_soon(self._run())

    def __repr__(self) -> str:
        return f"BurstTransport(window={self.window}, depth={self.depth}, " \
               f"wakeups={self.wakeups})"

    # -- knobs -----------------------------------------------------------------------------

    def set_pause(self, port: str, probability: float) -> None:
        """Per-cycle pause probability of *port* (``up_req`` idle gaps, ``up_rsp`` /
        ``dram_req`` backpressure, ``dram_rsp`` gaps), drawn from the seeded LFSRs."""
        if port not in PAUSE_PORTS:
            raise ValueError(f"no pause generator on {port!r}; ports: {', '.join(PAUSE_PORTS)}")
        getattr(self.dut, f"p_{port}").value = probability_threshold(probability)

    def stall_counts(self) -> dict[str, int]:
        """Cycles each pause generator stalled its port so far."""
        return {port: _read(getattr(self.dut, f"st_{port}")) for port in PAUSE_PORTS}

    def protocol_errors(self) -> list[str]:
        """The harness's sticky protocol flags that are set, by name."""
        return [name for name in ("err_dram_tag", "err_dram_req", "err_up_rsp")
                if _read(getattr(self.dut, name))]

    # -- state -----------------------------------------------------------------------------

    def ring_empty(self) -> bool:
        """Every request written to the ring has been accepted and reported."""
        return self._rq_seen == self._rq_wp

    def abort_requests(self) -> None:
        """Forget the ring's requests (the harness drops them while ``rst`` is high)."""
        self._rq_seen = self._rq_wp
        self._fills.clear()
        self._slots = [None] * self.depth

    def now(self) -> int:
        """The current cycle (index of the last rising edge), from simulation time."""
        from cocotb.utils import get_sim_time
        return int(get_sim_time("ns") // self.period_ns)

    # -- the pump --------------------------------------------------------------------------

    async def _run(self) -> None:
        # init is held for two edges: the first may come before the writes of time 0 land.
        await RisingEdge(self.clock)
        await RisingEdge(self.clock)           # the LFSRs load the seed at this edge
        self.dut.init.value = 0
        # Wake 1/5 of a period after an edge: every register has settled, no edge is near.
        await Timer(round(self.period_ns * 200), "ps")
        self._offset = self.now() - _read(self.dut.cycle)
        step = Timer(round(self.period_ns * 1000 * self.window), "ps")
        while True:
            self.poll()
            await step

    async def sync(self) -> None:
        """Process everything recorded up to the last edge now (from any point in a cycle)."""
        await RisingEdge(self.clock)
        await Timer(round(self.period_ns * 200), "ps")
        self.poll()

    def poll(self) -> None:
        """One wake-up's work (see the module docstring)."""
        self.wakeups += 1
        dut, mod, depth, off = self.dut, self._mod, self.depth, self._offset + 1
        events = []
        # 1. accepted requests
        rp = _read(dut.rq_rp)
        while self._rq_seen != rp:
            slot = self._rq_seen % depth
            txn = self._slots[slot]
            self._slots[slot] = None
            txn.cycle = _read(self.acc[slot]) + off
            events.append((txn.cycle, 0, txn))
            self._rq_seen = (self._rq_seen + 1) % mod
        # 2. responses
        wp = _read(dut.rs_wp)
        moved = self._rs_rp != wp
        (c_o, c_m), (t_o, t_m), (e_o, e_m), (d_o, d_m) = (
            _RSP_AT[k] for k in ("cycle", "tag", "error", "data"))
        while self._rs_rp != wp:
            v = _read(self.rs[self._rs_rp % depth])
            txn = StreamTransaction(tag=v >> t_o & t_m, data=v >> d_o & d_m,
                                    error=v >> e_o & e_m)
            txn.cycle = (v >> c_o & c_m) + off
            events.append((txn.cycle, 1, txn))
            self._rs_rp = (self._rs_rp + 1) % mod
        if moved:
            dut.rs_rp.value = self._rs_rp
        # 3. DRAM requests
        wp = _read(dut.dr_wp)
        moved = self._dr_rp != wp
        (c_o, c_m), (a_o, a_m), (w_o, w_m), (t_o, t_m), (m_o, m_m), (d_o, d_m) = (
            _DRAM_AT[k] for k in ("cycle", "addr", "write", "tag", "miss", "data"))
        while self._dr_rp != wp:
            v = _read(self.dr[self._dr_rp % depth])
            write = v >> w_o & w_m
            data = v >> d_o & d_m
            # A read's record carries the line the harness will answer with; the port's data
            # of a read is not part of the transaction (0).
            txn = StreamTransaction(addr=v >> a_o & a_m, write=write, tag=v >> t_o & t_m,
                                    data=data if write else 0)
            txn.cycle = (v >> c_o & c_m) + off
            events.append((txn.cycle, 2, (txn, v >> m_o & m_m, None if write else data)))
            self._dr_rp = (self._dr_rp + 1) % mod
        if moved:
            dut.dr_rp.value = self._dr_rp
        self.dram_busy = _read(dut.dram_busy)
        # Deliver in cycle order; within a cycle requests first (the scoreboard's cycle rule
        # orders a request accepted at a command's response edge before the command).
        events.sort(key=lambda e: (e[0], e[1]))
        for _, kind, item in events:
            if kind == 0:
                self.up_req.sent += 1
                for cb in self.up_req.callbacks:
                    cb(item)
            elif kind == 1:
                self.up_rsp.received += 1
                for cb in self.up_rsp.callbacks:
                    cb(item)
            else:
                self._on_dram(*item)
        # 5. refill the request ring
        queue = self.up_req.queue
        free = depth - (self._rq_wp - self._rq_seen) % mod
        if queue and free:
            while queue and free:
                txn = queue.popleft()
                slot = self._rq_wp % depth
                self._slots[slot] = txn
                self.rq[slot].value = pack_record(txn.fields(), _REQ_F)
                self._rq_wp = (self._rq_wp + 1) % mod
                free -= 1
            dut.rq_wp.value = self._rq_wp
        if self._fills:
            self._push_fills()
        if self.up_req.idle():
            self.up_req._idle.set()

    def _push_fills(self) -> None:
        """Write waiting fills into the free slots of the fill ring (the harness takes one
        per cycle; the rest wait for the next wake-up, which only delays those reads)."""
        free = self.fill_depth - (self._fl_wp - _read(self.dut.fl_rp)) % self._fmod
        while self._fills and free:
            self.fl[self._fl_wp % self.fill_depth].value = self._fills.popleft()
            self._fl_wp = (self._fl_wp + 1) % self._fmod
            free -= 1
        self.dut.fl_wp.value = self._fl_wp

    def _on_dram(self, txn: StreamTransaction, miss: int, stored: int | None) -> None:
        dram = self.dram
        dram.requests.append(txn)
        if txn.addr & 0x3F:
            message = f"unaligned address {txn.addr:#x} at cycle {txn.cycle}"
            dram.errors.append(message)
            raise ProtocolError(f"dram: {message}")
        if txn.write:
            dram.writes.append(txn)
            dram.mem[txn.addr] = txn.data
        elif not miss and stored != dram.read(txn.addr):
            # The harness's line store disagrees with the memory the recorded writes built.
            message = (f"burst harness DRAM would answer the read of {txn.addr:#x} (cycle "
                       f"{txn.cycle}) with {stored:#x}, memory holds {dram.read(txn.addr):#x}")
            dram.errors.append(message)
            raise ProtocolError(message)
        elif miss:
            # 4. the line store lost this line to an aliasing write: send it from the memory
            # as it was at this read (later writes are not applied yet: events are in order).
            self._fills.append(pack_record({"tag": txn.tag, "data": dram.read(txn.addr)},
                                           _FILL_F))
        for cb in dram.req_sink.callbacks:
            cb(txn)
