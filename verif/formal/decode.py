"""Equivalence of :class:`rtl.engine.decode.AddressDecoder` with a small specification.

:class:`DecodeSpec` restates docs/architecture.md §3 rule by rule, written for reading rather
than for area: the KeyID and the stripped address come from shifts by the run-time KEYID_BITS
(the RTL uses one static slice per legal value), and each rule is one line in the order the
document gives. :class:`DecodeEquivalence` drives both with the same free inputs (address,
ASID, every configuration field, every slot state) and asserts that they agree on everything
the engine uses: the error always, and for an accepted request whether it is encrypted, its
DRAM address, and the slot of an encrypted line. The decoder is combinational, so a one-step
BMC is a proof over all inputs and all configurations.
"""

from amaranth import Cat, Const, Elaboratable, Module, Mux, Signal, Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from rtl.engine.decode import AddressDecoder
from rtl.engine.layouts import Mode, RspError, SlotState, config_layout

from .properties import PropertySet

__all__ = ["DecodeSpec", "DecodeEquivalence"]


class DecodeSpec(wiring.Component):
    """docs/architecture.md §3 as a combinational reference (same ports as the decoder).

    Parameters
    ----------
    slots, keyid_bits_max, pa_width, c_bit_pos, asid_width, addr_width : int
        As :class:`~rtl.engine.decode.AddressDecoder`.
    """

    def __init__(self, *, slots, keyid_bits_max, pa_width, c_bit_pos, asid_width, addr_width):
        self.slots = slots
        self.keyid_bits_max = keyid_bits_max
        self.pa_width = pa_width
        self.c_bit_pos = c_bit_pos
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
        cfg, a, pa = self.config, self.addr, self.pa_width
        host = self.slots - 1

        # Rule 1 (both modes): line aligned, nothing at or above PA_WIDTH.
        misaligned = a[:6] != 0
        beyond_pa = (a >> pa) != 0

        # Intel: k = KEYID_BITS if ENABLE else 0; keyid = the top k bits below PA_WIDTH.
        k = Signal(5)
        m.d.comb += k.eq(Mux(cfg.tme_enable, cfg.keyid_bits, 0))
        low = a[:pa]
        width = Signal(range(pa + 1))            # bits left for the DRAM address
        m.d.comb += width.eq(pa - k)
        keyid = Signal(pa)
        m.d.comb += keyid.eq(low >> width)
        intel_addr = Signal(pa)
        m.d.comb += intel_addr.eq(low & ((Const(1, pa + 1) << width) - 1))

        def state_of(index):
            """Slot state of a run-time index (EMPTY beyond the table: never used then)."""
            s = Signal(SlotState)
            for n in range(self.slots):
                with m.If(index == n):
                    m.d.comb += s.eq(self.slot_states[n])
            return s

        keyid_state = state_of(keyid)
        excluded = cfg.excl_enable & ((intel_addr & cfg.excl_mask) == (cfg.excl_base & cfg.excl_mask))

        # AMD: C-bit; bits between the C-bit and PA_WIDTH are beyond the reduced width.
        c_bit = a[self.c_bit_pos]
        beyond_reduced = (low >> (self.c_bit_pos + 1)) != 0
        amd_addr = a[:self.c_bit_pos]
        guest = (self.asid != 0) & c_bit
        asid_state = state_of(self.asid)
        host_state = state_of(host)

        def outcome(error=RspError.OK, encrypt=0, slot=0, addr=0):
            return [self.error.eq(error), self.encrypt.eq(encrypt), self.slot.eq(slot),
                    self.dram_addr.eq(addr)]

        def keyed(state, slot, addr, empty):
            """Steps 5/6 of AMD mode: KEY encrypts, NO_ENCRYPT is plaintext, EMPTY is *empty*."""
            with m.If(state == SlotState.KEY):
                m.d.comb += outcome(encrypt=1, slot=slot, addr=addr)
            with m.Elif(state == SlotState.NO_ENCRYPT):
                m.d.comb += outcome(addr=addr)
            with m.Else():
                m.d.comb += empty

        with m.If(misaligned | beyond_pa):
            m.d.comb += outcome(RspError.BAD_ADDRESS)
        with m.Elif(cfg.mode == Mode.INTEL):
            with m.If(keyid >= self.slots):                               # step 2
                m.d.comb += outcome(RspError.BAD_KEYID)
            with m.Elif(~cfg.tme_enable):                                 # step 4
                m.d.comb += outcome(addr=intel_addr)
            with m.Elif((keyid != 0) & (keyid_state == SlotState.KEY)):   # step 5
                m.d.comb += outcome(encrypt=1, slot=keyid, addr=intel_addr)
            with m.Elif((keyid != 0) & (keyid_state == SlotState.NO_ENCRYPT)):
                m.d.comb += outcome(addr=intel_addr)
            with m.Elif(cfg.tme_bypass | excluded):                       # step 6
                m.d.comb += outcome(addr=intel_addr)
            with m.Else():                                                # the TME key
                m.d.comb += outcome(encrypt=1, slot=0, addr=intel_addr)
        with m.Else():
            with m.If(beyond_reduced):                                    # step 2
                m.d.comb += outcome(RspError.BAD_ADDRESS)
            with m.Elif(~cfg.mem_enc_en):                                 # step 4
                m.d.comb += outcome(addr=amd_addr)
            with m.Elif(guest):                                           # step 5
                with m.If(self.asid >= host):
                    m.d.comb += outcome(RspError.BAD_KEYID)
                with m.Else():
                    keyed(asid_state, self.asid, amd_addr, outcome(RspError.NO_KEY))
            with m.Elif(c_bit | cfg.tsme):                                # step 6
                keyed(host_state, host, amd_addr, outcome(RspError.NO_KEY))
            with m.Else():                                                # step 7
                m.d.comb += outcome(addr=amd_addr)
        return m


class DecodeEquivalence(Elaboratable):
    """Formal harness: the decoder and :class:`DecodeSpec` on the same free inputs.

    Parameters
    ----------
    params : dict
        Decoder parameters (``slots``, ``keyid_bits_max``, ``pa_width``, ``c_bit_pos``,
        ``asid_width``, ``addr_width``).
    mutation : str, optional
        A seeded bug for the tests that show the properties can fail: ``"encrypt"`` flips the
        decoder's ``encrypt`` for one ASID in AMD mode; ``"dram_addr"`` drops one address bit
        when KEYID_BITS is 1; ``"error"`` answers BAD_KEYID for the largest legal KeyID.
    """

    MUTATIONS = ("encrypt", "dram_addr", "error", "slot")

    def __init__(self, params, *, mutation=None):
        if mutation is not None and mutation not in self.MUTATIONS:
            raise ValueError(f"unknown mutation {mutation!r}; known: {', '.join(self.MUTATIONS)}")
        self.params = dict(params)
        self.mutation = mutation
        self.dut = AddressDecoder(**self.params)
        self.spec = DecodeSpec(**self.params)
        # The harness' free inputs (top-level ports of the generated RTLIL).
        self.addr = Signal(self.params["addr_width"])
        self.asid = Signal(self.params["asid_width"])
        self.config = Signal(config_layout(self.params["pa_width"]))
        self.slot_states = Signal(data.ArrayLayout(SlotState, self.params["slots"]))

    def ports(self):
        """The free inputs, for ``rtlil.convert``."""
        return [self.addr, self.asid, Value.cast(self.config), Value.cast(self.slot_states)]

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        m.submodules.spec = spec = self.spec
        for unit in (dut, spec):
            m.d.comb += [unit.addr.eq(self.addr), unit.asid.eq(self.asid),
                         unit.config.eq(self.config), unit.slot_states.eq(self.slot_states)]

        # What the engine takes from the decoder, with an optional seeded bug in between.
        error, encrypt, dram_addr = Signal(RspError), Signal(), Signal(len(dut.dram_addr))
        slot = Signal.like(dut.slot)
        m.d.comb += [error.eq(dut.error), encrypt.eq(dut.encrypt), dram_addr.eq(dut.dram_addr),
                     slot.eq(dut.slot)]
        if self.mutation == "encrypt":
            with m.If((self.config.mode == Mode.AMD) & (self.asid == 3)):
                m.d.comb += encrypt.eq(~dut.encrypt)
        elif self.mutation == "dram_addr":
            with m.If(self.config.tme_enable & (self.config.keyid_bits == 1)):
                m.d.comb += dram_addr.eq(dut.dram_addr & ~(1 << 12))
        elif self.mutation == "slot":
            with m.If((self.config.mode == Mode.AMD) & (self.asid == 2)):
                m.d.comb += slot.eq(dut.slot ^ 1)
        elif self.mutation == "error":
            keyid_max = self.params["slots"] - 1
            pa = self.params["pa_width"]
            kbits = max(1, (keyid_max).bit_length())
            with m.If((self.config.mode == Mode.INTEL) & self.config.tme_enable
                      & (self.config.keyid_bits == kbits)
                      & (self.addr[pa - kbits:pa] == keyid_max)):
                m.d.comb += error.eq(RspError.BAD_KEYID)

        props = PropertySet(m)
        # Only configurations the registers can hold (rtl/engine/config.py refuses the rest):
        # KEYID_BITS up to its maximum, page-aligned exclusion fields, the three slot states.
        props.assume(self.config.keyid_bits <= self.params["keyid_bits_max"], "config_keyid_bits_legal")
        props.assume((self.config.excl_mask[:12] == 0) & (self.config.excl_base[:12] == 0),
                     "config_exclusion_page_aligned")
        props.assume(Cat(*(Value.cast(s) != 3 for s in self.slot_states)).all(), "slot_states_legal")
        ok = spec.error == RspError.OK
        props.check(error == spec.error, "decode_error_matches_spec")
        props.check(~ok | (encrypt == spec.encrypt), "decode_encrypt_matches_spec")
        props.check(~ok | (dram_addr == spec.dram_addr), "decode_dram_addr_matches_spec")
        props.check(~(ok & spec.encrypt) | (slot == spec.slot), "decode_slot_matches_spec")
        # Non-vacuity: every outcome class is reachable in both modes.
        intel = self.config.mode == Mode.INTEL
        for mode_name, in_mode in (("intel", intel), ("amd", ~intel)):
            for err in RspError:
                if mode_name == "intel" and err == RspError.NO_KEY:
                    continue                    # Intel mode never answers NO_KEY (§3)
                if (mode_name == "intel" and err == RspError.BAD_KEYID
                        and 1 << self.params["keyid_bits_max"] <= self.params["slots"]):
                    continue                    # every KeyID has a slot: BAD_KEYID unreachable
                props.cover(in_mode & (spec.error == err),
                            f"cover_{mode_name}_{err.name.lower()}")
            props.cover(in_mode & ok & spec.encrypt & (spec.slot != 0),
                        f"cover_{mode_name}_encrypt_keyed_slot")
            props.cover(in_mode & ok & ~spec.encrypt, f"cover_{mode_name}_plaintext")
        props.cover(intel & ok & spec.encrypt & (spec.slot == 0), "cover_intel_tme_key")
        self.props = props
        return m
