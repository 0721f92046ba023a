"""Configuration registers: the engine's mirror of the platform MSRs (docs/architecture.md §6).

:class:`ConfigRegisters` holds the seven 64-bit registers and evaluates one access
combinationally: the status, the value the response returns and whether the write needs an
entropy word (TME_ACTIVATE with ENABLE set draws the TME key). The write only lands when the
sequencer (:class:`rtl.engine.keytable.KeyTable`) pulses ``commit`` in the cycle of the response
handshake, which is what makes a configuration change atomic with respect to upstream requests.

Write checks, in order (same as ``golden_model.engine.Engine.config_access``):

1. address above 6, a reserved bit set, or KEYID_BITS > KEYID_BITS_MAX → INVALID;
2. TME_ACTIVATE.LOCK = 1 and the register is TME_ACTIVATE, EXCLUDE_MASK, EXCLUDE_BASE or
   MODE, or KT_LOCK = 1 and the register is KT_LOCK → LOCKED;
3. TME_ACTIVATE with ENABLE = 1 and no entropy word → ENTROPY_ERROR (decided by the sequencer,
   which owns the entropy stream; this unit raises ``needs_entropy``).

Reads answer OK with the register value; a read of an address above 6 answers INVALID with 0.
A refused write answers the unchanged value. LOCK and KT_LOCK are cleared only by reset. No register holds
key material.
"""

from amaranth import Const, Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .layouts import CFG_REQ_LAYOUT, TME_ACTIVATE_LAYOUT, CfgAddr, CfgStatus, config_layout

__all__ = ["ConfigRegisters", "writable_mask"]


def writable_mask(addr, pa_width):
    """The field bits of register ``addr`` (a :class:`CfgAddr`); other set bits are INVALID."""
    page_bits = ((1 << pa_width) - 1) & ~0xFFF
    return {
        CfgAddr.TME_ACTIVATE: (1 << 0) | (1 << 1) | (1 << 31) | (0xF << 32) | (0xFFFF << 48),
        CfgAddr.EXCLUDE_MASK: page_bits | (1 << 11),
        CfgAddr.EXCLUDE_BASE: page_bits,
        CfgAddr.SYSCFG:       1 << 23,
        CfgAddr.TSME:         1,
        CfgAddr.MODE:         1,
        CfgAddr.KT_LOCK:      1,
    }[CfgAddr(addr)]


_LOCKED_BY_TME_ACTIVATE = (CfgAddr.TME_ACTIVATE, CfgAddr.EXCLUDE_MASK, CfgAddr.EXCLUDE_BASE,
                           CfgAddr.MODE)


class ConfigRegisters(wiring.Component):
    """The configuration registers and the evaluation of one access.

    Parameters
    ----------
    pa_width : int
        Physical address width (EXCLUDE_MASK/BASE carry bits [pa_width-1:12]).
    keyid_bits_max : int
        Largest legal TME_ACTIVATE.KEYID_BITS.

    Members
    -------
    config : ``Out(config_layout(pa_width))``
        Decoded live register state, for the address decode and the key-program checks.
    cmd : ``In(CFG_REQ_LAYOUT)``
        The access being evaluated (held by the sequencer while it is in progress).
    status : ``Out(CfgStatus)``
        OK, LOCKED or INVALID (ENTROPY_ERROR is the sequencer's).
    rdata : ``Out(64)``
        The register value after the access if it is committed.
    current : ``Out(64)``
        The present value of register ``cmd.addr`` (0 above 6), for a write refused later.
    needs_entropy : ``Out(1)``
        The access is an otherwise-OK write that sets TME_ACTIVATE.ENABLE.
    commit : ``In(1)``
        Apply the write at this clock edge (ignored unless ``status`` is OK and ``cmd.write``).
    """

    def __init__(self, *, pa_width=48, keyid_bits_max=6):
        self.pa_width = pa_width
        self.keyid_bits_max = keyid_bits_max
        super().__init__({
            "config":        Out(config_layout(pa_width)),
            "cmd":           In(CFG_REQ_LAYOUT),
            "status":        Out(CfgStatus),
            "rdata":         Out(64),
            "current":       Out(64),
            "needs_entropy": Out(1),
            "commit":        In(1),
        })

    def elaborate(self, platform):
        m = Module()
        regs = {a: Signal(64, name=f"reg_{a.name.lower()}") for a in CfgAddr}
        tme = data.View(TME_ACTIVATE_LAYOUT, regs[CfgAddr.TME_ACTIVATE])
        page = Const(((1 << self.pa_width) - 1) & ~0xFFF, self.pa_width)

        m.d.comb += [
            self.config.mode.eq(regs[CfgAddr.MODE][0]),
            self.config.tme_lock.eq(tme.lock),
            self.config.tme_enable.eq(tme.enable),
            self.config.tme_bypass.eq(tme.bypass),
            self.config.keyid_bits.eq(tme.keyid_bits),
            self.config.algs.eq(tme.algs),
            self.config.excl_enable.eq(regs[CfgAddr.EXCLUDE_MASK][11]),
            self.config.excl_mask.eq(regs[CfgAddr.EXCLUDE_MASK][:self.pa_width] & page),
            self.config.excl_base.eq(regs[CfgAddr.EXCLUDE_BASE][:self.pa_width] & page),
            self.config.mem_enc_en.eq(regs[CfgAddr.SYSCFG][23]),
            self.config.tsme.eq(regs[CfgAddr.TSME][0]),
            self.config.kt_lock.eq(regs[CfgAddr.KT_LOCK][0]),
        ]

        cmd = self.cmd
        new_tme = data.View(TME_ACTIVATE_LAYOUT, cmd.data)
        with m.Switch(cmd.addr):
            for a in CfgAddr:
                with m.Case(a):
                    m.d.comb += self.current.eq(regs[a])
                    reserved = (cmd.data & ~writable_mask(a, self.pa_width) & (2**64 - 1)).any()
                    if a == CfgAddr.TME_ACTIVATE:
                        reserved |= new_tme.keyid_bits > self.keyid_bits_max
                    if a in _LOCKED_BY_TME_ACTIVATE:
                        locked = tme.lock
                    elif a == CfgAddr.KT_LOCK:
                        # The key-table lock is sticky like the MSR lock: only reset clears it.
                        locked = regs[CfgAddr.KT_LOCK][0]
                    else:
                        locked = Const(0)
                    with m.If(~cmd.write):
                        m.d.comb += [self.status.eq(CfgStatus.OK), self.rdata.eq(regs[a])]
                    with m.Elif(reserved):
                        m.d.comb += [self.status.eq(CfgStatus.INVALID), self.rdata.eq(regs[a])]
                    with m.Elif(locked):
                        m.d.comb += [self.status.eq(CfgStatus.LOCKED), self.rdata.eq(regs[a])]
                    with m.Else():
                        m.d.comb += [self.status.eq(CfgStatus.OK), self.rdata.eq(cmd.data)]
                        if a == CfgAddr.TME_ACTIVATE:
                            m.d.comb += self.needs_entropy.eq(new_tme.enable)
                        with m.If(self.commit):
                            m.d.sync += regs[a].eq(cmd.data)
            with m.Default():
                m.d.comb += [self.status.eq(CfgStatus.INVALID), self.rdata.eq(0)]
        return m
