"""Formal harness of :class:`rtl.engine.stream_queue.StreamQueue`: an ideal FIFO, and quiet
while it scrubs.

Every queue in the engine (write and read queues, write data and tweaks, ciphertext and
decrypted lines, completions) is a :class:`StreamQueue`, so what is proved here holds for each
of them. The inputs (``w``, ``r.ready``) are free, constrained only by the ``lib.stream`` rule
on ``w``. The harness keeps a reference FIFO in registers, fed by the handshakes it observes,
and checks:

- ``r`` follows the stream rules (valid held until ready, payload stable);
- ``fifo_order``: every entry taken from ``r`` is the oldest one the reference holds (no
  entry lost, duplicated, reordered or corrupted);
- ``offers_what_it_holds``: outside reset and scrub, ``r.valid`` is high exactly when the
  reference holds an entry (nothing kept back, nothing offered that was never written);
- ``never_overflows``: ``w.ready`` is low while the reference is full;
- ``quiet_during_reset_and_scrub``: while reset is asserted and during the ``depth`` cycles of
  scrub after it, ``w.ready`` and ``r.valid`` are low.

Seeded bugs corrupt what the harness observes of the queue's outputs, each so that exactly one
property catches it (tests/verif/formal).
"""

from amaranth import Elaboratable, Module, Mux, Signal
from amaranth.lib import data

from rtl.engine.stream_queue import StreamQueue

from .properties import ObservedStream, PropertySet, ResetTracker, free_inputs, stream_rules

__all__ = ["StreamQueueHarness"]


class StreamQueueHarness(Elaboratable):
    """A small :class:`StreamQueue` (``depth`` entries of ``width`` bits) with its properties.

    Parameters
    ----------
    depth, width : int
        The queue's size (the logic is the same for every size; small keeps the proof short).
    mutation : str, optional
        One of :attr:`MUTATIONS` (a seeded bug for the tests).
    """

    #: Seeded bug -> the property that must catch it.
    MUTATIONS = {
        "payload_changes_while_stalled": "r_stream_rule",
        "wrong_entry": "fifo_order",
        "hides_an_entry": "offers_what_it_holds",
        "ready_when_full": "never_overflows",
        "ready_during_scrub": "quiet_during_reset_and_scrub",
    }

    def __init__(self, *, depth=4, width=4, mutation=None):
        if mutation is not None and mutation not in self.MUTATIONS:
            raise ValueError(f"unknown mutation {mutation!r}; known: {', '.join(self.MUTATIONS)}")
        self.depth = depth
        self.width = width
        self.mutation = mutation
        self.dut = StreamQueue(width, depth)
        self._inputs = free_inputs(self.dut)

    def ports(self):
        """The harness' free inputs."""
        return [free for _, free in self._inputs]

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        m.d.comb += [value.eq(free) for value, free in self._inputs]
        depth = self.depth
        props = PropertySet(m)
        resets = ResetTracker(m, props, saturate=depth + 4)
        scrubbing = resets.rst | (resets.cycles < depth)

        # The reference FIFO (registers, cleared by reset like the queue).
        entries = Signal(data.ArrayLayout(self.width, depth))
        head = Signal(range(depth))
        count = Signal(range(depth + 2))

        # What the harness observes of the outputs (a seeded bug corrupts it here).
        r_valid, w_ready = Signal(), Signal()
        r_payload = Signal(self.width)
        m.d.comb += [r_valid.eq(dut.r.valid), w_ready.eq(dut.w.ready),
                     r_payload.eq(dut.r.payload)]
        holding = Signal()
        if self.mutation == "payload_changes_while_stalled":
            with m.If(holding & ~dut.r.ready):
                m.d.comb += r_payload.eq(dut.r.payload ^ 1)
        elif self.mutation == "wrong_entry":
            with m.If(dut.r.valid & dut.r.ready & ~holding):
                m.d.comb += r_payload.eq(dut.r.payload ^ 1)
        elif self.mutation == "hides_an_entry":
            with m.If(~holding):
                m.d.comb += r_valid.eq(0)
        elif self.mutation == "ready_when_full":
            m.d.comb += w_ready.eq(dut.w.ready | ((count == depth) & ~scrubbing))
        elif self.mutation == "ready_during_scrub":
            with m.If(resets.cycles == 0):
                m.d.comb += w_ready.eq(1)

        r = ObservedStream(r_valid, dut.r.ready, r_payload)
        stream_rules(m, props, resets, dut.w, name="w", role="input")
        m.d.comb += holding.eq(stream_rules(m, props, resets, r, name="r", role="output"))

        push = dut.w.valid & w_ready
        pop = r.valid & r.ready
        tail = Signal(range(depth))
        m.d.comb += tail.eq(Mux(head + count >= depth, head + count - depth, head + count))
        with m.If(push):
            m.d.sync += entries[tail].eq(dut.w.payload)
        with m.If(pop):
            m.d.sync += head.eq(Mux(head == depth - 1, 0, head + 1))
        m.d.sync += count.eq(count + push - pop)

        props.check(~pop | (count == 0) | (r.payload == entries[head]), "fifo_order")
        props.check(scrubbing | (r.valid == (count != 0)), "offers_what_it_holds")
        props.check(~w_ready | (count < depth), "never_overflows")
        props.check(~scrubbing | ~(w_ready | r.valid), "quiet_during_reset_and_scrub")

        # Non-vacuity.
        props.cover(count == depth, "cover_full")
        props.cover(pop & (count == 1) & push, "cover_push_and_pop_same_cycle")
        props.cover(holding, "cover_r_stalled")
        props.cover(resets.rst & (count != 0), "cover_reset_with_entries")
        props.cover(pop & ~scrubbing & (resets.cycles == depth + 4), "cover_transfer_long_after_reset")
        return m
