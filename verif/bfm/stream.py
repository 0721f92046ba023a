"""Valid/ready stream BFMs for a group of flat ports that share a prefix.

The engine's Verilog flattens every ``lib.stream`` interface into ``<prefix>_valid``,
``<prefix>_ready`` and one port per payload field, ``<prefix>_<field>`` (architecture §8).
:class:`StreamBus` binds such a group, :class:`StreamSource` drives it, :class:`StreamSink`
accepts it (driving ``ready``) and :class:`StreamMonitor` watches it passively. The shape
follows cocotbext-axi's ``axis`` module: queues, ``*_nowait`` twins, ``idle()``/``wait()``,
``count()``/``empty()``/``clear()`` and pluggable pause generators.

Timing discipline (toolchain notes G8): every BFM drives right after a rising clock edge and
samples in the ``ReadOnly`` phase of the same time step. A transfer is counted when ``valid``
and ``ready`` are both 1 in that ``ReadOnly`` sample (and the optional ``reset`` is 0); it
takes effect at the *next* rising edge, which is the cycle recorded in
:attr:`StreamTransaction.cycle`, and it is reported (queue, callbacks, events) right after
that edge, so code woken by a BFM may drive signals at once.

Python wake-ups are kept low: a source sleeps on an event while its queue is empty; a sink or
monitor sleeps on ``RisingEdge(valid)`` while ``valid`` is low, and only wakes once per clock
cycle while the producer holds ``valid`` high.

Rules checked by sinks and monitors (``lib.stream``): once ``valid`` is high it stays high
and the payload stays stable until the transfer. A violation raises :class:`ProtocolError`
(or, with ``raise_on_error=False``, is appended to ``errors``).
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import cocotb
from cocotb.queue import QueueEmpty
from cocotb.triggers import Event, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

__all__ = [
    "ProtocolError",
    "StreamTransaction",
    "StreamBus",
    "StreamSource",
    "StreamSink",
    "StreamMonitor",
    "CycleCounter",
    "random_pause",
    "cycle_pause",
]


class ProtocolError(AssertionError):
    """A stream or memory protocol rule was broken by the design under test."""


def cycle_pause(pattern: Sequence[int]) -> Iterator[int]:
    """A pause generator repeating *pattern* (1 = pause this cycle), cocotbext-axi style."""
    return itertools.cycle(pattern)


def random_pause(rng, probability: float) -> Iterator[int]:
    """An endless pause generator: 1 with *probability* each cycle, drawn from *rng*."""
    while True:
        yield int(rng.random() < probability)


class CycleCounter:
    """Converts simulation time to a clock-cycle index.

    Parameters
    ----------
    period_ns : float
        Clock period. Cycle ``n`` is the rising edge at ``n * period_ns`` (the GPI clock starts
        with a rising edge at time 0); any phase in between rounds down.
    """

    def __init__(self, period_ns: float) -> None:
        self.period_ns = period_ns

    def __repr__(self) -> str:
        return f"CycleCounter(period_ns={self.period_ns})"

    def now(self) -> int:
        """Index of the last rising edge at or before the current simulation time."""
        return int(get_sim_time("ns") // self.period_ns)


class StreamTransaction:
    """Field values of one transfer as integer attributes.

    Parameters
    ----------
    **fields : int
        One keyword per payload field (``addr=0x40, write=1, ...``).

    Attributes
    ----------
    cycle : int or None
        The clock cycle (see :class:`CycleCounter`) of the rising edge at which the transfer
        happened; set by the BFM that saw it.
    """

    # The fields live in the instance's __dict__, next to ``cycle``: the hot path reads
    # transaction fields hundreds of thousands of times per run, and a plain attribute read
    # is several times cheaper than a failed lookup followed by __getattr__.

    def __init__(self, **fields: int) -> None:
        if "cycle" in fields:
            raise ValueError("'cycle' is not a payload field (it is set by the BFM)")
        fields["cycle"] = None  # **fields is already a new dict: it becomes the __dict__
        self.__dict__ = fields

    def __getattr__(self, name: str) -> int:
        # Only reached for names that are not fields.
        raise AttributeError(f"transaction has no field {name!r}")

    def __eq__(self, other) -> bool:
        if isinstance(other, StreamTransaction):
            return self.fields() == other.fields()
        if isinstance(other, Mapping):
            return self.fields() == dict(other)
        return NotImplemented

    __hash__ = None

    def fields(self) -> dict[str, int]:
        """A copy of the field values."""
        out = dict(self.__dict__)
        del out["cycle"]
        return out

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:#x}" if isinstance(v, int) and v > 9 else f"{k}={v}"
                         for k, v in self.fields().items())
        return f"StreamTransaction({body})"


class StreamBus:
    """The ports of one valid/ready stream: ``<prefix>_valid``, ``<prefix>_ready``, fields.

    Parameters
    ----------
    dut : cocotb handle
        The toplevel (or any hierarchy) that holds the flat ports.
    prefix : str
        Common prefix, e.g. ``"up_req"``.
    fields : sequence of str
        Payload field names; each must exist as ``<prefix>_<name>``.
    optional_fields : sequence of str
        Field names that are bound only when the port exists.

    Raises
    ------
    AttributeError
        When ``valid``, ``ready`` or a required field is missing; the message names the port.
    """

    def __init__(self, dut, prefix: str, fields: Sequence[str] = (),
                 optional_fields: Sequence[str] = ()) -> None:
        self.prefix = prefix
        self.valid = self._port(dut, "valid")
        self.ready = self._port(dut, "ready")
        self.fields = {name: self._port(dut, name) for name in fields}
        for name in optional_fields:
            handle = dut._get(f"{prefix}_{name}")
            if handle is not None:
                self.fields[name] = handle

    def _port(self, dut, name: str):
        handle = dut._get(f"{self.prefix}_{name}")
        if handle is None:
            raise AttributeError(f"{dut._path} has no port {self.prefix}_{name}")
        return handle

    @classmethod
    def present(cls, dut, prefix: str) -> bool:
        """Whether *dut* has a ``<prefix>_valid`` port (for optional interfaces)."""
        return dut._get(f"{prefix}_valid") is not None

    def __repr__(self) -> str:
        return f"StreamBus({self.prefix!r}, fields={list(self.fields)})"

    def sample(self) -> StreamTransaction:
        """Read every field now (call in ``ReadOnly``); X/Z bits read as 0."""
        values = {}
        for name, handle in self.fields.items():
            value = handle.value
            try:
                values[name] = int(value)
            except ValueError:
                values[name] = int(str(value).replace("x", "0").replace("X", "0")
                                   .replace("z", "0").replace("Z", "0"), 2)
        return StreamTransaction(**values)

    def drive(self, txn: StreamTransaction | Mapping[str, int]) -> None:
        """Drive every field from *txn*; fields it lacks are driven 0."""
        values = txn.fields() if isinstance(txn, StreamTransaction) else dict(txn)
        unknown = set(values) - set(self.fields)
        if unknown:
            raise KeyError(f"{self.prefix}: no such field(s) {sorted(unknown)}; "
                           f"fields are {sorted(self.fields)}")
        for name, handle in self.fields.items():
            handle.value = values.get(name, 0)


def _bit(handle) -> int:
    """A 1-bit handle's value, X/Z read as 0."""
    value = handle.value
    return 1 if str(value) == "1" else 0


class _Base:
    """Shared queue, clock and pause-generator plumbing."""

    def __init__(self, bus: StreamBus, clock, *, period_ns: float = 10,
                 pause_generator: Iterable[int] | None = None, name: str | None = None,
                 reset=None) -> None:
        self.bus = bus
        self.clock = clock
        self.reset = reset
        self.cycles = CycleCounter(period_ns)
        self.name = name or bus.prefix
        self.log = cocotb.log.getChild(f"bfm.{self.name}")
        self._pause: Iterator[int] | None = None
        self.set_pause_generator(pause_generator)
        self._queue: collections.deque = collections.deque()
        self._task = None

    def set_pause_generator(self, generator: Iterable[int] | None = None) -> None:
        """Use *generator* (an iterable of 0/1, 1 = pause this cycle); ``None`` = never pause."""
        self._pause = iter(generator) if generator is not None else None

    def clear_pause_generator(self) -> None:
        """Never pause again."""
        self._pause = None

    def _in_reset(self) -> bool:
        return self.reset is not None and _bit(self.reset) == 1

    def _paused(self) -> bool:
        if self._pause is None:
            return False
        return bool(next(self._pause, 0))

    def count(self) -> int:
        """Transactions waiting in the queue."""
        return len(self._queue)

    def empty(self) -> bool:
        """Whether the queue is empty."""
        return not self._queue

    def clear(self) -> None:
        """Drop every queued transaction."""
        self._queue.clear()

    def stop(self) -> None:
        """Kill the BFM's coroutine (end of test)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None


class StreamSource(_Base):
    """Drives ``valid`` and the payload of a stream from a queue (the upstream side).

    Parameters
    ----------
    bus : StreamBus
    clock : cocotb handle
        The clock whose rising edges define transfers.
    period_ns : float
        Clock period, for cycle stamps.
    pause_generator : iterable of int, optional
        Consulted once per cycle in which a new transaction could be presented; 1 keeps
        ``valid`` low for that cycle (an idle gap). Never drops ``valid`` once it is high.
    queue_depth : int, optional
        :meth:`send` blocks while this many transactions wait (default unbounded).

    Notes
    -----
    :meth:`send` returns once the transaction is queued; ``await txn_event`` semantics are
    available through :meth:`send_and_wait`, which returns the cycle of the transfer.
    """

    def __init__(self, bus: StreamBus, clock, *, period_ns: float = 10,
                 pause_generator: Iterable[int] | None = None, queue_depth: int | None = None,
                 name: str | None = None, reset=None) -> None:
        super().__init__(bus, clock, period_ns=period_ns, pause_generator=pause_generator,
                         name=name, reset=reset)
        self.queue_depth = queue_depth
        self._wake = Event()
        self._space = Event()
        self._idle = Event()
        self._idle.set()
        self._active = False
        self.sent = 0
        self._abort = False
        self.callbacks: list[Callable[[StreamTransaction], None]] = []
        bus.valid.value = 0
        self._task = cocotb.start_soon(self._run())

    def __repr__(self) -> str:
        return f"StreamSource({self.bus.prefix!r}, queued={self.count()}, sent={self.sent})"

    @staticmethod
    def _as_txn(txn) -> StreamTransaction:
        if isinstance(txn, StreamTransaction):
            return txn
        return StreamTransaction(**dict(txn))

    def add_callback(self, callback: Callable[[StreamTransaction], None]) -> None:
        """Call *callback(txn)* right after each transfer edge."""
        self.callbacks.append(callback)

    def full(self) -> bool:
        """Whether :meth:`send_nowait` would raise."""
        return self.queue_depth is not None and len(self._queue) >= self.queue_depth

    def send_nowait(self, txn: StreamTransaction | Mapping[str, int]) -> StreamTransaction:
        """Queue *txn* without waiting; raises :class:`cocotb.queue.QueueFull` when full."""
        if self.full():
            from cocotb.queue import QueueFull
            raise QueueFull(f"{self.name}: queue full ({self.queue_depth})")
        txn = self._as_txn(txn)
        self._queue.append((txn, None))
        self._idle.clear()
        self._wake.set()
        return txn

    async def send(self, txn: StreamTransaction | Mapping[str, int]) -> StreamTransaction:
        """Queue *txn*, waiting for queue space; returns the queued transaction."""
        while self.full():
            self._space.clear()
            await self._space.wait()
        txn = self._as_txn(txn)
        self._queue.append((txn, None))
        self._idle.clear()
        self._wake.set()
        return txn

    def abort(self) -> None:
        """Drop every queued transaction and the one being presented (use while in reset)."""
        self._queue.clear()
        self._abort = True
        self._wake.set()

    async def send_and_wait(self, txn: StreamTransaction | Mapping[str, int]) -> int:
        """Queue *txn* and wait until it is transferred; returns the transfer cycle."""
        while self.full():
            self._space.clear()
            await self._space.wait()
        txn = self._as_txn(txn)
        done = Event()
        self._queue.append((txn, done))
        self._idle.clear()
        self._wake.set()
        await done.wait()
        return txn.cycle

    def idle(self) -> bool:
        """Whether nothing is queued or being presented."""
        return not self._queue and not self._active

    async def wait(self) -> None:
        """Wait until :meth:`idle`."""
        if not self.idle():
            await self._idle.wait()

    async def _run(self) -> None:
        bus = self.bus
        current = None
        while True:
            if self._abort:
                self._abort = False
                current = None
            if current is None and not self._queue:
                bus.valid.value = 0
                self._active = False
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                # We may be anywhere in a time step (even ReadOnly): align to an edge.
                await RisingEdge(self.clock)
            if current is None and self._queue and not self._paused():
                current = self._queue.popleft()
                self._active = True
                self._space.set()
                bus.drive(current[0])
                bus.valid.value = 1
            elif current is None:
                bus.valid.value = 0
            await ReadOnly()
            fired = None
            if current is not None and _bit(bus.ready) and not self._in_reset():
                fired = current
                fired[0].cycle = self.cycles.now() + 1
                current = None
            await RisingEdge(self.clock)
            if fired is not None:
                # Reported after the transfer edge, in a phase where signals may be written.
                txn, done = fired
                self.sent += 1
                if done is not None:
                    done.set()
                for callback in self.callbacks:
                    callback(txn)


class StreamMonitor(_Base):
    """Records every transfer on a stream without driving anything.

    Parameters
    ----------
    bus : StreamBus
    clock : cocotb handle
    period_ns : float
    callback : callable, optional
        Called as ``callback(txn)`` for each transfer, right after the transfer edge (a phase
        in which signals may be written); ``recv`` returns at the same point.
    check_protocol : bool
        Check the ``lib.stream`` rules (valid held, payload stable until the transfer).
    raise_on_error : bool
        Raise :class:`ProtocolError` at once (default) or only collect it in :attr:`errors`.
    keep : bool
        Keep transfers in the receive queue (turn off for long benchmarks that only count).

    Attributes
    ----------
    errors : list of str
        Protocol violations seen.
    received : int
        Transfers seen so far.
    """

    _drives_ready = False

    def __init__(self, bus: StreamBus, clock, *, period_ns: float = 10,
                 pause_generator: Iterable[int] | None = None,
                 callback: Callable[[StreamTransaction], None] | None = None,
                 check_protocol: bool = True, raise_on_error: bool = True, keep: bool = True,
                 name: str | None = None, reset=None) -> None:
        super().__init__(bus, clock, period_ns=period_ns, pause_generator=pause_generator,
                         name=name, reset=reset)
        self.callbacks: list[Callable[[StreamTransaction], None]] = []
        if callback is not None:
            self.callbacks.append(callback)
        self.check_protocol = check_protocol
        self.raise_on_error = raise_on_error
        self.keep = keep
        self.errors: list[str] = []
        self.received = 0
        self._recv_event = Event()
        self._active = False
        if self._drives_ready:
            bus.ready.value = 0
        self._task = cocotb.start_soon(self._run())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.bus.prefix!r}, received={self.received})"

    def add_callback(self, callback: Callable[[StreamTransaction], None]) -> None:
        """Also call *callback* for every transfer (see the class docstring)."""
        self.callbacks.append(callback)

    def recv_nowait(self) -> StreamTransaction:
        """The oldest received transaction; raises :class:`cocotb.queue.QueueEmpty`."""
        if not self._queue:
            raise QueueEmpty(f"{self.name}: nothing received")
        return self._queue.popleft()

    async def recv(self) -> StreamTransaction:
        """Wait for and return the oldest received transaction."""
        while not self._queue:
            self._recv_event.clear()
            await self._recv_event.wait()
        return self._queue.popleft()

    def idle(self) -> bool:
        """Whether ``valid`` was low at the last sample (no transfer pending)."""
        return not self._active

    async def wait(self) -> None:
        """Wait until at least one transaction is queued."""
        while not self._queue:
            self._recv_event.clear()
            await self._recv_event.wait()

    def _error(self, message: str) -> None:
        message = f"{self.name} @ cycle {self.cycles.now()}: {message}"
        self.errors.append(message)
        self.log.error(message)
        if self.raise_on_error:
            raise ProtocolError(message)

    def _ready_this_cycle(self) -> int:
        return _bit(self.bus.ready)

    async def _run(self) -> None:
        bus = self.bus
        held = None  # payload seen with valid high and no transfer last cycle
        while True:
            ready = self._ready_this_cycle()
            await ReadOnly()
            if self._in_reset():
                held = None
                self._active = False
                await RisingEdge(self.clock)
                continue
            valid = _bit(bus.valid)
            if self._drives_ready is False:
                ready = _bit(bus.ready)
            if valid:
                self._active = True
                txn = bus.sample()
                if self.check_protocol and held is not None and txn != held:
                    self._error(f"payload changed while valid and not ready: {held} -> {txn}")
                fired = None
                if ready:
                    held = None
                    txn.cycle = self.cycles.now() + 1
                    fired = txn
                else:
                    held = txn
                await RisingEdge(self.clock)
                if fired is not None:
                    # Reported after the transfer edge, where callbacks may drive signals.
                    self.received += 1
                    if self.keep:
                        self._queue.append(fired)
                        self._recv_event.set()
                    for callback in self.callbacks:
                        callback(fired)
            else:
                self._active = False
                if self.check_protocol and held is not None:
                    self._error(f"valid dropped before the transfer of {held}")
                held = None
                await RisingEdge(bus.valid)


class StreamSink(StreamMonitor):
    """Accepts a stream, driving ``ready`` (the downstream side), and queues the transfers.

    Parameters are those of :class:`StreamMonitor`; *pause_generator* is consulted once per
    cycle in which ``ready`` is driven (1 = hold ``ready`` low, i.e. backpressure). While
    ``valid`` is low the sink sleeps with ``ready`` at its last value.
    """

    _drives_ready = True

    def _ready_this_cycle(self) -> int:
        ready = 0 if self._paused() else 1
        self.bus.ready.value = ready
        return ready
