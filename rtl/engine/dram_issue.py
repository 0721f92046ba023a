"""DRAM issue: the heads of the write and read queues become DRAM requests, completions and
error responses.

Writes (and errored requests) wait in the write queue, reads in the read queue, each in
acceptance order. The write-queue head goes in write order: a plaintext write carries its own
data, an encrypted write waits for its line at the head of the ciphertext stream, an errored
request leaves without touching DRAM and queues its error response, and a write completes (its
upstream response is queued) when DRAM accepts it. The read-queue head goes unless an older
write to the same line is still queued (read-after-write, asked of the
:class:`~rtl.engine.write_queue.WriteQueue`); a write goes only when no older read waits
(write-after-read); when both can go the older goes first, so a read passes only writes
still waiting (for their ciphertext, say). So requests to one line reach DRAM
in acceptance order, while a read to another line does not wait behind an encrypted write's
encryption.

The choice is held while ``dram_req`` is stalled, so the offered request never changes before
DRAM takes it (``lib.stream`` rule).
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import (
    LINE_BITS,
    RspError,
    WriteKind,
    completion_layout,
    dram_req_layout,
    read_entry_layout,
    up_rsp_layout,
    write_entry_layout,
)
from .stream_queue import StreamQueue
from .write_queue import is_older

__all__ = ["DramIssue"]


class DramIssue(wiring.Component):
    """Hazard-aware DRAM issue from the write and read queues, and the completion queue.

    Parameters
    ----------
    pa_width, tag_width, dram_tag_width : int
        Widths of the DRAM address, the upstream tag and the DRAM tag.
    number_width : int
        Width of the write numbers.
    completion_depth : int
        Entries of the completion queue (write completions and error responses).

    Members
    -------
    writes : ``In(stream.Signature(write_entry_layout(...)))``
        Write-queue head.
    reads : ``In(stream.Signature(read_entry_layout(...)))``
        Read-queue head.
    probe_addr, probe_number : ``Out``
        The read head's line and number, for the write queue's same-line probe.
    probe_hit : ``In(1)``
        An older write to the read head's line is queued.
    ciphertext : ``In(stream.Signature(LINE_BITS))``
        Encrypted writes' lines, in write-queue order.
    plain_data : ``In(stream.Signature(LINE_BITS))``
        Plaintext writes' lines, in write-queue order.
    dram_req : ``Out(stream.Signature(dram_req_layout(...)))``
        The engine's DRAM request port.
    read_issued : ``Out(stream.Signature(dram_tag_width, always_ready=True))``
        The DRAM tag of a read DRAM accepted.
    completion : ``Out(stream.Signature(up_rsp_layout(tag_width)))``
        Write completions and error responses (``data`` 0).
    scrubbing : ``Out(1)``
        Its queues are being zeroed after a reset (:class:`~rtl.engine.scrub.Scrubber`).
    """

    def __init__(self, *, pa_width=48, tag_width=8, dram_tag_width=5, number_width=7,
                 completion_depth=4):
        self.completion_depth = completion_depth
        self.tag_width = tag_width
        self.number_width = number_width
        super().__init__({
            "writes": In(stream.Signature(write_entry_layout(pa_width, tag_width,
                                                             number_width))),
            "reads": In(stream.Signature(read_entry_layout(pa_width, dram_tag_width,
                                                           number_width))),
            "probe_addr": Out(pa_width),
            "probe_number": Out(number_width),
            "probe_hit": In(1),
            "ciphertext": In(stream.Signature(LINE_BITS)),
            "plain_data": In(stream.Signature(LINE_BITS)),
            "dram_req": Out(stream.Signature(dram_req_layout(pa_width, dram_tag_width))),
            "read_issued": Out(stream.Signature(dram_tag_width, always_ready=True)),
            "completion": Out(stream.Signature(up_rsp_layout(self.tag_width))),
            "scrubbing": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.completions = completions = StreamQueue(completion_layout(self.tag_width),
                                                             self.completion_depth)
        write, read = self.writes.payload, self.reads.payload
        kind = write.kind
        is_write = self.writes.valid & (kind != WriteKind.ERROR)
        m.d.comb += [self.probe_addr.eq(read.addr), self.probe_number.eq(read.number)]

        # A read older than the write head (its number is at most the write's) goes first.
        read_first = self.reads.valid & ~is_older(write.number, read.number, self.number_width)
        write_can_go = (is_write & completions.w.ready & ~read_first
                        & Mux(kind == WriteKind.WRITE_PLAIN, self.plain_data.valid,
                              self.ciphertext.valid))
        read_can_go = self.reads.valid & ~self.probe_hit

        held = Signal()                       # a stalled request is being held
        held_read = Signal()
        # A write that can go is older than the read head (or there is none): it goes first.
        # A read passes only writes that cannot go yet (waiting for their ciphertext).
        choose_read = Mux(held, held_read, read_can_go & ~write_can_go)
        m.d.comb += [
            self.dram_req.valid.eq(Mux(choose_read, read_can_go, write_can_go)),
            self.dram_req.payload.addr.eq(Mux(choose_read, read.addr, write.addr)),
            self.dram_req.payload.write.eq(~choose_read),
            self.dram_req.payload.tag.eq(Mux(choose_read, read.dram_tag, 0)),
            self.dram_req.payload.data.eq(Mux(
                choose_read, 0, Mux(kind == WriteKind.WRITE_ENCRYPTED,
                                    self.ciphertext.payload, self.plain_data.payload))),
        ]
        with m.If(self.dram_req.valid & ~self.dram_req.ready):
            m.d.sync += [held.eq(1), held_read.eq(choose_read)]
        with m.Else():
            m.d.sync += held.eq(0)
        issued = self.dram_req.valid & self.dram_req.ready
        read_issued = issued & choose_read
        write_issued = issued & ~choose_read
        error_leaves = self.writes.valid & (kind == WriteKind.ERROR) & completions.w.ready
        m.d.comb += [
            self.read_issued.valid.eq(read_issued),
            self.read_issued.payload.eq(read.dram_tag),
            self.reads.ready.eq(read_issued),
            self.writes.ready.eq(write_issued | error_leaves),
            self.ciphertext.ready.eq(write_issued & (kind == WriteKind.WRITE_ENCRYPTED)),
            self.plain_data.ready.eq(write_issued & (kind == WriteKind.WRITE_PLAIN)),
            completions.w.valid.eq(write_issued | error_leaves),
            completions.w.payload.tag.eq(write.tag),
            completions.w.payload.error.eq(Mux(error_leaves, write.error, RspError.OK)),
            self.completion.valid.eq(completions.r.valid),
            self.completion.payload.tag.eq(completions.r.payload.tag),
            self.completion.payload.error.eq(completions.r.payload.error),
            completions.r.ready.eq(self.completion.ready),
        ]
        m.d.comb += self.scrubbing.eq(completions.scrubbing)
        return m
