"""Request acceptance: address decode, the queue entries, the key read and the tweak start.

In the acceptance cycle (A) the :class:`~rtl.engine.decode.AddressDecoder` classifies the
request with the live configuration and slot states; a read gets a free DRAM tag, an encrypted
write's plaintext enters the write path, and the key memory read is issued for the decoded
slot. A write or an errored request enters the write queue, a read the read queue;
both carry write numbers (see :mod:`rtl.engine.write_queue`) that order them against each
other. In A+1 the keys arrive and an encrypted request starts its tweak
T_0 = AES_K2(i); the data key (K1 for a write, K1's last round key for a read) rides along as
the tweak's tag, so the request never looks at the key table again (the atomicity rule).

``up_req.ready`` depends on the engine's state only, never on the request offered (no
combinational path from ``up_req`` to ``up_req_ready``): it asks for room for a request of any
kind (a write-queue entry, a read-queue entry, a free DRAM tag, room in the write path) and
for the tweak unit to have taken the previous tweak request. While the tweak unit refuses a
request, the request and its keys (the key memory's read data, held while no key read is
issued) wait in place.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .decode import AddressDecoder
from .layouts import (
    LINE_BITS,
    SLOT_KEYS_LAYOUT,
    RspError,
    SlotState,
    WriteKind,
    config_layout,
    read_entry_layout,
    tweak_tag_layout,
    up_req_layout,
    write_entry_layout,
)

__all__ = ["RequestAcceptance", "tweak_request_layout"]


def tweak_request_layout(pa_width=48, dram_tag_width=5):
    """The tweak unit's input: tweak value ``index``, tweak ``key`` (K2), sideband ``tag``."""
    return data.StructLayout({"index": pa_width, "key": 128,
                              "tag": tweak_tag_layout(dram_tag_width)})


class RequestAcceptance(wiring.Component):
    """Accepts upstream requests into the engine's queues.

    Parameters
    ----------
    slots, keyid_bits_max, pa_width, c_bit_pos, asid_width, addr_width : int
        Address-decode parameters (docs/architecture.md §3).
    tag_width, dram_tag_width : int
        Upstream and DRAM tag widths.
    number_width : int
        Width of the write numbers (:func:`~rtl.engine.write_queue.write_number_width`).

    Members
    -------
    up_req : ``In(stream.Signature(up_req_layout(...)))``
        The engine's upstream request port.
    config, slot_states : ``In``
        Live configuration and slot states (from the key table).
    writes : ``Out(stream.Signature(write_entry_layout(...)))``
        Accepted writes and errored requests, in acceptance order.
    reads : ``Out(stream.Signature(read_entry_layout(...)))``
        Accepted reads, in acceptance order.
    write_data : ``Out(stream.Signature(LINE_BITS))``
        Plaintext of encrypted writes, in acceptance order.
    plain_data : ``Out(stream.Signature(LINE_BITS))``
        Lines of plaintext writes, in acceptance order (sent to DRAM as they are).
    read_alloc : ``Out(stream.Signature({"encrypted", "tag"}))``
        A DRAM tag for a read (:class:`~rtl.engine.read_tags.ReadTagTable` ``alloc``).
    read_alloc_tag : ``In(dram_tag_width)``
        The tag ``read_alloc`` would get.
    key_addr, key_en : ``Out``
        Key-memory read of the decoded slot, in the acceptance cycle.
    keys : ``In(SLOT_KEYS_LAYOUT)``
        The keys read, one cycle later.
    tweak : ``Out(stream.Signature(tweak_request_layout(...)))``
        The tweak request of an encrypted request, from one cycle after its acceptance until
        the tweak unit takes it.
    """

    def __init__(self, *, slots=64, keyid_bits_max=6, pa_width=48, c_bit_pos=47, asid_width=6,
                 addr_width=64, tag_width=8, dram_tag_width=5, number_width=7):
        self.decoder = AddressDecoder(slots=slots, keyid_bits_max=keyid_bits_max,
                                      pa_width=pa_width, c_bit_pos=c_bit_pos,
                                      asid_width=asid_width, addr_width=addr_width)
        self.pa_width = pa_width
        self.dram_tag_width = dram_tag_width
        self.number_width = number_width
        super().__init__({
            "up_req": In(stream.Signature(up_req_layout(addr_width, asid_width, tag_width))),
            "config": In(config_layout(pa_width)),
            "slot_states": In(data.ArrayLayout(SlotState, slots)),
            "writes": Out(stream.Signature(write_entry_layout(pa_width, tag_width,
                                                              number_width))),
            "reads": Out(stream.Signature(read_entry_layout(pa_width, dram_tag_width,
                                                            number_width))),
            "write_data": Out(stream.Signature(LINE_BITS)),
            "plain_data": Out(stream.Signature(LINE_BITS)),
            "read_alloc": Out(stream.Signature(data.StructLayout(
                {"encrypted": 1, "tag": tag_width}))),
            "read_alloc_tag": In(dram_tag_width),
            "key_addr": Out(range(slots)),
            "key_en": Out(1),
            "keys": In(SLOT_KEYS_LAYOUT),
            "tweak": Out(stream.Signature(tweak_request_layout(pa_width, dram_tag_width))),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.decode = dec = self.decoder
        req = self.up_req.payload
        m.d.comb += [
            dec.addr.eq(req.addr),
            dec.asid.eq(req.asid),
            dec.config.eq(self.config),
            dec.slot_states.eq(self.slot_states),
        ]

        is_error = dec.error != RspError.OK
        is_write = req.write
        encrypted = dec.encrypt & ~is_error
        is_read = ~is_error & ~is_write
        # A tweak request the tweak unit has not taken yet.
        tweak_waiting = Signal()
        # Room for a request of any kind: the decoded request never reaches `ready`.
        ready = (self.writes.ready & self.reads.ready & self.read_alloc.ready & self.write_data.ready
                 & self.plain_data.ready & ~(tweak_waiting & ~self.tweak.ready))
        accept = Signal()
        m.d.comb += [self.up_req.ready.eq(ready), accept.eq(self.up_req.valid & ready)]

        kind = Signal(WriteKind)
        with m.If(is_error):
            m.d.comb += kind.eq(WriteKind.ERROR)
        with m.Elif(encrypted):
            m.d.comb += kind.eq(WriteKind.WRITE_ENCRYPTED)
        with m.Else():
            m.d.comb += kind.eq(WriteKind.WRITE_PLAIN)

        # The number of the next write: a write gets it, a read records it.
        next_write_number = Signal(self.number_width)
        with m.If(accept & is_write & ~is_error):
            m.d.sync += next_write_number.eq(next_write_number + 1)

        entry = self.writes.payload
        read_entry = self.reads.payload
        m.d.comb += [
            self.writes.valid.eq(accept & ~is_read),
            entry.kind.eq(kind),
            entry.addr.eq(dec.dram_addr),
            entry.tag.eq(req.tag),
            entry.error.eq(dec.error),
            entry.number.eq(next_write_number),
            self.reads.valid.eq(accept & is_read),
            read_entry.addr.eq(dec.dram_addr),
            read_entry.dram_tag.eq(self.read_alloc_tag),
            read_entry.number.eq(next_write_number),
            self.write_data.valid.eq(accept & is_write & (kind == WriteKind.WRITE_ENCRYPTED)),
            self.write_data.payload.eq(req.data),
            self.plain_data.valid.eq(accept & is_write & (kind == WriteKind.WRITE_PLAIN)),
            self.plain_data.payload.eq(req.data),
            self.read_alloc.valid.eq(accept & is_read),
            self.read_alloc.payload.encrypted.eq(encrypted),
            self.read_alloc.payload.tag.eq(req.tag),
            self.key_addr.eq(dec.slot),
            self.key_en.eq(accept & encrypted),
        ]

        # A+1: the keys are here; offer the tweak request until the tweak unit takes it. No
        # request is accepted meanwhile, so no key read replaces the keys it needs.
        waiting_write = Signal()
        waiting_index = Signal(self.pa_width)
        waiting_dram_tag = Signal(self.dram_tag_width)
        with m.If(~tweak_waiting | self.tweak.ready):
            m.d.sync += [
                tweak_waiting.eq(accept & encrypted),
                waiting_write.eq(is_write),
                waiting_index.eq(dec.dram_addr),
                waiting_dram_tag.eq(self.read_alloc_tag),
            ]
        keys = self.keys
        tweak = self.tweak.payload
        m.d.comb += [
            self.tweak.valid.eq(tweak_waiting),
            tweak.index.eq(waiting_index),
            tweak.key.eq(keys.k2),
            tweak.tag.write.eq(waiting_write),
            tweak.tag.dram_tag.eq(waiting_dram_tag),
            tweak.tag.key.eq(Mux(waiting_write, keys.k1, keys.k1_last)),
        ]
        return m
