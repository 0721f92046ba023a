"""Address decode of the engine (docs/architecture.md §3), purely combinational.

:class:`AddressDecoder` turns an upstream address (and ASID) plus the live configuration and
the slot states into: an error code, whether the line is encrypted, the key slot, and the DRAM
address with the KeyID bits / C-bit removed (which is also the XTS tweak value). The engine
evaluates it in a request's acceptance cycle, so a request sees exactly the configuration and
slot states of the cycle it was accepted in (the atomicity rule, docs/integration.md).

Features
--------
- Intel (TME / TME-MK): runtime KEYID_BITS (0..KEYID_BITS_MAX) carving the top PA bits, TME
  key (slot 0) for KeyID 0, TME bypass, exclusion range, EMPTY slots treated as KeyID 0.
- AMD (SME / TSME / SEV): C-bit, ASID-indexed guest slots, host slot ``SLOTS-1`` for C=1 or TSME.
- The checks run in the order of docs/architecture.md §3; the first failing one gives the error.
"""

from amaranth import Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .layouts import Mode, RspError, SlotState, config_layout

__all__ = ["AddressDecoder"]


class AddressDecoder(wiring.Component):
    """Combinational address decode, both modes.

    Parameters
    ----------
    slots, keyid_bits_max, pa_width, c_bit_pos, asid_width, addr_width : int
        Elaboration parameters of docs/architecture.md §3.

    Members
    -------
    addr : ``In(addr_width)``
        Upstream line address, KeyID bits / C-bit included.
    asid : ``In(asid_width)``
        Request ASID (AMD mode only).
    config : ``In(config_layout(pa_width))``
        Live configuration registers.
    slot_states : ``In(ArrayLayout(SlotState, slots))``
        Live slot states.
    error : ``Out(RspError)``
        OK or why the request is refused (it then never reaches DRAM).
    encrypt : ``Out(1)``
        The line goes through XTS with the keys of ``slot`` (only meaningful when ``error`` is OK).
    slot : ``Out(range(slots))``
        Key slot of an encrypted line.
    dram_addr : ``Out(pa_width)``
        DRAM address = XTS tweak value (tag bits removed).
    """

    def __init__(self, *, slots=64, keyid_bits_max=6, pa_width=48, c_bit_pos=47, asid_width=6,
                 addr_width=64):
        if not 2 <= slots <= 1 << 15:
            raise ValueError(f"slots must be in [2, 32768], not {slots}")
        if not 0 <= keyid_bits_max <= 15 or keyid_bits_max >= pa_width - 12:
            raise ValueError(f"keyid_bits_max {keyid_bits_max} does not fit pa_width {pa_width}")
        if not 12 < c_bit_pos < pa_width <= addr_width <= 64:
            raise ValueError("need 12 < c_bit_pos < pa_width <= addr_width <= 64")
        self.slots = slots
        self.keyid_bits_max = keyid_bits_max
        self.pa_width = pa_width
        self.c_bit_pos = c_bit_pos
        self.asid_width = asid_width
        self.addr_width = addr_width
        super().__init__({
            "addr":        In(addr_width),
            "asid":        In(asid_width),
            "config":      In(config_layout(pa_width)),
            "slot_states": In(data.ArrayLayout(SlotState, slots)),
            "error":       Out(RspError),
            "encrypt":     Out(1),
            "slot":        Out(range(slots)),
            "dram_addr":   Out(pa_width),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        a = self.addr
        pa, c = self.pa_width, self.c_bit_pos
        host_slot = self.slots - 1
        slot_bits = ceil_log2(self.slots)

        # 1. Common check: line aligned and nothing above PA_WIDTH.
        bad_common = a[:6].any()
        if self.addr_width > pa:
            bad_common |= a[pa:].any()

        # Intel: KeyID = addr[PA-1 : PA-k] with k = KEYID_BITS while TME is enabled, else 0.
        # A case per legal k keeps every slice static (no barrel shifter over 48 bits).
        k = Mux(cfg.tme_enable, cfg.keyid_bits, 0)
        keyid = Signal(max(1, self.keyid_bits_max))
        intel_dram = Signal(pa)
        with m.Switch(k):
            for kv in range(self.keyid_bits_max + 1):
                # KEYID_BITS > KEYID_BITS_MAX cannot be configured (INVALID); decode it as the max.
                with m.Default() if kv == self.keyid_bits_max else m.Case(kv):
                    if kv:
                        m.d.comb += [keyid.eq(a[pa - kv:pa]), intel_dram.eq(a[:pa - kv])]
                    else:
                        m.d.comb += [keyid.eq(0), intel_dram.eq(a[:pa])]

        # AMD: C-bit, bits above it must be zero (beyond the reduced PA width).
        c_bit = a[c]
        amd_bad_high = a[c + 1:pa].any() if c + 1 < pa else Const(0)
        amd_guest = (self.asid != 0) & c_bit
        amd_slot = Signal(range(self.slots))
        m.d.comb += amd_slot.eq(Mux(amd_guest, self.asid[:slot_bits], host_slot))

        # One slot-state lookup serves both modes (a 2-bit wide mux).
        lookup = Signal(range(self.slots))
        m.d.comb += lookup.eq(Mux(cfg.mode == Mode.INTEL, keyid, amd_slot))
        state = self.slot_states[lookup]

        plain = [self.error.eq(RspError.OK), self.encrypt.eq(0)]

        with m.If(bad_common):
            m.d.comb += self.error.eq(RspError.BAD_ADDRESS)
        with m.Elif(cfg.mode == Mode.INTEL):
            m.d.comb += self.dram_addr.eq(intel_dram)
            with m.If(keyid >= self.slots):
                m.d.comb += self.error.eq(RspError.BAD_KEYID)
            with m.Elif(~cfg.tme_enable):
                m.d.comb += plain
            with m.Elif((keyid != 0) & (state == SlotState.KEY)):
                m.d.comb += [self.error.eq(RspError.OK), self.encrypt.eq(1), self.slot.eq(keyid)]
            with m.Elif((keyid != 0) & (state == SlotState.NO_ENCRYPT)):
                m.d.comb += plain
            # KeyID 0, or an EMPTY slot treated as KeyID 0.
            with m.Elif(cfg.tme_bypass):
                m.d.comb += plain
            with m.Elif(cfg.excl_enable
                        & ((intel_dram & cfg.excl_mask) == (cfg.excl_base & cfg.excl_mask))):
                m.d.comb += plain
            with m.Else():
                m.d.comb += [self.error.eq(RspError.OK), self.encrypt.eq(1), self.slot.eq(0)]
        with m.Else():
            m.d.comb += self.dram_addr.eq(a[:c])
            with m.If(amd_bad_high):
                m.d.comb += self.error.eq(RspError.BAD_ADDRESS)
            with m.Elif(~cfg.mem_enc_en):
                m.d.comb += plain
            with m.Elif(amd_guest & (self.asid >= host_slot)):
                m.d.comb += self.error.eq(RspError.BAD_KEYID)
            with m.Elif(amd_guest | c_bit | cfg.tsme):
                with m.If(state == SlotState.KEY):
                    m.d.comb += [self.error.eq(RspError.OK), self.encrypt.eq(1),
                                 self.slot.eq(amd_slot)]
                with m.Elif(state == SlotState.NO_ENCRYPT):
                    m.d.comb += plain
                with m.Else():
                    m.d.comb += self.error.eq(RspError.NO_KEY)
            with m.Else():
                m.d.comb += plain
        return m
