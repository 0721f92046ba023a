"""The engine testbench: clock, reset, every BFM of ``mee_engine`` and transaction helpers.

One :class:`EngineTB` per cocotb test, cocotbext-axi style. It binds the ports of
architecture §8 by name (interfaces that a DUT lacks are left out, so the same class drives
the BFM loopback in ``tests/sim/bfm_loopback.py``), and offers async helpers that work at the
transaction level: :meth:`EngineTB.program_key`, :meth:`EngineTB.config_write`,
:meth:`EngineTB.config_read`, :meth:`EngineTB.write_line`, :meth:`EngineTB.read_line`, and
:meth:`EngineTB.issue` for many requests in flight (responses are matched by tag).

Every upstream response is checked against the set of outstanding tags (a response with an
unknown tag, or a second response for one request, raises
:class:`~verif.bfm.stream.ProtocolError`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

import cocotb
from cocotb.triggers import ClockCycles, Event, RisingEdge, Timer

from sim.cocotb_utils import CLOCK_PERIOD_NS, start_clock

from .bfm.dram import DramModel
from .bfm.entropy import EntropyBFM, golden_words
from .bfm.stream import (
    CycleCounter,
    ProtocolError,
    StreamBus,
    StreamSink,
    StreamSource,
    StreamTransaction,
)

__all__ = ["EngineTB", "BurstTB", "PendingRequest", "UP_REQ_FIELDS", "UP_RSP_FIELDS", "KP_REQ_FIELDS",
           "CFG_REQ_FIELDS"]

UP_REQ_FIELDS = ("addr", "write", "asid", "tag", "data")
UP_RSP_FIELDS = ("tag", "data", "error")
KP_REQ_FIELDS = ("keyid", "command", "enc_alg", "key1", "key2")
CFG_REQ_FIELDS = ("addr", "write", "data")


@dataclass
class PendingRequest:
    """One upstream request in flight; ``await pending.wait()`` gives its response.

    Attributes
    ----------
    request : StreamTransaction
        What was sent; ``request.cycle`` is the acceptance cycle once accepted.
    response : StreamTransaction or None
        The matching ``up_rsp`` transfer (``cycle`` = the edge it was taken).
    """

    request: StreamTransaction
    response: StreamTransaction | None = None
    # Made by the first wait() before the response (most requests are never awaited one by
    # one: a cocotb Event per request was a visible share of the per-request cost).
    _done: Event | None = field(default=None, repr=False)

    async def wait(self) -> StreamTransaction:
        """Wait for the response and return it."""
        if self.response is None:
            if self._done is None:
                self._done = Event()
            await self._done.wait()
        return self.response

    def complete(self, response: StreamTransaction) -> None:
        """Record the response and wake whoever waits for it."""
        self.response = response
        if self._done is not None:
            self._done.set()


class EngineTB:
    """Clock, reset and BFMs for every interface of ``mee_engine`` (architecture §8).

    Parameters
    ----------
    dut : cocotb handle
    period_ns : float
    dram_latency : (int, int)
        DRAM read latency range in cycles.
    out_of_order : bool
        Let DRAM answer reads out of order.
    entropy_seed : int or None
        Present the golden model's entropy stream for this seed (``None``: no entropy BFM).
    entropy_words : iterable of int, optional
        Present these words instead.
    rng : random.Random, optional
        Randomness for latencies (default: seeded from cocotb's per-test ``random``).
    strict : bool
        Raise at once on an upstream response with an unknown tag (else collect it in
        :attr:`errors`).

    Attributes
    ----------
    up_req, kp_req, cfg_req : StreamSource
    up_rsp, kp_rsp, cfg_rsp : StreamSink
    dram : DramModel
    entropy : EntropyBFM or None
    cycles : CycleCounter
    """

    def __init__(self, dut, *, period_ns: float = CLOCK_PERIOD_NS,
                 dram_latency: tuple[int, int] = (4, 12), out_of_order: bool = True,
                 entropy_seed: int | None = 1, entropy_words: Iterable[int] | None = None,
                 rng: random.Random | None = None, strict: bool = True) -> None:
        self.dut = dut
        self.strict = strict
        self.errors: list[str] = []
        self.period_ns = period_ns
        self.rng = rng or random.Random(random.getrandbits(32))
        self.log = cocotb.log.getChild("tb")
        self.cycles = CycleCounter(period_ns)
        self.clock = start_clock(dut, period_ns)
        clk = dut.clk
        dut.rst.value = 1
        kw = {"period_ns": period_ns, "reset": dut.rst}
        self._build_transport(dut, dram_latency, out_of_order)
        self.kp_req = self.kp_rsp = self.cfg_req = self.cfg_rsp = self.entropy = None
        if StreamBus.present(dut, "kp_req"):
            self.kp_req = StreamSource(StreamBus(dut, "kp_req", KP_REQ_FIELDS), clk, **kw)
            self.kp_rsp = StreamSink(StreamBus(dut, "kp_rsp", ("status",)), clk, **kw)
        if StreamBus.present(dut, "cfg_req"):
            self.cfg_req = StreamSource(StreamBus(dut, "cfg_req", CFG_REQ_FIELDS), clk, **kw)
            self.cfg_rsp = StreamSink(StreamBus(dut, "cfg_rsp", ("status", "data")), clk, **kw)
        if StreamBus.present(dut, "entropy") and (entropy_seed is not None or entropy_words):
            words = entropy_words if entropy_words is not None else golden_words(entropy_seed)
            self.entropy = EntropyBFM(dut, clk, words, period_ns=period_ns)
        # Sticky DRAM-protocol error output (absent on DUTs without it). check_quiescent()
        # demands it low unless a test injected a stray DRAM response on purpose.
        self.err_dram_rsp_tag = getattr(dut, "err_dram_rsp_tag", None)
        self.expect_err_dram_rsp_tag = False
        self.pending: dict[int, PendingRequest] = {}
        self.responses: list[StreamTransaction] = []
        self.tag_width = self._tag_width(dut)
        self._free_tags = list(range(1 << self.tag_width))
        self._tag_event = Event()
        self._cmd_lock = cocotb.triggers.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(pending={len(self.pending)}, dram={self.dram!r})"

    @staticmethod
    def _tag_width(dut) -> int:
        return len(dut.up_req_tag)

    def _build_transport(self, dut, dram_latency, out_of_order) -> None:
        """The upstream and DRAM sides: per-cycle BFMs on the engine's own ports."""
        kw = {"period_ns": self.period_ns, "reset": dut.rst}
        self.up_req = StreamSource(StreamBus(dut, "up_req", UP_REQ_FIELDS), dut.clk, **kw)
        self.up_rsp = StreamSink(StreamBus(dut, "up_rsp", UP_RSP_FIELDS), dut.clk, keep=False,
                                 callback=self._on_up_rsp, **kw)
        self.dram = DramModel(dut, dut.clk, latency=dram_latency, out_of_order=out_of_order,
                              rng=self.rng, period_ns=self.period_ns, reset=dut.rst)

    # -- clock and reset -----------------------------------------------------------------

    async def reset(self, cycles: int = 4) -> None:
        """Hold ``rst`` for *cycles* edges, release it, and wait one more edge."""
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def sync(self) -> None:
        """Make every transfer up to now reported (the per-cycle BFMs already are)."""

    async def settle(self) -> None:
        """End of a test: let the last transfers be reported."""
        await ClockCycles(self.dut.clk, 2)

    async def cycles_wait(self, n: int) -> None:
        """Let *n* clock cycles pass (one Python wake-up per cycle; use sparingly)."""
        await ClockCycles(self.dut.clk, n)

    # -- command ports -------------------------------------------------------------------

    async def program_key(self, keyid: int, command: int, key1: int | bytes = 0,
                          key2: int | bytes = 0, enc_alg: int = 1) -> int:
        """Send one key-program command and return its status (architecture §4).

        Keys are 128-bit little-endian integers or 16 bytes (byte 0 → bits [7:0]).
        The response transaction (with its ``cycle``) is kept in :attr:`last_kp_rsp`.
        """
        key1 = int.from_bytes(key1, "little") if isinstance(key1, bytes | bytearray) else key1
        key2 = int.from_bytes(key2, "little") if isinstance(key2, bytes | bytearray) else key2
        async with self._cmd_lock:
            await self.kp_req.send(dict(keyid=keyid, command=command, enc_alg=enc_alg,
                                        key1=key1, key2=key2))
            rsp = await self.kp_rsp.recv()
        self.last_kp_rsp = rsp
        return rsp.status

    async def _config(self, reg: int, write: int, value: int) -> tuple[int, int]:
        async with self._cmd_lock:
            await self.cfg_req.send(dict(addr=reg, write=write, data=value))
            rsp = await self.cfg_rsp.recv()
        self.last_cfg_rsp = rsp
        return rsp.status, rsp.data

    async def config_write(self, reg: int, value: int) -> tuple[int, int]:
        """Write a configuration register; return ``(status, register value after)``."""
        return await self._config(int(reg), 1, value)

    async def config_read(self, reg: int) -> tuple[int, int]:
        """Read a configuration register; return ``(status, value)``."""
        return await self._config(int(reg), 0, 0)

    # -- upstream requests ---------------------------------------------------------------

    async def _alloc_tag(self, tag: int | None) -> int:
        if tag is None:
            while not self._free_tags:
                self._tag_event.clear()
                await self._tag_event.wait()
            return self._free_tags.pop(0)
        if tag in self.pending:
            raise ValueError(f"tag {tag} is already outstanding")
        if tag in self._free_tags:
            self._free_tags.remove(tag)
        return tag

    async def issue(self, addr: int, write: bool, data: int | bytes = 0, asid: int = 0,
                    tag: int | None = None) -> PendingRequest:
        """Queue one request (waiting only for a free tag); returns its :class:`PendingRequest`."""
        if isinstance(data, bytes | bytearray):
            data = int.from_bytes(data, "little")
        tag = await self._alloc_tag(tag)
        txn = StreamTransaction(addr=addr, write=int(bool(write)), asid=asid, tag=tag,
                                data=data if write else 0)
        pending = PendingRequest(txn)
        self.pending[tag] = pending
        await self.up_req.send(txn)
        return pending

    async def request(self, addr: int, write: bool, data: int | bytes = 0, asid: int = 0,
                      tag: int | None = None) -> StreamTransaction:
        """Issue one request and wait for its response."""
        pending = await self.issue(addr, write, data, asid, tag)
        return await pending.wait()

    async def write_line(self, addr: int, data: int | bytes, asid: int = 0,
                         tag: int | None = None) -> StreamTransaction:
        """Write one 64-byte line (plaintext); returns the response (``error``, ``cycle``)."""
        return await self.request(addr, True, data, asid, tag)

    async def read_line(self, addr: int, asid: int = 0, tag: int | None = None
                        ) -> StreamTransaction:
        """Read one line; returns the response (``data`` as a 512-bit int, ``error``)."""
        return await self.request(addr, False, 0, asid, tag)

    def _on_up_rsp(self, txn: StreamTransaction) -> None:
        pending = self.pending.pop(txn.tag, None)
        if pending is None:
            message = f"up_rsp with tag {txn.tag} that is not outstanding (cycle {txn.cycle})"
            self.errors.append(message)
            self.log.error(message)
            if self.strict:
                raise ProtocolError(message)
            return
        self.responses.append(txn)
        pending.complete(txn)
        self._free_tags.append(txn.tag)
        self._tag_event.set()

    async def drain(self) -> None:
        """Wait until every issued request has its response."""
        while self.pending:
            await next(iter(self.pending.values())).wait()

    def abort_traffic(self) -> None:
        """Forget all upstream and DRAM traffic in flight (call while ``rst`` is high).

        Queued requests are dropped, outstanding requests will never be answered (their
        tags are free again), and the DRAM forgets its pending read responses.
        """
        self.up_req.abort()
        self.dram.abort()
        self.pending.clear()
        self._free_tags = list(range(1 << self.tag_width))
        self._tag_event.set()

    def check_quiescent(self) -> None:
        """Assert nothing is in flight, no BFM saw a protocol error and the engine's sticky
        ``err_dram_rsp_tag`` is as expected (``expect_err_dram_rsp_tag``)."""
        assert not self.errors, self.errors
        if self.err_dram_rsp_tag is not None:
            flag = int(self.err_dram_rsp_tag.value)
            assert flag == int(self.expect_err_dram_rsp_tag), f"err_dram_rsp_tag = {flag}"
        assert not self.pending, f"requests without response: {sorted(self.pending)}"
        assert self.dram.outstanding() == 0, f"DRAM reads unanswered: {self.dram!r}"
        for bfm in (self.up_rsp, self.kp_rsp, self.cfg_rsp, self.dram.req_sink):
            if bfm is not None:
                assert not bfm.errors, bfm.errors

    def set_backpressure(self, rng: random.Random | None = None, probability: float = 0.3,
                         ports: Iterable[str] = ("up_req", "up_rsp", "dram_req", "dram_rsp",
                                                 "kp_rsp", "cfg_rsp")) -> None:
        """Random pause generators (idle gaps on sources, not-ready on sinks) on *ports*."""
        from .bfm.stream import random_pause

        rng = rng or self.rng
        table = {"up_req": self.up_req, "up_rsp": self.up_rsp, "dram_req": self.dram.req_sink,
                 "dram_rsp": self.dram.rsp_source, "kp_req": self.kp_req, "kp_rsp": self.kp_rsp,
                 "cfg_req": self.cfg_req, "cfg_rsp": self.cfg_rsp}
        for port in ports:
            if table[port] is not None:
                table[port].set_pause_generator(random_pause(rng, probability))


class BurstTB(EngineTB):
    """:class:`EngineTB` over the burst harness (:class:`~verif.harness.burst.BurstHarness`).

    The same helpers and attributes (``up_req``, ``up_rsp``, ``dram``, ``pending``, command
    ports, ...), but the upstream and DRAM traffic moves through
    :class:`~verif.bfm.burst.BurstTransport`: Python wakes once every ``window`` cycles
    instead of every cycle. Responses and DRAM requests are reported at the next wake-up
    after their edge (with their true cycle); random stalls come from the harness's LFSRs,
    seeded from :attr:`rng`. ``out_of_order`` must be True (the harness answers the lowest
    ready DRAM tag first).

    Parameters
    ----------
    window : int, optional
        Cycles between wake-ups (default: the harness's ring depth).
    **kwargs
        Those of :class:`EngineTB`.
    """

    def __init__(self, dut, *, window: int | None = None, **kwargs) -> None:
        self._window = window
        super().__init__(dut, **kwargs)

    @staticmethod
    def fits(dut) -> bool:
        """Whether *dut* is the burst harness."""
        from .bfm.burst import is_burst_harness
        return is_burst_harness(dut)

    @staticmethod
    def _tag_width(dut) -> int:
        from .harness.burst import UP_REQ
        return UP_REQ["tag"].width

    def _build_transport(self, dut, dram_latency, out_of_order) -> None:
        from .bfm.burst import BurstTransport

        if not out_of_order:
            raise ValueError("the burst harness's DRAM answers out of order only")
        self.transport = BurstTransport(dut, dut.clk, period_ns=self.period_ns,
                                        seed=self.rng.getrandbits(32), latency=dram_latency,
                                        window=self._window)
        self.up_req = self.transport.up_req
        self.up_rsp = self.transport.up_rsp
        self.up_rsp.add_callback(self._on_up_rsp)
        self.dram = self.transport.dram

    async def sync(self) -> None:
        """Report every transfer up to the last edge now (not at the next wake-up)."""
        await self.transport.sync()

    async def settle(self) -> None:
        """Wait until nothing is queued or pending and two wake-ups in a row saw no
        transfer (a posted write reaches DRAM after its response)."""
        t = self.transport
        quiet, last = 0, None
        while quiet < 2:
            await Timer(round(self.period_ns * 1000 * t.window), "ps")
            seen = (t.up_req.sent, t.up_rsp.received, len(self.dram.requests))
            busy = self.pending or not self.up_req.idle() or t.dram_busy
            quiet = 0 if busy or seen != last else quiet + 1
            last = seen

    def set_backpressure(self, rng: random.Random | None = None, probability: float = 0.3,
                         ports: Iterable[str] = ("up_req", "up_rsp", "dram_req", "dram_rsp",
                                                 "kp_rsp", "cfg_rsp")) -> None:
        """Pause probability on *ports*: the harness's LFSRs for the upstream and DRAM
        ports, Python pause generators (from *rng*) for the command ports."""
        from .bfm.burst import PAUSE_PORTS
        from .bfm.stream import random_pause

        rng = rng or self.rng
        for port in ports:
            if port in PAUSE_PORTS:
                self.transport.set_pause(port, probability)
            else:
                bfm = {"kp_req": self.kp_req, "kp_rsp": self.kp_rsp, "cfg_req": self.cfg_req,
                       "cfg_rsp": self.cfg_rsp}[port]
                if bfm is not None:
                    bfm.set_pause_generator(random_pause(rng, probability))

    def check_quiescent(self) -> None:
        """:meth:`EngineTB.check_quiescent` plus the harness's sticky protocol flags."""
        flags = self.transport.protocol_errors()
        assert not flags, f"burst harness protocol flags set: {flags}"
        super().check_quiescent()
