"""The engine between LiteX's L2 cache and LiteDRAM, with its command ports as CSRs.

::

    CPU -> L1 -> main bus -> [window decode] -> L2 cache (64-byte lines, 512-bit Wishbone)
        -> MEEBridge: up_req/up_rsp -> mee_engine -> dram_req/dram_rsp
        -> 512-bit Wishbone -> LiteDRAMWishbone2Native -> LiteDRAM crossbar port

The L2 cache only ever moves whole 64-byte lines on its 512-bit slave bus (refills and
write-backs), so one Wishbone access is exactly one engine request. The bridge keeps one request
in flight on each side: simple, obviously ordered, and the same for the engine build and the
bypass build, so the two can be compared (docs/results.md).

Address window: the CPU sees main RAM ``2**keyid_bits`` times, one copy per KeyID, in a window
of ``ram_size << keyid_bits`` bytes. The byte offset inside the window is the engine's physical
address: KeyID = ``PA[pa_width-1 : pa_width-keyid_bits]`` (Intel TME-MK), and in AMD mode the
C-bit is ``PA[pa_width-1]`` (the top bit of the same field). The engine strips those bits before
the DRAM sees the address.

CSRs (prefix ``mee_``), one 32-bit word each: the key-program command (``kp_*``: KeyID, command,
algorithm, key words, ``kp_go``, ``kp_status``), configuration accesses (``cfg_*``), the request
ASID for AMD mode, the entropy enable, and ``info`` (build and error state). Keys are write-only
as the engine requires: the key CSRs are zeroed by hardware as soon as a command has been taken,
so a read returns 0 after any command.
"""

from litex.gen import LiteXModule
from litex.soc.interconnect.csr import CSR, CSRStatus, CSRStorage
from migen import FSM, Cat, ClockSignal, Constant, If, Instance, NextState, NextValue, ResetSignal, Signal

from .entropy import XorshiftEntropy

__all__ = ["MEEBridge", "TME_ACTIVATE_BOOT"]

LINE_BYTES = 64


def TME_ACTIVATE_BOOT(keyid_bits):
    """TME_ACTIVATE value written by the boot sequencer: ENABLE, KEYID_BITS, AES-XTS-128."""
    return (1 << 1) | (keyid_bits << 32) | (1 << 48)


class MEEBridge(LiteXModule):
    """Connects the L2 cache's 512-bit Wishbone to LiteDRAM through ``mee_engine``.

    Parameters
    ----------
    up : wishbone.Interface
        512-bit Wishbone slave driven by the L2 cache; ``adr`` in 64-byte lines, absolute.
    down : wishbone.Interface
        512-bit Wishbone master towards ``LiteDRAMWishbone2Native`` (base address 0).
    window_origin : int
        Byte address of the aliased main-RAM window in the CPU's map.
    ram_bits : int
        log2 of the DRAM size in bytes.
    keyid_bits : int
        KeyID bits on top of the DRAM address (``slots = 2**keyid_bits``).
    engine_params : dict
        Keyword parameters the engine's Verilog was generated with (for the CSR widths).
    bypass : bool
        No engine: the window's KeyID bits are dropped and lines pass unchanged. The CSRs stay
        (their commands answer from a stub that reports ``info.bypass``) so one firmware runs on
        both builds.
    tme_at_boot : bool
        After reset, write TME_ACTIVATE (ENABLE, KEYID_BITS = *keyid_bits*) before the CPU's
        first main-RAM access, so the whole of main RAM is encrypted from the BIOS on.
    """

    def __init__(self, up, down, *, window_origin, ram_bits, keyid_bits, engine_params,
                 bypass=False, tme_at_boot=True):
        pa_width = ram_bits + keyid_bits
        assert engine_params["pa_width"] == pa_width
        assert window_origin % (1 << pa_width) == 0, "window must be aligned to its size"
        line_bits = pa_width - 6
        origin_line = window_origin // LINE_BYTES

        # ---- CSRs ---------------------------------------------------------------------------
        self.kp_keyid = CSRStorage(16, description="KeyID (slot) of the next key-program command")
        self.kp_command = CSRStorage(8, description="0 SET_KEY_DIRECT, 1 SET_KEY_RANDOM, "
                                                    "2 CLEAR_KEY, 3 NO_ENCRYPT")
        self.kp_enc_alg = CSRStorage(16, reset=1, description="one-hot; bit 0 = AES-XTS-128")
        key_words = []
        for key in (1, 2):
            for word in range(4):
                csr = CSRStorage(32, write_from_dev=True, name=f"kp_key{key}_{word}",
                                 description=f"key {key} bytes {4 * word}..{4 * word + 3} (little-endian); "
                                             "zeroed by hardware once a command is taken")
                setattr(self, f"kp_key{key}_{word}", csr)
                key_words.append(csr)
        self.kp_go = CSR()  # write: issue the key-program command
        self.kp_status = CSRStatus(8, description="[7] done, [2:0] PCONFIG status")

        self.cfg_addr = CSRStorage(4, description="configuration register number")
        self.cfg_write = CSRStorage(1, description="1 = write")
        self.cfg_data_lo = CSRStorage(32)
        self.cfg_data_hi = CSRStorage(32)
        self.cfg_go = CSR()  # write: issue the configuration access
        self.cfg_status = CSRStatus(8, description="[7] done, [1:0] status "
                                                   "(0 OK, 1 LOCKED, 2 INVALID, 3 ENTROPY_ERROR)")
        self.cfg_rdata_lo = CSRStatus(32)
        self.cfg_rdata_hi = CSRStatus(32)

        self.asid = CSRStorage(engine_params.get("asid_width", 6),
                               description="ASID of CPU requests (AMD mode)")
        self.entropy_enable = CSRStorage(1, reset=1, description="0 withdraws entropy (ENTROPY_ERROR tests)")
        self.info = CSRStatus(32, description="[0] bypass build, [1] TME activated at boot, "
                                              "[4:2] boot TME_ACTIVATE status, [5] err_dram_rsp_tag, "
                                              "[15:8] KEYID_BITS, [31:16] upstream error responses")

        # ---- Engine ports -------------------------------------------------------------------
        up_req_valid, up_req_ready = Signal(), Signal()
        up_req_addr = Signal(engine_params["addr_width"])
        up_rsp_valid, up_rsp_ready = Signal(), Signal()
        up_rsp_data, up_rsp_error = Signal(512), Signal(2)
        dram_req_valid, dram_req_ready = Signal(), Signal()
        dram_req_addr, dram_req_write = Signal(pa_width), Signal()
        dram_req_tag = Signal(engine_params["dram_tag_width"])
        dram_req_data = Signal(512)
        dram_rsp_valid, dram_rsp_ready = Signal(), Signal()
        dram_rsp_tag = Signal(engine_params["dram_tag_width"])
        dram_rsp_data = Signal(512)
        kp_valid, kp_ready, kp_rsp_valid, kp_rsp_status = Signal(), Signal(), Signal(), Signal(3)
        cfg_valid, cfg_ready, cfg_rsp_valid = Signal(), Signal(), Signal()
        cfg_addr, cfg_write, cfg_data = Signal(4), Signal(), Signal(64)
        cfg_rsp_status, cfg_rsp_data = Signal(2), Signal(64)
        err_dram_rsp_tag = Signal()

        self.entropy = entropy = XorshiftEntropy()
        self.comb += entropy.enable.eq(self.entropy_enable.storage)

        # ---- Upstream: one L2 line access = one engine request ------------------------------
        offset_line = Signal(line_bits)
        self.comb += [
            offset_line.eq(up.adr - origin_line),
            up_req_addr.eq(Cat(Constant(0, 6), offset_line)),
        ]
        boot_done = Signal(reset=0 if (tme_at_boot and not bypass) else 1)
        up_errors = Signal(16)
        self.up_fsm = up_fsm = FSM(reset_state="IDLE")
        up_fsm.act("IDLE",
            up_req_valid.eq(up.cyc & up.stb & boot_done),
            If(up_req_valid & up_req_ready, NextState("WAIT")),
        )
        up_fsm.act("WAIT",
            up_rsp_ready.eq(1),
            If(up_rsp_valid,
                up.ack.eq(1),
                If(up_rsp_error != 0, NextValue(up_errors, up_errors + 1)),
                NextState("IDLE"),
            ),
        )
        self.comb += up.dat_r.eq(up_rsp_data)

        # ---- Downstream: engine DRAM port -> Wishbone master, one access at a time ---------
        rsp_full = Signal()
        rsp_tag = Signal(len(dram_rsp_tag))
        rsp_data = Signal(512)
        self.comb += [
            down.cyc.eq(dram_req_valid & ~rsp_full),
            down.stb.eq(dram_req_valid & ~rsp_full),
            down.we.eq(dram_req_write),
            down.adr.eq(dram_req_addr[6:]),
            down.dat_w.eq(dram_req_data),
            down.sel.eq(2**len(down.sel) - 1),
            dram_req_ready.eq(down.ack),
            dram_rsp_valid.eq(rsp_full),
            dram_rsp_tag.eq(rsp_tag),
            dram_rsp_data.eq(rsp_data),
        ]
        self.sync += [
            If(down.ack & ~dram_req_write,
                rsp_full.eq(1), rsp_tag.eq(dram_req_tag), rsp_data.eq(down.dat_r),
            ).Elif(dram_rsp_valid & dram_rsp_ready,
                rsp_full.eq(0),
            ),
        ]

        # ---- Key-program CSR sequencer ------------------------------------------------------
        kp_pending = Signal()
        kp_done = Signal()
        kp_status = Signal(3)
        self.sync += [
            If(self.kp_go.re, kp_pending.eq(1), kp_done.eq(0)),
            If(kp_valid & kp_ready, kp_pending.eq(0)),
            If(kp_rsp_valid, kp_done.eq(1), kp_status.eq(kp_rsp_status)),
        ]
        self.comb += [
            kp_valid.eq(kp_pending),
            self.kp_status.status.eq(Cat(kp_status, Constant(0, 4), kp_done)),
        ]
        for csr in key_words:  # keys are write-only: forget them once the engine has them
            self.comb += [csr.we.eq(kp_valid & kp_ready), csr.dat_w.eq(0)]

        # ---- Configuration: the boot sequencer first, then the CSRs -------------------------
        cfg_pending = Signal()
        cfg_done = Signal()
        cfg_status = Signal(2)
        cfg_rdata = Signal(64)
        boot_status = Signal(3)
        boot_activated = Signal()
        self.boot_fsm = boot_fsm = FSM(reset_state="BOOT" if (tme_at_boot and not bypass) else "RUN")
        boot_fsm.act("BOOT",
            cfg_valid.eq(1),
            cfg_addr.eq(0),
            cfg_write.eq(1),
            cfg_data.eq(TME_ACTIVATE_BOOT(keyid_bits)),
            If(cfg_valid & cfg_ready, NextState("BOOT_RSP")),
        )
        boot_fsm.act("BOOT_RSP",
            If(cfg_rsp_valid,
                NextValue(boot_status, cfg_rsp_status),
                NextValue(boot_activated, cfg_rsp_status == 0),
                NextValue(boot_done, 1),
                NextState("RUN"),
            ),
        )
        boot_fsm.act("RUN",
            cfg_valid.eq(cfg_pending),
            cfg_addr.eq(self.cfg_addr.storage),
            cfg_write.eq(self.cfg_write.storage),
            cfg_data.eq(Cat(self.cfg_data_lo.storage, self.cfg_data_hi.storage)),
        )
        self.sync += [
            If(self.cfg_go.re, cfg_pending.eq(1), cfg_done.eq(0)),
            If(boot_fsm.ongoing("RUN") & cfg_valid & cfg_ready, cfg_pending.eq(0)),
            If(boot_fsm.ongoing("RUN") & cfg_rsp_valid,
               cfg_done.eq(1), cfg_status.eq(cfg_rsp_status), cfg_rdata.eq(cfg_rsp_data)),
        ]
        self.comb += [
            self.cfg_status.status.eq(Cat(cfg_status, Constant(0, 5), cfg_done)),
            self.cfg_rdata_lo.status.eq(cfg_rdata[:32]),
            self.cfg_rdata_hi.status.eq(cfg_rdata[32:]),
            self.info.status.eq(Cat(Constant(int(bypass), 1), boot_activated, boot_status,
                                    err_dram_rsp_tag, Constant(0, 2), Constant(keyid_bits, 8),
                                    up_errors)),
        ]

        if bypass:
            # The same wiring with the engine replaced by a wire: KeyID bits dropped, one
            # request at a time, commands answered INVALID_PROG_CMD / INVALID.
            wr = Signal()
            self.comb += [
                dram_req_valid.eq(up_req_valid),
                dram_req_addr.eq(up_req_addr[:ram_bits]),
                dram_req_write.eq(up.we),
                dram_req_data.eq(up.dat_w),
                dram_req_tag.eq(0),
                up_req_ready.eq(dram_req_ready),
                dram_rsp_ready.eq(up_fsm.ongoing("WAIT")),
                kp_ready.eq(1),
                cfg_ready.eq(1),
            ]
            self.sync += [
                If(up_req_valid & up_req_ready, wr.eq(up.we)),
                kp_rsp_valid.eq(kp_valid),
                cfg_rsp_valid.eq(cfg_valid),
            ]
            self.comb += [
                up_rsp_valid.eq(wr | dram_rsp_valid),
                up_rsp_data.eq(dram_rsp_data),
                up_rsp_error.eq(0),
                kp_rsp_status.eq(1),
                cfg_rsp_status.eq(2),
            ]
            # A write is answered the cycle after DRAM took it; clear the flag on that answer.
            self.sync += If(up_fsm.ongoing("WAIT") & wr, wr.eq(0))
            return

        self.specials += Instance("mee_engine",
            i_clk=ClockSignal("sys"), i_rst=ResetSignal("sys"),
            i_up_req_valid=up_req_valid, o_up_req_ready=up_req_ready,
            i_up_req_addr=up_req_addr, i_up_req_write=up.we,
            i_up_req_asid=self.asid.storage, i_up_req_tag=Constant(0, engine_params["tag_width"]),
            i_up_req_data=up.dat_w,
            o_up_rsp_valid=up_rsp_valid, i_up_rsp_ready=up_rsp_ready,
            o_up_rsp_tag=Signal(engine_params["tag_width"]), o_up_rsp_data=up_rsp_data,
            o_up_rsp_error=up_rsp_error,
            o_dram_req_valid=dram_req_valid, i_dram_req_ready=dram_req_ready,
            o_dram_req_addr=dram_req_addr, o_dram_req_write=dram_req_write,
            o_dram_req_tag=dram_req_tag, o_dram_req_data=dram_req_data,
            i_dram_rsp_valid=dram_rsp_valid, o_dram_rsp_ready=dram_rsp_ready,
            i_dram_rsp_tag=dram_rsp_tag, i_dram_rsp_data=dram_rsp_data,
            i_kp_req_valid=kp_valid, o_kp_req_ready=kp_ready,
            i_kp_req_keyid=self.kp_keyid.storage, i_kp_req_command=self.kp_command.storage,
            i_kp_req_enc_alg=self.kp_enc_alg.storage,
            i_kp_req_key1=Cat(*[w.storage for w in key_words[:4]]),
            i_kp_req_key2=Cat(*[w.storage for w in key_words[4:]]),
            o_kp_rsp_valid=kp_rsp_valid, i_kp_rsp_ready=1, o_kp_rsp_status=kp_rsp_status,
            i_cfg_req_valid=cfg_valid, o_cfg_req_ready=cfg_ready,
            i_cfg_req_addr=cfg_addr, i_cfg_req_write=cfg_write, i_cfg_req_data=cfg_data,
            o_cfg_rsp_valid=cfg_rsp_valid, i_cfg_rsp_ready=1,
            o_cfg_rsp_status=cfg_rsp_status, o_cfg_rsp_data=cfg_rsp_data,
            i_entropy_valid=entropy.valid, o_entropy_ready=entropy.ready,
            i_entropy_data=entropy.data,
            o_err_dram_rsp_tag=err_dram_rsp_tag,
        )

