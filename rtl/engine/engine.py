"""The memory-encryption engine core: upstream and DRAM ports as ``lib.stream`` interfaces.

Data flow (docs/integration.md has the diagrams and the latency table). A line is 4 AES blocks;
with ``lanes`` encrypt and ``lanes`` decrypt pipelines it takes ``4 // lanes`` cycles ("beats")
in each direction; the descriptions below are for lanes = 1 (4 beats of one block).

- **Acceptance (cycle A)**: the address decode (:class:`~rtl.engine.decode.AddressDecoder`) runs
  combinationally on the request and the live configuration/slot states; the key memory read is
  issued for the decoded slot; the request enters the **order queue** (every request, errors
  included, in acceptance order); a read gets a free DRAM tag; an encrypted write's plaintext
  enters the write-data queue.
- **A+1**: keys arrive (non-transparent synchronous read). An encrypted request starts its XTS
  tweak T_0 = AES_K2(i) in the shared tweak pipeline; the data key (K1 for writes, K1's last
  round key for reads) rides along as the pipeline tag, so the request never looks at the key
  table again (the atomicity rule).
- **Write path**: T_0 and K1 wait in the write-tweak queue; the encrypt sequencer pushes the 4
  blocks P_j ^ T_j into the data encrypt pipeline on 4 consecutive cycles; the assembler XORs T_j
  (carried in the tag) and writes the 512-bit ciphertext into the ciphertext queue.
- **DRAM issue**: strictly from the head of the order queue, so requests to one line reach DRAM
  in acceptance order. An encrypted write at the head waits for its ciphertext; a plaintext
  request goes out one cycle after acceptance when the queue was empty. A write completes (its
  upstream response is queued) when DRAM accepts it; an errored request leaves the queue
  without touching DRAM and queues its error response.
- **Read path**: the DRAM request leaves at once (behind older requests only); T_0 and K1-last are
  written into the read context (indexed by the DRAM tag) when the tweak pipeline delivers
  them. A DRAM response whose context is not ready yet is held (``dram_rsp.ready`` low). An
  encrypted line's block 0 enters the decrypt pipeline in the cycle of its DRAM response
  transfer (the context is read combinationally by the response tag), blocks 1..3 on the next
  three cycles; the line is XORed with T_j and offered upstream in the cycle block 3 leaves the
  pipeline (L + 3 cycles after the DRAM response). A plaintext line is queued upstream directly.
- **Upstream responses**: round-robin over decrypted reads, plaintext reads and completions
  (write completions and errors), with the choice held while ``up_rsp`` is stalled.

Backpressure: the AES pipelines cannot stall, so nothing enters one without a reserved place in
the queue behind it (credit counters); every port can be stalled indefinitely without loss.
"""

from amaranth import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..aes.pipeline import AESDecryptPipeline, AESEncryptPipeline
from ..aes.sbox import DEFAULT_SBOX, check_sbox_impl
from .decode import AddressDecoder
from .keytable import KeyTable
from .layouts import (
    BLOCK_BITS,
    CFG_REQ_LAYOUT,
    CFG_RSP_LAYOUT,
    ENTROPY_LAYOUT,
    KP_REQ_LAYOUT,
    KP_RSP_LAYOUT,
    LINE_BITS,
    RspError,
    dram_req_layout,
    dram_rsp_layout,
    up_req_layout,
    up_rsp_layout,
)
from .tweak import TweakUnit, alpha_power

__all__ = ["MEEngine"]

# Order-queue entry kinds.
_READ, _WRITE_PLAIN, _WRITE_ENC, _ERROR = range(4)


def _lane_name(base, lane, lanes):
    """Submodule name of one lane's pipeline (``enc_aes`` alone when lanes=1)."""
    return base if lanes == 1 else f"{base}{lane}"


def _block_index(beat, lane, lanes):
    """Block number ``beat * lanes + lane`` of a line (an int when there is one beat)."""
    if lanes == 4:
        return lane
    if lanes == 1:
        return beat
    return Cat(Const(lane, 1), beat[0])


def _word(line, j):
    """128-bit block ``j`` (int or Value) of ``line``."""
    if isinstance(j, int):
        return line[j * BLOCK_BITS:(j + 1) * BLOCK_BITS]
    return line.word_select(j, BLOCK_BITS)


class _Queue:
    """A :class:`SyncFIFO` whose words are viewed through a layout (both ends)."""

    def __init__(self, m, name, layout, depth):
        self.layout = layout
        self.fifo = SyncFIFO(width=Shape.cast(layout).width, depth=depth)
        m.submodules[name] = self.fifo
        self.depth = depth
        if isinstance(layout, data.Layout):
            self.w_data = data.View(layout, self.fifo.w_data)
            self.r_data = data.View(layout, self.fifo.r_data)
        else:
            self.w_data, self.r_data = self.fifo.w_data, self.fifo.r_data

    def __getattr__(self, name):
        return getattr(self.fifo, name)


class MEEngine(wiring.Component):
    """Inline memory-encryption engine (AMD SME/TSME/SEV and Intel TME/TME-MK), stream ports.

    Parameters
    ----------
    slots, keyid_bits_max, pa_width, c_bit_pos, asid_width, addr_width : int
        docs/architecture.md §3.
    tag_width : int
        Upstream tag width.
    dram_tag_width : int
        DRAM tag width; up to ``2**dram_tag_width`` reads are outstanding.
    lanes : {1, 2, 4}
        AES blocks per cycle per direction: ``lanes`` encrypt and ``lanes`` decrypt pipelines,
        a line every ``4 // lanes`` cycles each way. The tweak pipeline is shared: the upstream
        port takes at most one request (one tweak) per cycle.
    regs_per_round : {1, 2}
        AES pipeline depth option (latency ``10 * regs_per_round``).
    sbox : {"composite", "table"}
        S-box style of the three AES pipelines (see :mod:`rtl.aes.sbox`); the same logic
        either way, checked exhaustively. Simulators prefer ``"table"`` (sim/regressions.py).
    order_depth : int, optional
        Order-queue entries (requests accepted and not yet issued to DRAM / answered). Default:
        enough for full write rate (16 for lanes=1).
    write_depth : int, optional
        Encrypted writes waiting for their tweak (plaintext + T_0/K1 queues). Default: enough
        for full write rate (8 for lanes=1).

    Members
    -------
    up_req : ``In(stream.Signature(up_req_layout(...)))``
    up_rsp : ``Out(stream.Signature(up_rsp_layout(...)))``
    dram_req : ``Out(stream.Signature(dram_req_layout(...)))``
    dram_rsp : ``In(stream.Signature(dram_rsp_layout(...)))``
    kp_req, kp_rsp, cfg_req, cfg_rsp, entropy :
        Command ports of :class:`~rtl.engine.keytable.KeyTable`.
    err_dram_rsp_tag : ``Out(1)``
        Sticky until reset: a DRAM response arrived whose tag has no read outstanding at the
        DRAM (a DRAM-side protocol error). Such a response is consumed and dropped, so it
        cannot block or corrupt the responses of outstanding reads.
    """

    def __init__(self, *, slots=64, keyid_bits_max=6, pa_width=48, c_bit_pos=47, asid_width=6,
                 addr_width=64, tag_width=8, dram_tag_width=5, lanes=1, regs_per_round=1,
                 order_depth=None, write_depth=None, sbox=DEFAULT_SBOX):
        if lanes not in (1, 2, 4):
            self._MustUse__silence = True  # never elaborated
            raise ValueError(f"lanes must be 1, 2 or 4, not {lanes!r}")
        if not 1 <= dram_tag_width <= 8:
            self._MustUse__silence = True
            raise ValueError(f"dram_tag_width must be in [1, 8], not {dram_tag_width}")
        self.params = dict(slots=slots, keyid_bits_max=keyid_bits_max, pa_width=pa_width,
                           c_bit_pos=c_bit_pos, asid_width=asid_width, addr_width=addr_width)
        self.slots = slots
        self.pa_width = pa_width
        self.tag_width = tag_width
        self.dram_tag_width = dram_tag_width
        self.lanes = lanes
        self.regs_per_round = regs_per_round
        self.sbox = check_sbox_impl(sbox, owner=self)
        # Queue depths for full rate (a line every `beats` cycles each way). The order queue
        # holds a write from acceptance until its ciphertext is ready (about 2L + beats + 2
        # cycles); the write queues hold it until its tweak is (L + 2); the output queues must
        # hold every line already inside an AES pipeline plus one being drained, or the credit
        # check would throttle below one beat per cycle. lanes=1 keeps 16 / 8.
        aes_latency = 10 * regs_per_round
        beats = 4 // lanes
        self.order_depth = (order_depth if order_depth is not None
                            else max(16, -(-(2 * aes_latency + 8) // beats) + 4))
        self.write_depth = (write_depth if write_depth is not None
                            else max(8, -(-(aes_latency + 2) // beats) + 2))
        self.line_queue_depth = -(-(aes_latency + beats + 1) // beats) + 1
        super().__init__({
            "up_req":   In(stream.Signature(up_req_layout(addr_width, asid_width, tag_width))),
            "up_rsp":   Out(stream.Signature(up_rsp_layout(tag_width))),
            "dram_req": Out(stream.Signature(dram_req_layout(pa_width, dram_tag_width))),
            "dram_rsp": In(stream.Signature(dram_rsp_layout(dram_tag_width))),
            "kp_req":   In(stream.Signature(KP_REQ_LAYOUT)),
            "kp_rsp":   Out(stream.Signature(KP_RSP_LAYOUT)),
            "cfg_req":  In(stream.Signature(CFG_REQ_LAYOUT)),
            "cfg_rsp":  Out(stream.Signature(CFG_RSP_LAYOUT)),
            "entropy":  In(stream.Signature(ENTROPY_LAYOUT)),
            "err_dram_rsp_tag": Out(1),
        })

    @property
    def aes_latency(self):
        """Latency of each AES pipeline, cycles."""
        return 10 * self.regs_per_round

    def elaborate(self, platform):
        m = Module()
        pa, tw, dtw = self.pa_width, self.tag_width, self.dram_tag_width
        ntags = 1 << dtw
        rpr = self.regs_per_round
        lanes = self.lanes
        beats = 4 // lanes               # cycles per line in each AES direction

        # Control plane ----------------------------------------------------------------------
        m.submodules.keytable = kt = KeyTable(slots=self.slots,
                                              keyid_bits_max=self.params["keyid_bits_max"],
                                              pa_width=pa)
        for name in ("kp_req", "cfg_req", "entropy"):
            wiring.connect(m, wiring.flipped(getattr(self, name)), getattr(kt, name))
        for name in ("kp_rsp", "cfg_rsp"):
            wiring.connect(m, getattr(kt, name), wiring.flipped(getattr(self, name)))

        m.submodules.decode = dec = AddressDecoder(**self.params)
        req = self.up_req.payload
        m.d.comb += [
            dec.addr.eq(req.addr),
            dec.asid.eq(req.asid),
            dec.config.eq(kt.config),
            dec.slot_states.eq(kt.slot_states),
        ]

        # Queues -------------------------------------------------------------------------------
        oq_layout = data.StructLayout({
            "kind": 2, "addr": pa, "dtag": dtw, "utag": tw, "error": RspError, "data": LINE_BITS})
        oq = _Queue(m, "order_q", oq_layout, self.order_depth)
        wdq = _Queue(m, "wdata_q", LINE_BITS, self.write_depth)       # plaintext of enc writes
        wtq = _Queue(m, "wtweak_q", data.StructLayout({"t0": 128, "k1": 128}), self.write_depth)
        ctq = _Queue(m, "ctext_q", LINE_BITS, self.line_queue_depth)  # ciphertext, write order
        rsp_line = data.StructLayout({"utag": tw, "data": LINE_BITS})
        dq = _Queue(m, "dec_rsp_q", rsp_line, self.line_queue_depth)  # decrypted reads
        pq = _Queue(m, "plain_rsp_q", rsp_line, 2)                    # plaintext reads
        cq = _Queue(m, "cpl_rsp_q", data.StructLayout({"utag": tw, "error": RspError}), 4)

        # Per-DRAM-tag read state: busy, context ready, encrypted, upstream tag (flip-flops),
        # T_0 / K1-last in a memory; all read combinationally with the DRAM response tag.
        tag_busy = Signal(ntags)                  # allocated at acceptance
        tag_out = Signal(ntags)                   # read issued to DRAM, not yet answered
        ctx_ready = Signal(ntags)
        ctx_enc = Signal(ntags)
        ctx_utag = Signal(data.ArrayLayout(tw, ntags))
        m.submodules.read_ctx = read_ctx = Memory(
            shape=data.StructLayout({"t0": 128, "k1_last": 128}), depth=ntags, init=[])
        ctx_w = read_ctx.write_port()
        ctx_r = read_ctx.read_port(domain="comb")

        free_tag = Signal(dtw)
        any_free = ~tag_busy.all()
        for i in reversed(range(ntags)):          # lowest free tag wins
            with m.If(~tag_busy[i]):
                m.d.comb += free_tag.eq(i)

        # Acceptance -----------------------------------------------------------------------------
        is_err = dec.error != RspError.OK
        is_write = req.write
        enc = dec.encrypt & ~is_err
        need_tag = ~is_err & ~is_write
        up_ready = oq.w_rdy & (~need_tag | any_free) & ~(enc & is_write & ~wdq.w_rdy)
        accept = Signal()
        m.d.comb += [self.up_req.ready.eq(up_ready), accept.eq(self.up_req.valid & up_ready)]

        kind = Signal(2)
        with m.If(is_err):
            m.d.comb += kind.eq(_ERROR)
        with m.Elif(~is_write):
            m.d.comb += kind.eq(_READ)
        with m.Elif(enc):
            m.d.comb += kind.eq(_WRITE_ENC)
        with m.Else():
            m.d.comb += kind.eq(_WRITE_PLAIN)

        m.d.comb += [
            oq.w_en.eq(accept),
            oq.w_data.kind.eq(kind),
            oq.w_data.addr.eq(dec.dram_addr),
            oq.w_data.dtag.eq(Mux(need_tag, free_tag, 0)),
            oq.w_data.utag.eq(req.tag),
            oq.w_data.error.eq(dec.error),
            # Only a plaintext write's data is ever sent from the order queue.
            oq.w_data.data.eq(Mux(kind == _WRITE_PLAIN, req.data, 0)),
            wdq.w_en.eq(accept & (kind == _WRITE_ENC)),
            wdq.w_data.eq(req.data),
            kt.key_addr.eq(dec.slot),
            kt.key_en.eq(accept & enc),
        ]

        # Stage A+1: start the tweak with the keys read at acceptance.
        s1_valid = Signal()
        s1_write = Signal()
        s1_index = Signal(pa)
        s1_dtag = Signal(dtw)
        m.d.sync += [
            s1_valid.eq(accept & enc),
            s1_write.eq(is_write),
            s1_index.eq(dec.dram_addr),
            s1_dtag.eq(free_tag),
        ]

        tw_tag = data.StructLayout({"write": 1, "dtag": dtw, "key": 128})
        m.submodules.tweak = tweak = TweakUnit(index_width=pa,
                                               tag_width=Shape.cast(tw_tag).width,
                                               regs_per_round=rpr, sbox=self.sbox)
        tw_in_tag = data.View(tw_tag, tweak.i.payload.tag)
        tw_out_tag = data.View(tw_tag, tweak.o.payload.tag)
        keys = kt.key_data
        m.d.comb += [
            tweak.i.valid.eq(s1_valid),
            tweak.i.payload.index.eq(s1_index),
            tweak.i.payload.key.eq(keys.k2),
            tw_in_tag.write.eq(s1_write),
            tw_in_tag.dtag.eq(s1_dtag),
            tw_in_tag.key.eq(Mux(s1_write, keys.k1, keys.k1_last)),
        ]

        # Tweak results: writes to the write-tweak queue (room guaranteed: it never holds more
        # entries than the write-data queue of the same depth), reads to the read context.
        tw_done_write = tweak.o.valid & tw_out_tag.write
        tw_done_read = tweak.o.valid & ~tw_out_tag.write
        m.d.comb += [
            wtq.w_en.eq(tw_done_write),
            wtq.w_data.t0.eq(tweak.o.payload.t0),
            wtq.w_data.k1.eq(tw_out_tag.key),
            ctx_w.en.eq(tw_done_read),
            ctx_w.addr.eq(tw_out_tag.dtag),
            ctx_w.data.t0.eq(tweak.o.payload.t0),
            ctx_w.data.k1_last.eq(tw_out_tag.key),
        ]

        # Read-state bookkeeping (allocation at acceptance, context ready, release on response).
        # Only a response to a read that is out at the DRAM is "known"; any other is dropped.
        dram_rsp_fire = self.dram_rsp.valid & self.dram_rsp.ready
        rtag = self.dram_rsp.payload.tag
        r_known = tag_out.bit_select(rtag, 1)
        known_fire = dram_rsp_fire & r_known
        with m.If(accept & need_tag):
            m.d.sync += [
                tag_busy.bit_select(free_tag, 1).eq(1),
                ctx_ready.bit_select(free_tag, 1).eq(~enc),
                ctx_enc.bit_select(free_tag, 1).eq(enc),
                ctx_utag[free_tag].eq(req.tag),
            ]
        with m.If(tw_done_read):
            m.d.sync += ctx_ready.bit_select(tw_out_tag.dtag, 1).eq(1)
        with m.If(known_fire):
            m.d.sync += [tag_busy.bit_select(rtag, 1).eq(0), ctx_ready.bit_select(rtag, 1).eq(0),
                         tag_out.bit_select(rtag, 1).eq(0)]
        with m.If(self.dram_rsp.valid & ~r_known):
            m.d.sync += self.err_dram_rsp_tag.eq(1)

        # Write path: encrypt sequencer and ciphertext assembler ---------------------------------
        # Each cycle of a line ("beat" k) pushes blocks k*lanes .. k*lanes + lanes-1, one per
        # pipeline; the pipelines run in lock step, so lane 0's tag tells the beat.
        enc_pipes = [AESEncryptPipeline(tag_width=128 + 2, regs_per_round=rpr, sbox=self.sbox)
                     for _ in range(lanes)]
        for i, pipe in enumerate(enc_pipes):
            m.submodules[_lane_name("enc_aes", i, lanes)] = pipe
        blk_tag = data.StructLayout({"t": 128, "j": 2})
        ws_k = Signal(2)                                  # next beat of the current line
        ct_reserved = Signal(range(self.line_queue_depth + 1))   # lines in the pipelines
        ws_start = (ws_k == 0) & wtq.r_rdy & (ctq.level + ct_reserved < ctq.depth)
        ws_push = (ws_k != 0) | ws_start
        ws_last = ws_k == beats - 1
        for i, pipe in enumerate(enc_pipes):
            j = _block_index(ws_k, i, lanes)
            t = alpha_power(wtq.r_data.t0, j)
            in_tag = data.View(blk_tag, pipe.i.payload.tag)
            m.d.comb += [
                pipe.i.valid.eq(ws_push),
                pipe.i.payload.block.eq(_word(wdq.r_data, j) ^ t),
                pipe.i.payload.key.eq(wtq.r_data.k1),
                in_tag.t.eq(t),
                in_tag.j.eq(ws_k),
            ]
        with m.If(ws_push):
            m.d.sync += ws_k.eq(Mux(ws_last, 0, ws_k + 1))
        m.d.comb += [wtq.r_en.eq(ws_push & ws_last), wdq.r_en.eq(ws_push & ws_last)]

        enc_out_k = data.View(blk_tag, enc_pipes[0].o.payload.tag).j
        ct_blocks = Cat(*(p.o.payload.block ^ data.View(blk_tag, p.o.payload.tag).t
                          for p in enc_pipes))
        ct_done = enc_pipes[0].o.valid & (enc_out_k == beats - 1)
        if beats > 1:
            ct_asm = Signal((beats - 1) * lanes * BLOCK_BITS)     # earlier beats of the line
            with m.If(enc_pipes[0].o.valid & ~ct_done):
                m.d.sync += ct_asm.word_select(enc_out_k, lanes * BLOCK_BITS).eq(ct_blocks)
            ct_line = Cat(ct_asm, ct_blocks)
        else:
            ct_line = ct_blocks
        m.d.comb += [ctq.w_en.eq(ct_done), ctq.w_data.eq(ct_line)]
        m.d.sync += ct_reserved.eq(ct_reserved + (ws_start & ws_push) - ct_done)

        # DRAM issue from the order-queue head ---------------------------------------------------
        head = oq.r_data
        head_write = (head.kind == _WRITE_PLAIN) | (head.kind == _WRITE_ENC)
        with m.Switch(head.kind):
            with m.Case(_READ):
                m.d.comb += self.dram_req.valid.eq(oq.r_rdy)
            with m.Case(_WRITE_PLAIN):
                m.d.comb += self.dram_req.valid.eq(oq.r_rdy & cq.w_rdy)
            with m.Case(_WRITE_ENC):
                m.d.comb += self.dram_req.valid.eq(oq.r_rdy & cq.w_rdy & ctq.r_rdy)
        m.d.comb += [
            self.dram_req.payload.addr.eq(head.addr),
            self.dram_req.payload.write.eq(head_write),
            self.dram_req.payload.tag.eq(head.dtag),
            self.dram_req.payload.data.eq(Mux(head.kind == _WRITE_ENC, ctq.r_data, head.data)),
        ]
        dram_req_fire = self.dram_req.valid & self.dram_req.ready
        err_pop = oq.r_rdy & (head.kind == _ERROR) & cq.w_rdy
        with m.If(dram_req_fire & (head.kind == _READ)):
            m.d.sync += tag_out.bit_select(head.dtag, 1).eq(1)
        m.d.comb += [
            oq.r_en.eq(dram_req_fire | err_pop),
            ctq.r_en.eq(dram_req_fire & (head.kind == _WRITE_ENC)),
            cq.w_en.eq((dram_req_fire & head_write) | err_pop),
            cq.w_data.utag.eq(head.utag),
            cq.w_data.error.eq(Mux(err_pop, head.error, RspError.OK)),
        ]

        # Read path: DRAM responses, decrypt sequencer and assembler -----------------------------
        # An encrypted line's first beat enters the decrypt pipelines in the cycle of its DRAM
        # response transfer (context read combinationally by the response tag); the other beats
        # follow from a shift register on the next cycles. The next encrypted line can transfer
        # in the cycle after the last beat, so the pipelines see a beat every cycle.
        dec_pipes = [AESDecryptPipeline(tag_width=128 + 2 + tw, regs_per_round=rpr,
                                        sbox=self.sbox) for _ in range(lanes)]
        for i, pipe in enumerate(dec_pipes):
            m.submodules[_lane_name("dec_aes", i, lanes)] = pipe
        rd_tag = data.StructLayout({"t": 128, "j": 2, "utag": tw})
        dq_reserved = Signal(range(self.line_queue_depth + 1))
        credit = dq.level + dq_reserved < dq.depth
        r_enc = ctx_enc.bit_select(rtag, 1)
        r_line = self.dram_rsp.payload.data
        beat_bits = lanes * BLOCK_BITS
        if beats > 1:
            rs_active = Signal()                 # beats 1.. of the current line pending
            rs_k = Signal(2)
            rs_rest = Signal((beats - 1) * beat_bits)    # beats still to push, next in [:beat]
            rs_dtag = Signal(dtw)
            rs_utag = Signal(tw)
            rs_can_start = ~rs_active & credit
        else:
            rs_can_start = credit
        m.d.comb += self.dram_rsp.ready.eq(
            ~r_known | (ctx_ready.bit_select(rtag, 1) & Mux(r_enc, rs_can_start, pq.w_rdy)))
        rs_accept = known_fire & r_enc
        m.d.comb += [
            pq.w_en.eq(known_fire & ~r_enc),
            pq.w_data.utag.eq(ctx_utag[rtag]),
            pq.w_data.data.eq(r_line),
        ]
        if beats > 1:
            # The tag stays busy (so its context stays written) until the response transfers,
            # and a re-allocated tag's context is rewritten no earlier than L + 1 cycles
            # later: reading it by rs_dtag for the later beats is safe.
            m.d.comb += ctx_r.addr.eq(Mux(rs_active, rs_dtag, rtag))
            with m.If(rs_accept):
                m.d.sync += [
                    rs_active.eq(1),
                    rs_k.eq(1),
                    rs_rest.eq(r_line[beat_bits:]),
                    rs_dtag.eq(rtag),
                    rs_utag.eq(ctx_utag[rtag]),
                ]
            with m.Elif(rs_active):
                m.d.sync += [rs_k.eq(rs_k + 1), rs_rest.eq(rs_rest[beat_bits:])]
                with m.If(rs_k == beats - 1):
                    m.d.sync += rs_active.eq(0)
            cur_k = Mux(rs_active, rs_k, 0)
            cur_beat = Mux(rs_active, rs_rest[:beat_bits], r_line[:beat_bits])
            cur_utag = Mux(rs_active, rs_utag, ctx_utag[rtag])
            push = rs_active | rs_accept
        else:
            m.d.comb += ctx_r.addr.eq(rtag)
            cur_k, cur_beat, cur_utag, push = Const(0, 2), r_line, ctx_utag[rtag], rs_accept

        for i, pipe in enumerate(dec_pipes):
            t = alpha_power(ctx_r.data.t0, _block_index(cur_k, i, lanes))
            in_tag = data.View(rd_tag, pipe.i.payload.tag)
            m.d.comb += [
                pipe.i.valid.eq(push),
                pipe.i.payload.block.eq(_word(cur_beat, i) ^ t),
                pipe.i.payload.key.eq(ctx_r.data.k1_last),
                in_tag.t.eq(t),
                in_tag.j.eq(cur_k),
                in_tag.utag.eq(cur_utag),
            ]

        dec_out_tag = data.View(rd_tag, dec_pipes[0].o.payload.tag)
        pt_blocks = Cat(*(p.o.payload.block ^ data.View(rd_tag, p.o.payload.tag).t
                          for p in dec_pipes))
        pt_done = dec_pipes[0].o.valid & (dec_out_tag.j == beats - 1)
        if beats > 1:
            pt_asm = Signal((beats - 1) * beat_bits)             # earlier beats of the line
            with m.If(dec_pipes[0].o.valid & ~pt_done):
                m.d.sync += pt_asm.word_select(dec_out_tag.j, beat_bits).eq(pt_blocks)
            pt_line = Cat(pt_asm, pt_blocks)
        else:
            pt_line = pt_blocks
        m.d.sync += dq_reserved.eq(dq_reserved + rs_accept - pt_done)

        # Upstream responses: round-robin, choice held while stalled (lib.stream rule 2) ---------
        # A decrypted line is offered in the cycle it leaves the pipeline when the decrypted
        # queue is empty (cut-through); it is written to the queue unless taken at once, and a
        # stalled offer is held from the queue on the next cycle with the same payload.
        dq_take = Signal()
        pq_take = Signal()
        cq_take = Signal()
        sources = [
            (dq.r_rdy | pt_done,
             Mux(dq.r_rdy, dq.r_data.utag, dec_out_tag.utag),
             Mux(dq.r_rdy, dq.r_data.data, pt_line), RspError.OK, dq_take),
            (pq.r_rdy, pq.r_data.utag, pq.r_data.data, RspError.OK, pq_take),
            (cq.r_rdy, cq.r_data.utag, Const(0, LINE_BITS), cq.r_data.error, cq_take),
        ]
        m.d.comb += [
            dq.r_en.eq(dq_take & dq.r_rdy),
            dq.w_en.eq(pt_done & ~(dq_take & ~dq.r_rdy)),
            dq.w_data.utag.eq(dec_out_tag.utag),
            dq.w_data.data.eq(pt_line),
            pq.r_en.eq(pq_take),
            cq.r_en.eq(cq_take),
        ]
        ptr = Signal(range(3))           # source with the highest priority next time
        held = Signal()
        held_sel = Signal(range(3))
        pick = Signal(range(3))
        for offset in reversed(range(3)):
            for p in range(3):
                s = (p + offset) % 3
                with m.If((ptr == p) & sources[s][0]):
                    m.d.comb += pick.eq(s)
        sel = Mux(held, held_sel, pick)
        with m.Switch(sel):
            for s, (valid, utag, line, err, take) in enumerate(sources):
                with m.Case(s):
                    m.d.comb += [
                        self.up_rsp.valid.eq(valid),
                        self.up_rsp.payload.tag.eq(utag),
                        self.up_rsp.payload.data.eq(line),
                        self.up_rsp.payload.error.eq(err),
                        take.eq(valid & self.up_rsp.ready),
                    ]
        with m.If(self.up_rsp.valid & self.up_rsp.ready):
            m.d.sync += [held.eq(0), ptr.eq(Mux(sel == 2, 0, sel + 1))]
        with m.Elif(self.up_rsp.valid):
            m.d.sync += [held.eq(1), held_sel.eq(sel)]
        return m
