"""A crypto-free stand-in for ``mee_engine`` with the same port names, to test the BFMs.

Requests go to DRAM unchanged (address truncated to ``pa_width``); a write is answered at
once; a read gets a free DRAM tag, and its DRAM response comes back upstream with the
requester's tag. A request whose ``addr[5:0]`` is not zero is answered with error 1 and never
reaches DRAM. The command ports are trivial: a key-program command answers
``command`` (0 for 0..3) unless it is > 3 (status 1) or ``keyid == 0`` (status 3), and
command 1 takes one entropy word (status 2 when none is valid); the config port is a file of
eight 64-bit registers whose register 7 is read-only and shows the low 64 bits of the last
entropy word taken.

``bug`` injects faults the BFM checkers must catch: ``"dup_tag"`` gives every read DRAM tag 0,
``"drop_valid"`` withdraws ``dram_req_valid`` after one cycle without ``ready``,
``"rsp_tag"`` flips bit 0 of every read response's upstream tag.
"""

from amaranth import Array, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["BfmLoopback"]


class BfmLoopback(wiring.Component):
    """Loopback with the engine's stream ports (architecture §8), no encryption.

    Parameters
    ----------
    addr_width, pa_width, asid_width, tag_width, dram_tag_width : int
    bug : str
        ``""`` (correct), ``"dup_tag"``, ``"drop_valid"`` or ``"rsp_tag"``.
    """

    def __init__(self, addr_width=64, pa_width=48, asid_width=6, tag_width=8, dram_tag_width=5,
                 bug=""):
        if bug not in ("", "dup_tag", "drop_valid", "rsp_tag"):
            raise ValueError(f"unknown bug {bug!r}")
        self.pa_width = pa_width
        self.dram_tag_width = dram_tag_width
        self.bug = bug
        super().__init__({
            "up_req_valid": In(1), "up_req_ready": Out(1), "up_req_addr": In(addr_width),
            "up_req_write": In(1), "up_req_asid": In(asid_width), "up_req_tag": In(tag_width),
            "up_req_data": In(512),
            "up_rsp_valid": Out(1), "up_rsp_ready": In(1), "up_rsp_tag": Out(tag_width),
            "up_rsp_data": Out(512), "up_rsp_error": Out(2),
            "dram_req_valid": Out(1), "dram_req_ready": In(1), "dram_req_addr": Out(pa_width),
            "dram_req_write": Out(1), "dram_req_tag": Out(dram_tag_width),
            "dram_req_data": Out(512),
            "dram_rsp_valid": In(1), "dram_rsp_ready": Out(1), "dram_rsp_tag": In(dram_tag_width),
            "dram_rsp_data": In(512),
            "kp_req_valid": In(1), "kp_req_ready": Out(1), "kp_req_keyid": In(16),
            "kp_req_command": In(8), "kp_req_enc_alg": In(16), "kp_req_key1": In(128),
            "kp_req_key2": In(128),
            "kp_rsp_valid": Out(1), "kp_rsp_ready": In(1), "kp_rsp_status": Out(3),
            "cfg_req_valid": In(1), "cfg_req_ready": Out(1), "cfg_req_addr": In(4),
            "cfg_req_write": In(1), "cfg_req_data": In(64),
            "cfg_rsp_valid": Out(1), "cfg_rsp_ready": In(1), "cfg_rsp_status": Out(2),
            "cfg_rsp_data": Out(64),
            "entropy_valid": In(1), "entropy_ready": Out(1), "entropy_data": In(256),
        })

    def elaborate(self, platform):
        m = Module()
        ntags = 1 << self.dram_tag_width

        # Upstream/DRAM datapath ----------------------------------------------------------
        busy = Signal(ntags)
        free_tag = Signal(self.dram_tag_width)
        have_free = Signal()
        for i in reversed(range(ntags)):
            with m.If(~busy[i]):
                m.d.comb += free_tag.eq(i)
        m.d.comb += have_free.eq(~busy.all())
        if self.bug == "dup_tag":
            m.d.comb += [free_tag.eq(0), have_free.eq(1)]
        up_tags = Array(Signal(len(self.up_req_tag), name=f"up_tag{i}") for i in range(ntags))

        req_free = ~self.dram_req_valid | self.dram_req_ready
        rsp_free = ~self.up_rsp_valid | self.up_rsp_ready
        direct_ok = rsp_free & ~self.dram_rsp_valid
        bad = self.up_req_addr[:6] != 0
        m.d.comb += [
            self.dram_rsp_ready.eq(rsp_free),
            self.up_req_ready.eq(Mux(bad, direct_ok,
                                     Mux(self.up_req_write, direct_ok & req_free,
                                         req_free & have_free))),
        ]
        up_fire = self.up_req_valid & self.up_req_ready
        rsp_fire = self.dram_rsp_valid & self.dram_rsp_ready

        with m.If(self.dram_req_valid & self.dram_req_ready):
            m.d.sync += self.dram_req_valid.eq(0)
        if self.bug == "drop_valid":
            with m.If(self.dram_req_valid & ~self.dram_req_ready):
                m.d.sync += self.dram_req_valid.eq(0)
        with m.If(self.up_rsp_valid & self.up_rsp_ready):
            m.d.sync += self.up_rsp_valid.eq(0)

        set_mask = Signal(ntags)
        clr_mask = Signal(ntags)
        with m.If(rsp_fire):
            m.d.comb += clr_mask.eq(1 << self.dram_rsp_tag)
            tag = up_tags[self.dram_rsp_tag]
            if self.bug == "rsp_tag":
                tag = tag ^ 1
            m.d.sync += [self.up_rsp_valid.eq(1), self.up_rsp_tag.eq(tag),
                         self.up_rsp_data.eq(self.dram_rsp_data), self.up_rsp_error.eq(0)]
        with m.If(up_fire):
            with m.If(bad):
                m.d.sync += [self.up_rsp_valid.eq(1), self.up_rsp_tag.eq(self.up_req_tag),
                             self.up_rsp_data.eq(0), self.up_rsp_error.eq(1)]
            with m.Else():
                m.d.sync += [self.dram_req_valid.eq(1),
                             self.dram_req_addr.eq(self.up_req_addr[:self.pa_width]),
                             self.dram_req_write.eq(self.up_req_write)]
                with m.If(self.up_req_write):
                    m.d.sync += [self.dram_req_tag.eq(0), self.dram_req_data.eq(self.up_req_data),
                                 self.up_rsp_valid.eq(1), self.up_rsp_tag.eq(self.up_req_tag),
                                 self.up_rsp_data.eq(0), self.up_rsp_error.eq(0)]
                with m.Else():
                    m.d.comb += set_mask.eq(1 << free_tag)
                    m.d.sync += [self.dram_req_tag.eq(free_tag), self.dram_req_data.eq(0),
                                 up_tags[free_tag].eq(self.up_req_tag)]
        m.d.sync += busy.eq((busy | set_mask) & ~clr_mask)

        # Key-program port ----------------------------------------------------------------
        last_entropy = Signal(64)
        cmd = self.kp_req_command
        kp_fire = self.kp_req_valid & self.kp_req_ready
        m.d.comb += [
            self.kp_req_ready.eq(~self.kp_rsp_valid),
            self.entropy_ready.eq(kp_fire & (cmd == 1) & (self.kp_req_keyid != 0)),
        ]
        with m.If(self.kp_rsp_valid & self.kp_rsp_ready):
            m.d.sync += self.kp_rsp_valid.eq(0)
        with m.If(kp_fire):
            m.d.sync += self.kp_rsp_valid.eq(1)
            with m.If(cmd > 3):
                m.d.sync += self.kp_rsp_status.eq(1)
            with m.Elif(self.kp_req_keyid == 0):
                m.d.sync += self.kp_rsp_status.eq(3)
            with m.Elif(cmd == 1):
                m.d.sync += self.kp_rsp_status.eq(Mux(self.entropy_valid, 0, 2))
                with m.If(self.entropy_valid):
                    m.d.sync += last_entropy.eq(self.entropy_data[:64])
            with m.Else():
                m.d.sync += self.kp_rsp_status.eq(0)

        # Config port ---------------------------------------------------------------------
        regs = Array(Signal(64, name=f"reg{i}") for i in range(8))
        cfg_fire = self.cfg_req_valid & self.cfg_req_ready
        m.d.comb += self.cfg_req_ready.eq(~self.cfg_rsp_valid)
        with m.If(self.cfg_rsp_valid & self.cfg_rsp_ready):
            m.d.sync += self.cfg_rsp_valid.eq(0)
        with m.If(cfg_fire):
            m.d.sync += self.cfg_rsp_valid.eq(1)
            addr = self.cfg_req_addr
            with m.If(addr > 7):
                m.d.sync += [self.cfg_rsp_status.eq(2), self.cfg_rsp_data.eq(0)]
            with m.Elif(addr == 7):
                m.d.sync += [self.cfg_rsp_status.eq(Mux(self.cfg_req_write, 2, 0)),
                             self.cfg_rsp_data.eq(last_entropy)]
            with m.Else():
                m.d.sync += self.cfg_rsp_status.eq(0)
                with m.If(self.cfg_req_write):
                    m.d.sync += [regs[addr[:3]].eq(self.cfg_req_data),
                                 self.cfg_rsp_data.eq(self.cfg_req_data)]
                with m.Else():
                    m.d.sync += self.cfg_rsp_data.eq(regs[addr[:3]])
        return m
