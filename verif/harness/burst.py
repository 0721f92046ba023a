"""``mee_burst``: the engine inside an HDL-side burst transport (verification only, issue 13).

A cocotb testbench that drives the engine's ports itself must wake Python every clock cycle
(drive, sample, count handshakes). :class:`BurstHarness` moves that per-cycle work into
hardware, generated with the DUT, so that Python wakes once per *burst window* (tens of cycles)
and moves many transactions per wake-up through wide ports:

- **request ring** (Python → HDL): ``rq<i>`` slots (one packed :data:`UP_REQ` each) and a write
  pointer ``rq_wp`` that Python owns; the harness presents slot ``rq_rp`` on the engine's
  ``up_req`` stream, with an LFSR pause generator for idle gaps, and stamps the acceptance
  cycle of each slot into ``acc<i>``;
- **response ring** and **DRAM ring** (HDL → Python): every ``up_rsp`` and ``dram_req``
  transfer is recorded (:data:`UP_RSP_REC`, :data:`DRAM_REC`, with its cycle) into ``rs<i>`` /
  ``dr<i>``; Python owns the read pointers ``rs_rp`` / ``dr_rp``. A full ring holds the port's
  ``ready`` low (deterministically: it depends on cycles only);
- **reactive DRAM**: a direct-mapped line store (address tag + data per entry), reads answered
  after a random latency in ``[lat_lo, lat_lo + lat_span - 1]``, out of order (lowest ready
  DRAM tag first), with LFSR pause generators on ``dram_req_ready`` and ``dram_rsp_valid``.
  A read whose line was evicted by an aliasing write is a *miss*: the DRAM record says so, and
  the read waits until Python sends the line through the **fill ring** (``fl<i>``, ``fl_wp``);
  Python keeps the authoritative copy of memory (every DRAM write is in the DRAM ring);
- **random stalls** come from 32-bit LFSRs loaded from ``seed`` while ``init`` is high, so a
  run is reproducible from the test's seed; ``st_<port>`` count the pause cycles;
- **stall flags** (``bp``, sticky, one bit per port of :data:`BP_PORTS`): a cycle with
  ``valid`` high and ``ready`` low outside reset was seen on that port (the backpressure
  covergroup reads them once, instead of a Python watcher waking every cycle);
- **protocol checks** (sticky flags): a DRAM read tag reused while outstanding
  (``err_dram_tag``), ``dram_req`` or ``up_rsp`` dropping ``valid`` or changing the payload
  while stalled (``err_dram_req``, ``err_up_rsp``).

The key-program, configuration and entropy ports and ``err_dram_rsp_tag`` pass straight
through under the engine's own names (they carry few transactions: Python BFMs drive them).
The harness's own state is in a reset-less domain: the engine's ``rst`` aborts the traffic in
flight (queued requests dropped, pending DRAM reads forgotten) but keeps the rings and memory.
"""

from __future__ import annotations

from amaranth import Array, Cat, Module, Mux, ResetSignal, Signal
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.aes.sbox import DEFAULT_SBOX
from rtl.engine.top import MEEngineTop

__all__ = ["BurstHarness", "UP_REQ", "UP_RSP_REC", "DRAM_REC", "FILL", "PASS_THROUGH",
           "PAUSE_PORTS", "BP_PORTS", "lfsr_next"]

#: One upstream request slot, as Python writes it.
UP_REQ = data.StructLayout({"addr": 64, "write": 1, "asid": 6, "tag": 8, "data": 512})
#: One recorded ``up_rsp`` transfer (``cycle``: harness cycle counter before the transfer edge).
UP_RSP_REC = data.StructLayout({"cycle": 32, "tag": 8, "error": 2, "data": 512})
#: One recorded ``dram_req`` transfer; ``miss`` = a read that waits for a fill from Python;
#: ``data`` of a read = the line the harness's store will answer with (meaningless on a miss).
DRAM_REC = data.StructLayout({"cycle": 32, "addr": 48, "write": 1, "tag": 5, "miss": 1,
                              "data": 512})
#: One fill (the line a missed read returns).
FILL = data.StructLayout({"tag": 5, "data": 512})
#: Engine ports that pass through unchanged (Python BFMs drive them).
PASS_THROUGH = ("kp_req", "kp_rsp", "cfg_req", "cfg_rsp", "entropy")
#: Ports with an LFSR pause generator, in the order of their LFSR seeds.
PAUSE_PORTS = ("up_req", "up_rsp", "dram_req", "dram_rsp")
#: Ports of the engine whose stalls the ``bp`` flags record, bit 0 first.
BP_PORTS = ("up_req", "up_rsp", "dram_req", "dram_rsp", "kp_req", "kp_rsp", "cfg_req",
            "cfg_rsp")

_LFSR_TAPS = 0x80200003  # x^32 + x^22 + x^2 + x + 1 (maximal length), Galois form


def lfsr_next(state: int) -> int:
    """The Galois LFSR step the harness uses (the Python model of its generators)."""
    return (state >> 1) ^ (_LFSR_TAPS if state & 1 else 0)


def _reg(*args, **kwargs):
    """A harness register: never cleared by the engine's ``rst`` (init value at time 0)."""
    return Signal(*args, reset_less=True, **kwargs)


def _passes_through(name):
    return name.startswith(tuple(f"{port}_" for port in PASS_THROUGH)) or \
        name == "err_dram_rsp_tag"


def _ptr_width(depth):
    return (depth - 1).bit_length() + 1


class BurstHarness(wiring.Component):
    """:class:`~rtl.engine.top.MEEngineTop` plus the HDL side of the burst transport.

    Parameters
    ----------
    ring_depth : int
        Slots of the request, response and DRAM rings (a power of two). Python must wake at
        least once every ``ring_depth`` cycles for the rings never to stall the engine.
    fill_depth : int
        Slots of the fill ring (a power of two).
    dram_index_bits : int
        log2 of the DRAM line store's entries (direct-mapped on line-address bits).
    sbox : str
        The engine's S-box style (see :class:`~rtl.engine.top.MEEngineTop`).
    engine : str, optional
        ``"package.module:Callable"`` of a stand-in for the engine with the same flat ports
        (default: :class:`~rtl.engine.top.MEEngineTop`).
    **engine_params
        Passed to the engine (``lanes``, ...).
    """

    def __init__(self, *, ring_depth=32, fill_depth=8, dram_index_bits=8, engine=None,
                 sbox=DEFAULT_SBOX, **engine_params):
        for name, depth in (("ring_depth", ring_depth), ("fill_depth", fill_depth)):
            if depth < 2 or depth & (depth - 1):
                raise ValueError(f"{name} must be a power of two >= 2, not {depth}")
        self.ring_depth, self.fill_depth = ring_depth, fill_depth
        self.dram_index_bits = dram_index_bits
        if engine is None:
            # sbox is explicit so that the runner's per-simulator default (table S-boxes on
            # Icarus, sim.runner.SIMULATOR_DEFAULTS) reaches the engine.
            self.engine = MEEngineTop(sbox=sbox, **engine_params)
        else:  # a stand-in with the same flat ports (the harness's own tests use a loopback)
            from rtl.verilog import design_factory
            self.engine = design_factory(engine)(**engine_params)
        eng = self.engine.signature.members
        members = {}
        for name, member in eng.items():
            if _passes_through(name):
                members[name] = member
        pw, fw = _ptr_width(ring_depth), _ptr_width(fill_depth)
        members["cycle"] = Out(32)
        members["init"] = In(1)
        members["seed"] = In(32)
        members.update({f"rq{i}": In(UP_REQ.size) for i in range(ring_depth)})
        members.update({f"acc{i}": Out(32) for i in range(ring_depth)})
        members.update(rq_wp=In(pw), rq_rp=Out(pw))
        members.update({f"rs{i}": Out(UP_RSP_REC.size) for i in range(ring_depth)})
        members.update(rs_wp=Out(pw), rs_rp=In(pw))
        members.update({f"dr{i}": Out(DRAM_REC.size) for i in range(ring_depth)})
        members.update(dr_wp=Out(pw), dr_rp=In(pw))
        members.update({f"fl{i}": In(FILL.size) for i in range(fill_depth)})
        members.update(fl_wp=In(fw), fl_rp=Out(fw))
        members.update(lat_lo=In(8), lat_span=In(8))
        members.update({f"p_{port}": In(8) for port in PAUSE_PORTS})
        members.update({f"st_{port}": Out(32) for port in PAUSE_PORTS})
        members.update(dram_busy=Out(8), err_dram_tag=Out(1), err_dram_req=Out(1),
                       err_up_rsp=Out(1), bp=Out(len(BP_PORTS)))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = eng = self.engine
        # The harness's registers are reset-less (`_reg`): the engine's rst must not clear the
        # rings, pointers or counters. (A separate clock domain driven from clk would be a
        # derived clock: its registers would sample after the engine's had updated.)
        h = m.d.sync
        on_init = []  # statements that `init` applies (see the end)
        rst = ResetSignal("sync")
        depth, fdepth = self.ring_depth, self.fill_depth
        ab, fb = (depth - 1).bit_length(), (fdepth - 1).bit_length()

        for name in self.signature.members:
            if _passes_through(name):
                mine, theirs = getattr(self, name), getattr(eng, name)
                if self.signature.members[name].flow == In:
                    m.d.comb += theirs.eq(mine)
                else:
                    m.d.comb += mine.eq(theirs)

        cycle = _reg(32)
        h += cycle.eq(cycle + 1)
        m.d.comb += self.cycle.eq(cycle)

        # -- pause generators: one LFSR per port, 1 = pause when its low byte < threshold ---
        pause = {}
        for i, port in enumerate(PAUSE_PORTS):
            state = _reg(32, name=f"lfsr_{port}", init=1)
            with m.If(self.init):
                # Never all-zero: an LFSR stuck at 0 would never pause.
                h += state.eq((self.seed ^ (0x9E3779B9 * (i + 1) & 0xFFFFFFFF)) | 1)
            with m.Else():
                h += state.eq(Mux(state[0], (state >> 1) ^ _LFSR_TAPS, state >> 1))
            pause[port] = Signal(name=f"pause_{port}")
            m.d.comb += pause[port].eq(state[:8] < getattr(self, f"p_{port}"))
        lat_lfsr = _reg(32, init=0xACE1)
        with m.If(self.init):
            h += lat_lfsr.eq(self.seed ^ 0x5A5A5A5A | 2)
        with m.Else():
            h += lat_lfsr.eq(Mux(lat_lfsr[0], (lat_lfsr >> 1) ^ _LFSR_TAPS, lat_lfsr >> 1))
        stalls = {port: _reg(32, name=f"stalls_{port}") for port in PAUSE_PORTS}
        for port in PAUSE_PORTS:
            m.d.comb += getattr(self, f"st_{port}").eq(stalls[port])
            with m.If(self.init):
                h += stalls[port].eq(0)

        # -- upstream requests: the request ring feeds up_req --------------------------------
        rq_rp = _reg(len(self.rq_rp))
        m.d.comb += self.rq_rp.eq(rq_rp)
        slots = Array(getattr(self, f"rq{i}") for i in range(depth))
        req = UP_REQ(Signal(UP_REQ.size))
        m.d.comb += req.as_value().eq(slots[rq_rp[:ab]])
        have = rq_rp != self.rq_wp
        presenting = _reg()  # valid was offered and not taken: hold it (lib.stream rule)
        up_valid = Signal()
        m.d.comb += up_valid.eq(~rst & have & (presenting | ~pause["up_req"]))
        m.d.comb += [eng.up_req_valid.eq(up_valid)] + [
            getattr(eng, f"up_req_{f}").eq(getattr(req, f)) for f, _ in UP_REQ]
        acc = [_reg(32, name=f"acc_{i}") for i in range(depth)]
        for i in range(depth):
            m.d.comb += getattr(self, f"acc{i}").eq(acc[i])
        with m.If(rst):
            h += [rq_rp.eq(self.rq_wp), presenting.eq(0)]  # reset drops every queued request
        with m.Elif(up_valid & eng.up_req_ready):
            h += [rq_rp.eq(rq_rp + 1), presenting.eq(0)]
            with m.Switch(rq_rp[:ab]):
                for i in range(depth):
                    with m.Case(i):
                        h += acc[i].eq(cycle)
        with m.Elif(up_valid):
            h += presenting.eq(1)
        with m.If(have & ~presenting & pause["up_req"] & ~rst):
            h += stalls["up_req"].eq(stalls["up_req"] + 1)

        # -- output rings: a record per transfer; full holds ready low -----------------------
        def out_ring(prefix, layout, payload):
            wp = _reg(len(getattr(self, f"{prefix}_wp")), name=f"{prefix}_wp_r")
            m.d.comb += getattr(self, f"{prefix}_wp").eq(wp)
            full = Signal(name=f"{prefix}_full")
            m.d.comb += full.eq((wp - getattr(self, f"{prefix}_rp"))[:ab + 1] == depth)
            entries = [_reg(layout.size, name=f"{prefix}_{i}") for i in range(depth)]
            for i in range(depth):
                m.d.comb += getattr(self, f"{prefix}{i}").eq(entries[i])
            on_init.append(wp.eq(getattr(self, f"{prefix}_rp")))

            def push():
                m.d.sync += wp.eq(wp + 1)
                with m.Switch(wp[:ab]):
                    for i in range(depth):
                        with m.Case(i):
                            m.d.sync += entries[i].eq(payload)
            return full, push

        def stable_check(valid, ready, payload, flag, name):
            """Sticky flag: valid dropped or payload changed while stalled."""
            held = _reg(len(payload), name=f"{name}_held")
            stalled = _reg(name=f"{name}_stalled")
            m.d.sync += [stalled.eq(valid & ~ready & ~rst), held.eq(payload)]
            err = _reg(name=f"{name}_err")
            on_init.extend([err.eq(0), stalled.eq(0)])
            m.d.comb += flag.eq(err)
            with m.If(stalled & ~rst & (~valid | (payload != held))):
                m.d.sync += err.eq(1)

        # upstream responses
        rsp = UP_RSP_REC(Signal(UP_RSP_REC.size))
        m.d.comb += [rsp.cycle.eq(cycle), rsp.tag.eq(eng.up_rsp_tag),
                     rsp.error.eq(eng.up_rsp_error), rsp.data.eq(eng.up_rsp_data)]
        rs_full, rs_push = out_ring("rs", UP_RSP_REC, rsp.as_value())
        m.d.comb += eng.up_rsp_ready.eq(~rs_full & ~pause["up_rsp"])
        with m.If(eng.up_rsp_valid & eng.up_rsp_ready & ~rst):
            rs_push()
        with m.If(eng.up_rsp_valid & pause["up_rsp"] & ~rst):
            h += stalls["up_rsp"].eq(stalls["up_rsp"] + 1)
        stable_check(eng.up_rsp_valid, eng.up_rsp_ready,
                     Cat(eng.up_rsp_tag, eng.up_rsp_error, eng.up_rsp_data), self.err_up_rsp,
                     "up_rsp")

        # -- DRAM: line store, pending reads, responses ---------------------------------------
        ib = self.dram_index_bits
        line = data.StructLayout({"addr": 48, "data": 512})
        m.submodules.mem = mem = Memory(shape=line, depth=1 << ib, init=[])
        # Valid bits outside the memory: `init` clears them, so that a test never reads the
        # lines an earlier test of the same simulation left in the store.
        valid = _reg(1 << ib)
        on_init.append(valid.eq(0))
        rd = mem.read_port(domain="comb")
        wr = mem.write_port(domain="sync")
        m.d.comb += rd.addr.eq(eng.dram_req_addr[6:6 + ib])
        hit = Signal()
        index = eng.dram_req_addr[6:6 + ib]
        stored = Signal(512)  # what a read of this line returns: 0 if the entry is empty
        m.d.comb += [hit.eq(~valid.bit_select(index, 1) | (rd.data.addr == eng.dram_req_addr)),
                     stored.eq(Mux(valid.bit_select(index, 1), rd.data.data, 0))]

        dreq = DRAM_REC(Signal(DRAM_REC.size))
        m.d.comb += [dreq.cycle.eq(cycle), dreq.addr.eq(eng.dram_req_addr),
                     dreq.write.eq(eng.dram_req_write), dreq.tag.eq(eng.dram_req_tag),
                     dreq.miss.eq(~eng.dram_req_write & ~hit),
                     # a read records the line the harness will answer (Python checks it)
                     dreq.data.eq(Mux(eng.dram_req_write, eng.dram_req_data, stored))]
        dr_full, dr_push = out_ring("dr", DRAM_REC, dreq.as_value())
        m.d.comb += eng.dram_req_ready.eq(~dr_full & ~pause["dram_req"])
        dreq_xfer = Signal()
        m.d.comb += dreq_xfer.eq(eng.dram_req_valid & eng.dram_req_ready & ~rst)
        with m.If(eng.dram_req_valid & pause["dram_req"] & ~rst):
            h += stalls["dram_req"].eq(stalls["dram_req"] + 1)
        stable_check(eng.dram_req_valid, eng.dram_req_ready,
                     Cat(eng.dram_req_addr, eng.dram_req_write, eng.dram_req_tag,
                         eng.dram_req_data), self.err_dram_req, "dram_req")

        ntags = 1 << len(eng.dram_req_tag)
        busy = _reg(ntags)
        filled = _reg(ntags)
        count = [_reg(8, name=f"dram_count_{t}") for t in range(ntags)]
        line_data = Array(_reg(512, name=f"dram_data_{t}") for t in range(ntags))
        ready_tags = Signal(ntags)
        m.d.comb += ready_tags.eq(Cat(busy[t] & filled[t] & (count[t] == 0)
                                      for t in range(ntags)))
        m.d.comb += self.dram_busy.eq(sum(busy[t] for t in range(ntags)))
        for t in range(ntags):
            with m.If(count[t] != 0):
                h += count[t].eq(count[t] - 1)
        # the response offered: lowest ready tag, held until taken
        held = _reg()
        held_tag = _reg(len(eng.dram_req_tag))
        cand = Signal(len(eng.dram_req_tag))
        for t in reversed(range(ntags)):
            with m.If(ready_tags[t]):
                m.d.comb += cand.eq(t)
        offer = Signal()
        m.d.comb += offer.eq(~rst & (held | ((ready_tags != 0) & ~pause["dram_rsp"])))
        offer_tag = Signal(len(eng.dram_req_tag))
        m.d.comb += offer_tag.eq(Mux(held, held_tag, cand))
        m.d.comb += [eng.dram_rsp_valid.eq(offer), eng.dram_rsp_tag.eq(offer_tag),
                     eng.dram_rsp_data.eq(line_data[offer_tag])]
        rsp_xfer = Signal()
        m.d.comb += rsp_xfer.eq(offer & eng.dram_rsp_ready)
        with m.If((ready_tags != 0) & ~held & pause["dram_rsp"] & ~rst):
            h += stalls["dram_rsp"].eq(stalls["dram_rsp"] + 1)
        with m.If(rsp_xfer):
            h += [held.eq(0), busy.bit_select(offer_tag, 1).eq(0)]
        with m.Elif(offer):
            h += [held.eq(1), held_tag.eq(offer_tag)]
        # fills from Python (missed reads)
        fl_rp = _reg(len(self.fl_rp))
        m.d.comb += self.fl_rp.eq(fl_rp)
        fills = Array(getattr(self, f"fl{i}") for i in range(fdepth))
        fill = FILL(Signal(FILL.size))
        m.d.comb += fill.as_value().eq(fills[fl_rp[:fb]])
        with m.If(fl_rp != self.fl_wp):
            h += [fl_rp.eq(fl_rp + 1), line_data[fill.tag].eq(fill.data),
                  filled.bit_select(fill.tag, 1).eq(1)]
        # requests (after the response clear: a tag freed and reused at one edge stays busy)
        err_tag = _reg()
        m.d.comb += self.err_dram_tag.eq(err_tag)
        latency = Signal(8)
        m.d.comb += latency.eq(self.lat_lo - 1 + lat_lfsr[:8] % Mux(self.lat_span == 0, 1,
                                                                    self.lat_span))
        with m.If(dreq_xfer):
            dr_push()
            with m.If(eng.dram_req_write):
                m.d.comb += [wr.en.eq(1), wr.addr.eq(eng.dram_req_addr[6:6 + ib]),
                             wr.data.eq(Cat(eng.dram_req_addr, eng.dram_req_data))]
                h += valid.bit_select(eng.dram_req_addr[6:6 + ib], 1).eq(1)
            with m.Else():
                tag = eng.dram_req_tag
                with m.If(busy.bit_select(tag, 1) & ~(rsp_xfer & (offer_tag == tag))):
                    h += err_tag.eq(1)
                h += [busy.bit_select(tag, 1).eq(1), filled.bit_select(tag, 1).eq(hit),
                      line_data[tag].eq(stored)]
                with m.Switch(tag):
                    for t in range(ntags):
                        with m.Case(t):
                            h += count[t].eq(latency)
        # -- stall flags: valid high and ready low at an edge, outside reset, per port -----
        bp = _reg(len(BP_PORTS))
        m.d.comb += self.bp.eq(bp)
        on_init.append(bp.eq(0))
        stalled_now = Cat(getattr(eng, f"{port}_valid") & ~getattr(eng, f"{port}_ready")
                          for port in BP_PORTS)
        with m.If(~rst):
            h += bp.eq(bp | stalled_now)
        # the engine's reset forgets every read in flight (as the Python DRAM model's abort)
        with m.If(rst):
            h += [busy.eq(0), held.eq(0)]
        # `init` (held by Python for two edges at start-up) puts every register that depends
        # on an input into a known state: on Icarus the inputs are X until Python first drives
        # them, and an X latched at the first edge would otherwise persist.
        with m.If(self.init):
            h += on_init + [rq_rp.eq(self.rq_wp), presenting.eq(0), fl_rp.eq(self.fl_wp),
                            busy.eq(0), filled.eq(0), held.eq(0), err_tag.eq(0)]
        return m
