"""A reactive DRAM model for the engine's downstream ports (``dram_req`` / ``dram_rsp``).

Writes store the line; reads are answered on ``dram_rsp`` with the echoed tag after a random
latency (in clock cycles, counted from the request's transfer edge), in order or out of
order. ``dram_req_ready`` and ``dram_rsp_valid`` take pause generators (backpressure and
response gaps). Everything the engine wrote is kept, in order, in :attr:`DramModel.writes`, so
tests can check the exact ciphertext that reached memory, and "DRAM untouched" is
``dram.requests == []`` for the window of interest.

Checks (raise :class:`~verif.bfm.stream.ProtocolError`, or collect in ``errors``):

- a read whose tag is still outstanding (the engine must not reuse a DRAM tag in flight);
- an address that is not 64-byte aligned;
- the ``lib.stream`` rules on ``dram_req`` (via the sink).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterable

import cocotb
from cocotb.triggers import Event, First, Timer

from .stream import ProtocolError, StreamBus, StreamSink, StreamSource, StreamTransaction

__all__ = ["DramModel", "DramAccessRecord", "ProtocolError"]


class DramAccessRecord(StreamTransaction):
    """One request seen by the DRAM: ``addr``, ``write``, ``tag``, ``data`` and ``cycle``."""

    __slots__ = ()


class DramModel:
    """Sparse line memory that serves a DUT's ``dram_req``/``dram_rsp`` streams.

    Parameters
    ----------
    dut : cocotb handle
    clock : cocotb handle
    period_ns : float
    latency : (int, int)
        Inclusive range of read latencies in cycles (request transfer → response offered).
    out_of_order : bool
        Draw each read's latency independently (responses may overtake each other); when
        ``False`` responses leave in request order.
    rng : random.Random, optional
        Source of latencies (default: a ``Random`` seeded from the global ``random``).
    req_pause, rsp_pause : iterable of int, optional
        Pause generators for ``dram_req_ready`` (1 = not ready) and ``dram_rsp_valid``
        (1 = idle gap before offering the next response).
    fill : callable, optional
        ``fill(addr) -> int`` for lines never written (default 0).
    req_prefix, rsp_prefix : str
    raise_on_error : bool
    reset : cocotb handle, optional
        No transfer is counted while it is 1.

    Attributes
    ----------
    mem : dict[int, int]
        Line address → 512-bit line as stored.
    requests : list of DramAccessRecord
        Every request in transfer order (reads and writes).
    writes : list of DramAccessRecord
        Every write in transfer order.
    responses : list of StreamTransaction
        Every read response in transfer order (``cycle`` = the edge the engine accepted it).
    errors : list of str
    """

    def __init__(self, dut, clock, *, period_ns: float = 10, latency: tuple[int, int] = (4, 12),
                 out_of_order: bool = True, rng: random.Random | None = None,
                 req_pause: Iterable[int] | None = None, rsp_pause: Iterable[int] | None = None,
                 fill: Callable[[int], int] | None = None, req_prefix: str = "dram_req",
                 rsp_prefix: str = "dram_rsp", raise_on_error: bool = True, reset=None) -> None:
        if not 1 <= latency[0] <= latency[1]:
            raise ValueError(f"latency must be (lo, hi) with 1 <= lo <= hi, not {latency!r}")
        self.latency = latency
        self.out_of_order = out_of_order
        self.rng = rng or random.Random(random.getrandbits(32))
        self.fill = fill or (lambda addr: 0)
        self.raise_on_error = raise_on_error
        self.period_ns = period_ns
        self.mem: dict[int, int] = {}
        self.requests: list[DramAccessRecord] = []
        self.writes: list[DramAccessRecord] = []
        self.responses: list[StreamTransaction] = []
        self.errors: list[str] = []
        self._outstanding: set[int] = set()
        self._heap: list = []
        self._seq = itertools.count()
        self._last_due = 0
        self._sched_event = Event()
        req_bus = StreamBus(dut, req_prefix, ("addr", "write", "tag", "data"))
        rsp_bus = StreamBus(dut, rsp_prefix, ("tag", "data"))
        self.req_sink = StreamSink(req_bus, clock, period_ns=period_ns, pause_generator=req_pause,
                                   callback=self._on_request, keep=False,
                                   raise_on_error=raise_on_error, name="dram_req", reset=reset)
        self.rsp_source = StreamSource(rsp_bus, clock, period_ns=period_ns,
                                       pause_generator=rsp_pause, name="dram_rsp", reset=reset)
        self.rsp_source.add_callback(self._on_response)
        self._task = cocotb.start_soon(self._scheduler())

    def __repr__(self) -> str:
        return (f"DramModel(lines={len(self.mem)}, requests={len(self.requests)}, "
                f"outstanding={len(self._outstanding)})")

    # -- configuration -------------------------------------------------------------------

    def set_req_pause(self, generator: Iterable[int] | None) -> None:
        """Pause generator for ``dram_req_ready`` (1 = backpressure this cycle)."""
        self.req_sink.set_pause_generator(generator)

    def set_rsp_pause(self, generator: Iterable[int] | None) -> None:
        """Pause generator for ``dram_rsp_valid`` (1 = gap before the next response)."""
        self.rsp_source.set_pause_generator(generator)

    # -- backdoor ------------------------------------------------------------------------

    def read(self, addr: int) -> int:
        """The stored line at *addr* (``fill(addr)`` if never written)."""
        return self.mem.get(addr, self.fill(addr))

    def write(self, addr: int, data: int) -> None:
        """Store *data* at *addr* without any bus traffic."""
        self.mem[addr] = data

    def inject_response(self, tag: int, data: int) -> None:
        """Offer a read response nobody asked for (fault injection), after any already queued.

        It is recorded in :attr:`responses` like any other when the DUT takes it.
        """
        self.rsp_source.send_nowait(StreamTransaction(tag=tag, data=data))

    def abort(self) -> None:
        """Forget every read in flight and every response not yet taken (use in reset)."""
        self._heap.clear()
        self._outstanding.clear()
        self.rsp_source.abort()

    def outstanding(self) -> int:
        """Reads accepted and not yet answered."""
        return len(self._outstanding)

    def idle(self) -> bool:
        """No read outstanding and no response queued or being offered."""
        return not self._outstanding and self.rsp_source.idle()

    # -- internals -----------------------------------------------------------------------

    def _error(self, message: str) -> None:
        self.errors.append(message)
        cocotb.log.error("dram: %s", message)
        if self.raise_on_error:
            raise ProtocolError(f"dram: {message}")

    def _on_request(self, txn: StreamTransaction) -> None:
        record = DramAccessRecord(**txn.fields())
        record.cycle = txn.cycle
        self.requests.append(record)
        if txn.addr & 0x3F:
            self._error(f"unaligned address {txn.addr:#x} at cycle {txn.cycle}")
        if txn.write:
            self.writes.append(record)
            self.mem[txn.addr] = txn.data
            return
        if txn.tag in self._outstanding:
            self._error(f"read tag {txn.tag} reused while outstanding (cycle {txn.cycle})")
        self._outstanding.add(txn.tag)
        due = txn.cycle + self.rng.randint(*self.latency)
        if not self.out_of_order:
            due = max(due, self._last_due)
            self._last_due = due
        rsp = StreamTransaction(tag=txn.tag, data=self.read(txn.addr))
        heapq.heappush(self._heap, (due, next(self._seq), rsp))
        self._sched_event.set()

    def _on_response(self, txn: StreamTransaction) -> None:
        self.responses.append(txn)
        self._outstanding.discard(txn.tag)

    async def _scheduler(self) -> None:
        from cocotb.utils import get_sim_time

        while True:
            if not self._heap:
                self._sched_event.clear()
                await self._sched_event.wait()
                continue
            due = self._heap[0][0]
            now = get_sim_time("ns") / self.period_ns
            # The source presents the response after the next edge: aim half a cycle early.
            wait = (due - 1 - now) * self.period_ns + self.period_ns / 2
            if wait > 0:
                # A new read may be due earlier than the current head: wake for either.
                self._sched_event.clear()
                await First(Timer(max(1, round(wait * 1000)), "ps"), self._sched_event.wait())
                continue
            _, _, rsp = heapq.heappop(self._heap)
            self.rsp_source.send_nowait(rsp)
