"""Entropy-stream BFM: an always-valid source of 256-bit words that can be switched off.

The engine never waits for entropy (architecture §4): "available" means ``entropy_valid`` is
high when a command is evaluated. This BFM keeps ``valid`` high with the next word of a
deterministic sequence (by default the golden model's :class:`golden_model.entropy.EntropySource`
stream, so RTL and model draw identical words) and moves to the following word after each
transfer. :meth:`EntropyBFM.set_available` holds ``valid`` low to inject ENTROPY_ERROR.

It sleeps on ``RisingEdge(entropy_ready)`` and wakes once per cycle only while ``ready`` is
high, so an idle entropy port costs no Python time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import cocotb
from cocotb.triggers import Event, First, ReadOnly, RisingEdge

from .stream import CycleCounter, StreamBus, _bit

__all__ = ["EntropyBFM", "golden_words"]


def golden_words(seed: int) -> Iterable[int]:
    """Word 0, 1, 2, ... of the golden model's entropy stream for *seed*."""
    from golden_model.entropy import EntropySource

    source = EntropySource(seed=seed)
    return (source.word(i) for i in itertools.count())


class EntropyBFM:
    """Presents a deterministic sequence of 256-bit words on ``<prefix>_valid/ready/data``.

    Parameters
    ----------
    dut : cocotb handle
    clock : cocotb handle
    words : iterable of int
        The sequence to present; when it runs out, ``valid`` goes low for good.
    period_ns : float
    available : bool
        Initial state of ``valid``.
    prefix : str

    Attributes
    ----------
    consumed : list of int
        Words the DUT took, in order.
    consumed_cycles : list of int
        The transfer cycle of each consumed word.
    """

    def __init__(self, dut, clock, words: Iterable[int], *, period_ns: float = 10,
                 available: bool = True, prefix: str = "entropy") -> None:
        self.bus = StreamBus(dut, prefix, ("data",))
        self.clock = clock
        self.cycles = CycleCounter(period_ns)
        self._words = iter(words)
        self._current = next(self._words, None)
        self._available = available
        self._changed = Event()
        self.consumed: list[int] = []
        self.consumed_cycles: list[int] = []
        self._drive()
        self._task = cocotb.start_soon(self._run())

    def __repr__(self) -> str:
        return f"EntropyBFM(available={self._available}, consumed={len(self.consumed)})"

    @property
    def available(self) -> bool:
        """Whether ``valid`` is (being) driven high."""
        return self._available and self._current is not None

    def peek(self) -> int | None:
        """The word the DUT would take next (``None`` when the sequence has ended)."""
        return self._current

    async def set_available(self, available: bool) -> None:
        """Drive ``valid`` high (next word) or low from the next cycle on.

        Returns right after the rising edge from which the new value holds, so a command sent
        after this call is evaluated against it.
        """
        self._available = available
        self._changed.set()
        await RisingEdge(self.clock)

    def _drive(self) -> None:
        self.bus.valid.value = int(self.available)
        self.bus.fields["data"].value = self._current or 0

    def stop(self) -> None:
        """Kill the coroutine."""
        self._task.cancel()

    async def _run(self) -> None:
        while True:
            self._drive()
            await ReadOnly()
            if self.available and _bit(self.bus.ready):
                self.consumed.append(self._current)
                self.consumed_cycles.append(self.cycles.now() + 1)
                self._current = next(self._words, None)
                await RisingEdge(self.clock)
                continue
            self._changed.clear()
            trigger = await First(RisingEdge(self.bus.ready), self._changed.wait())
            if not isinstance(trigger, RisingEdge):
                await RisingEdge(self.clock)
