"""Block-RAM S-boxes: registered table lookups that map onto ECP5 DP16KD blocks.

One ECP5 DP16KD (18 kbit) has two independent read ports, so one 256 x 8 S-box table serves two
lookups per cycle. :class:`SBoxROM` is that block: an Amaranth
:class:`~amaranth.lib.memory.Memory` with the S-box (or inverse S-box) as its contents, two
synchronous read ports (the block RAM's address registers) and a register on each output.
Nothing is looked up without a valid request (``en``): an idle block RAM is addressed at 0 (its
read latch then holds the constant ``S(0)``) and the output registers hold zeros, so an idle
pipeline keeps no key-derived value. The memory carries ``rom_style = "block"``: without it
Yosys turns a 256-entry ROM into about 160 LUT4s of logic per lookup; with it ``synth_ecp5``
maps each memory to one DP16KD (measured: 1 DP16KD + 16 TRELLIS_FF per :class:`SBoxROM`). But
Yosys 0.70 never uses the DP16KD's own output register (its map hard-codes ``REGMODE =
"NOREG"``), so the fabric flip-flop after the block RAM waits for the RAM's clock-to-out (5.83
ns at speed grade 6) plus the route to wherever the placer put it: measured 5.83 + 4.03 ns, 101
MHz, on the encrypt pipeline.

So when elaborated for the FPGA with :class:`~rtl.fpga.platform.ECP5Synthesis`,
:class:`SBoxROM` can instantiate the DP16KD itself, in 2048 x 9 mode with ``REGMODE =
"OUTREG"``: the same two registers (address, output), the same contents and latency, a 0.95
ns clock-to-out. In a two-register round that was slower (77.7 MHz: the RAM-to-MixColumns
and MixColumns-to-next-RAM routes, 5.4 ns each, then share one cycle), so the primitive is
used where a fabric register follows the S-box (``registered_output=True``: the pipelines'
three-register round), unless the platform says otherwise
(``ECP5Synthesis(dp16kd_output_register=True/False)``).
:func:`dp16kd_initvals` builds its ``INITVAL_xx`` parameters; a test checks them against the
ones Yosys derives from the behavioural ROM. Simulations (``platform=None``) use
the behavioural ROM: the same Verilog on Icarus, Verilator and the Amaranth simulator.
"""

from amaranth import C, Cat, ClockSignal, Const, Instance, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from . import reference

__all__ = ["SBoxROM", "RegisteredSubBytes", "dp16kd_initvals"]


def dp16kd_initvals(table, width=9):
    """``INITVAL_00`` .. ``INITVAL_3F`` of a DP16KD holding *table* in *width*-bit mode (9).

    Yosys' own mapping (``brams_map_16kd.v``) views the 18 kbit as 1024 words of 18 bits,
    two 9-bit entries per word (entry ``2k`` in bits [8:0]), and packs 16 words per
    ``INITVAL``, each word in a 20-bit slot. Returns 64 ints of 320 bits.
    """
    if width != 9:
        raise ValueError("only the 2048 x 9 mode is implemented")
    words = [0] * 1024
    for entry, value in enumerate(table):
        words[entry // 2] |= (value & 0x1FF) << (9 * (entry % 2))
    return [sum(words[16 * idx + i] << (20 * i) for i in range(16)) for idx in range(64)]


class SBoxROM(wiring.Component):
    """Two S-box lookups per cycle from one block RAM; each result two cycles after its byte.

    Parameters
    ----------
    inverse : bool
        ``False`` for the S-box, ``True`` for the inverse S-box.
    registered_output : bool
        The owner registers ``a_o``/``b_o`` again (a three-register round): on ECP5 the block
        RAM's own output register is then the better second register (module docstring).
        Behaviour and latency do not change.

    Members
    -------
    a, b : ``In(8)``
        The two bytes looked up (sampled at the clock edge by the block RAM).
    en : ``In(1)``
        ``a`` and ``b`` belong to a valid request (else the output registers load zeros; the
        owner addresses 0 when idle, :class:`RegisteredSubBytes` does).
    a_o, b_o : ``Out(8)``
        ``S(a)`` and ``S(b)`` :attr:`latency` cycles later (registered).

    Attributes
    ----------
    latency : int
        2: the block RAM's address register and the output register.
    """

    a: In(8)
    b: In(8)
    en: In(1)
    a_o: Out(8)
    b_o: Out(8)
    latency = 2

    def __init__(self, *, inverse=False, registered_output=False):
        self.inverse = bool(inverse)
        self.registered_output = bool(registered_output)
        super().__init__()

    def __repr__(self):
        return (f"SBoxROM(inverse={self.inverse!r}, "
                f"registered_output={self.registered_output!r})")

    def uses_dp16kd_output_register(self, platform):
        """Whether elaboration for *platform* instantiates the DP16KD with its output
        register: only for the FPGA flow, where the platform's ``dp16kd_output_register``
        decides (``None``: when :attr:`registered_output`)."""
        if not hasattr(platform, "dp16kd_output_register"):
            return False                     # simulation: the behavioural ROM
        choice = platform.dp16kd_output_register
        return self.registered_output if choice is None else bool(choice)

    def elaborate(self, platform):
        if self.uses_dp16kd_output_register(platform):
            return self._elaborate_dp16kd()
        m = Module()
        table = reference.INV_SBOX if self.inverse else reference.SBOX
        m.submodules.table = table_mem = Memory(shape=8, depth=256, init=table,
                                                attrs={"rom_style": "block"})
        en_q = Signal()
        m.d.sync += en_q.eq(self.en)
        for addr, out in ((self.a, self.a_o), (self.b, self.b_o)):
            port = table_mem.read_port()        # synchronous: the block RAM's address register
            data_q = Signal(8)
            m.d.comb += port.addr.eq(addr)
            m.d.sync += data_q.eq(Mux(en_q, port.data, 0))
            m.d.comb += out.eq(data_q)
        return m

    def _elaborate_dp16kd(self):
        # 2048 x 9 mode: the address is ADx13..ADx3 (entry << 3), data DOx7..DOx0. Both ports
        # read only; the output register (REGMODE OUTREG) is the second register.
        m = Module()
        table = reference.INV_SBOX if self.inverse else reference.SBOX
        params = {f"p_INITVAL_{idx:02X}": Const(v, 320)
                  for idx, v in enumerate(dp16kd_initvals(table))}
        params.update(p_DATA_WIDTH_A=9, p_DATA_WIDTH_B=9, p_REGMODE_A="OUTREG",
                      p_REGMODE_B="OUTREG", p_RESETMODE="SYNC", p_ASYNC_RESET_RELEASE="SYNC",
                      p_CSDECODE_A="0b000", p_CSDECODE_B="0b000", p_CLKAMUX="CLKA",
                      p_CLKBMUX="CLKB", p_WRITEMODE_A="NORMAL", p_WRITEMODE_B="NORMAL",
                      p_GSR="DISABLED")
        ports = {}
        # The output register's synchronous reset (RESETMODE SYNC) clears it after an idle
        # cycle, as the behavioural ROM's output register does.
        en_q = Signal()
        m.d.sync += en_q.eq(self.en)
        for side, addr, out in (("A", self.a, self.a_o), ("B", self.b, self.b_o)):
            address = Cat(C(0, 3), addr, C(0, 3))
            data = Signal(18, name=f"do{side.lower()}")
            ports.update({f"i_CLK{side}": ClockSignal(), f"i_CE{side}": C(1, 1),
                          f"i_OCE{side}": C(1, 1), f"i_RST{side}": ~en_q,
                          f"i_WE{side}": C(0, 1)})
            for n in range(3):
                ports[f"i_CS{side}{n}"] = C(0, 1)
            for n in range(14):
                ports[f"i_AD{side}{n}"] = address[n]
            for n in range(18):
                ports[f"i_DI{side}{n}"] = C(0, 1)
                ports[f"o_DO{side}{n}"] = data[n]
            m.d.comb += out.eq(data[:8])
        m.submodules.table = Instance("DP16KD", **params, **ports)
        return m


class RegisteredSubBytes(wiring.Component):
    """SubBytes (or InvSubBytes) on 16 bytes through 8 :class:`SBoxROM` blocks.

    Parameters
    ----------
    inverse : bool
        ``True`` for InvSubBytes.
    registered_output : bool
        Passed to every :class:`SBoxROM`: the owner registers ``o`` again.

    Members
    -------
    i : ``In(128)``
        The state (byte ``n`` in bits ``[8n+7:8n]``).
    en : ``In(1)``
        ``i`` belongs to a valid request (see :class:`SBoxROM`).
    o : ``Out(128)``
        SubBytes of the state :attr:`latency` cycles earlier.

    Attributes
    ----------
    latency : int
        2.
    """

    i: In(128)
    en: In(1)
    o: Out(128)
    latency = SBoxROM.latency

    def __init__(self, *, inverse=False, registered_output=False):
        self.inverse = bool(inverse)
        self.registered_output = bool(registered_output)
        super().__init__()

    def __repr__(self):
        return (f"RegisteredSubBytes(inverse={self.inverse!r}, "
                f"registered_output={self.registered_output!r})")

    def elaborate(self, platform):
        m = Module()
        outs = []
        for n in range(8):
            rom = m.submodules[f"rom{n}"] = SBoxROM(inverse=self.inverse,
                                                    registered_output=self.registered_output)
            # Idle: address 0, so the block RAM's read latch holds the constant S(0).
            m.d.comb += [rom.a.eq(Mux(self.en, self.i[16 * n:16 * n + 8], 0)),
                         rom.b.eq(Mux(self.en, self.i[16 * n + 8:16 * n + 16], 0)),
                         rom.en.eq(self.en)]
            outs += [rom.a_o, rom.b_o]
        # Assigned whole: see the note in rtl.aes.sbox on Icarus and partial assignments.
        m.d.comb += self.o.eq(Cat(*outs))
        return m
