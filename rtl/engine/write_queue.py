"""The write queue: writes and errored requests in acceptance order, with a same-line probe.

Reads wait in their own queue and may pass queued writes to other lines (docs/integration.md
§4). To keep same-line order, each write carries a *write number* (the count of writes
accepted before it) and each read the number of the next write at its acceptance; the DRAM
issue asks this queue whether a write older than the read at the head of the read queue, to
the same line, is still waiting (read-after-write), and lets a write go only when no older
read waits (write-after-read).

Why the numbers never wrap: the DRAM issue never sends a write younger than the read at the
head of the read queue, so every write numbered from the write-queue head up to the read
head's number is still queued, and every number compared (the read head's and those of the
queued writes) lies in a window as wide as the queue's depth. Numbers of ``depth.bit_length()
+ 2`` bits compare correctly modulo their width in such a window, however long any request
waits and however many reads pass meanwhile (:func:`write_number_width`).
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import WriteKind, write_entry_layout
from .stream_queue import StreamQueue

__all__ = ["WriteQueue", "write_number_width", "is_older"]


def write_number_width(depth):
    """Bits of a write number for a write queue of ``depth`` entries (module docstring)."""
    return depth.bit_length() + 2


def is_older(a, b, width):
    """Write number ``a`` comes before number ``b`` (both ``width`` bits, within half the
    number space of each other): ``b - a`` is positive modulo ``2**width``."""
    difference = (b - a)[:width]
    return (difference != 0) & ~difference[width - 1]


class WriteQueue(wiring.Component):
    """FIFO of write and error entries, and a probe for older same-line writes.

    Parameters
    ----------
    pa_width, tag_width : int
        DRAM address and upstream tag widths.
    depth : int
        Entries.

    Members
    -------
    w : ``In(stream.Signature(write_entry_layout(...)))``
        Writes and errored requests, in acceptance order; ``ready`` depends on the queue's
        state only.
    r : ``Out(stream.Signature(write_entry_layout(...)))``
        The oldest entry.
    probe_addr : ``In(pa_width)``, probe_number : ``In(number_width)``
        A read's line and the number of the next write at its acceptance.
    probe_hit : ``Out(1)``
        A write to ``probe_addr`` numbered before ``probe_number`` is queued.
    scrubbing : ``Out(1)``
        The queue's storage is being zeroed after a reset (no entry is taken meanwhile).
    """

    def __init__(self, *, pa_width=48, tag_width=8, depth=16):
        self.depth = depth
        self.number_width = write_number_width(depth)
        self.pa_width = pa_width
        layout = write_entry_layout(pa_width, tag_width, self.number_width)
        super().__init__({
            "w": In(stream.Signature(layout)),
            "r": Out(stream.Signature(layout)),
            "probe_addr": In(pa_width),
            "probe_number": In(self.number_width),
            "probe_hit": Out(1),
            "scrubbing": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        depth, width = self.depth, self.number_width
        m.submodules.entries = entries = StreamQueue(self.w.payload.shape(), depth)
        wiring.connect(m, wiring.flipped(self.w), entries.w)
        wiring.connect(m, entries.r, wiring.flipped(self.r))
        m.d.comb += self.scrubbing.eq(entries.scrubbing)

        # A copy of each slot's line and number, kept with the FIFO's own pointer sequence.
        slot_is_write = Signal(depth)
        slot_addr = Signal(data.ArrayLayout(self.pa_width, depth))
        slot_number = Signal(data.ArrayLayout(width, depth))
        write_slot = Signal(range(depth))
        read_slot = Signal(range(depth))
        entry = self.w.payload
        with m.If(self.w.valid & self.w.ready):
            m.d.sync += [
                slot_is_write.bit_select(write_slot, 1).eq(entry.kind != WriteKind.ERROR),
                slot_addr[write_slot].eq(entry.addr),
                slot_number[write_slot].eq(entry.number),
                write_slot.eq(Mux(write_slot == depth - 1, 0, write_slot + 1)),
            ]
        with m.If(self.r.valid & self.r.ready):
            m.d.sync += [
                slot_is_write.bit_select(read_slot, 1).eq(0),
                read_slot.eq(Mux(read_slot == depth - 1, 0, read_slot + 1)),
            ]
        m.d.comb += self.probe_hit.eq(Cat(*(
            slot_is_write[i] & (slot_addr[i] == self.probe_addr)
            & is_older(slot_number[i], self.probe_number, width)
            for i in range(depth))).any())
        return m
