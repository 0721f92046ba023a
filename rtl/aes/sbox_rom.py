"""Block-RAM S-boxes: registered table lookups that map onto ECP5 DP16KD blocks.

One ECP5 DP16KD (18 kbit) has two independent read ports, so one 256 x 8 S-box table serves
two lookups per cycle. :class:`SBoxROM` is that block: an Amaranth
:class:`~amaranth.lib.memory.Memory` with the S-box (or inverse S-box) as its contents, two
synchronous read ports (the block RAM's address registers) and a register on each output,
``reset_less``. The memory carries ``rom_style = "block"``: without it Yosys turns a 256-entry
ROM into about 160 LUT4s of logic per lookup; with it ``synth_ecp5`` maps each memory to one
DP16KD (measured: 1 DP16KD + 16 TRELLIS_FF per :class:`SBoxROM`). Yosys 0.70 does not pack
the output register into the DP16KD's own output register (``REGMODE`` stays ``NOREG``), so
the fabric flip-flop after the block RAM takes the block RAM's clock-to-out (about 5.7 ns at
speed grade 6): a ceiling of roughly 150 MHz for this style.

The same Verilog simulates on Icarus and Verilator (a memory with an ``initial`` block) and in
the Amaranth simulator.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from . import reference

__all__ = ["SBoxROM", "RegisteredSubBytes"]


class SBoxROM(wiring.Component):
    """Two S-box lookups per cycle from one block RAM; each result two cycles after its byte.

    Parameters
    ----------
    inverse : bool
        ``False`` for the S-box, ``True`` for the inverse S-box.

    Members
    -------
    a, b : ``In(8)``
        The two bytes looked up (sampled at the clock edge by the block RAM).
    a_o, b_o : ``Out(8)``
        ``S(a)`` and ``S(b)`` :attr:`latency` cycles later (registered).

    Attributes
    ----------
    latency : int
        2: the block RAM's address register and the output register.
    """

    a: In(8)
    b: In(8)
    a_o: Out(8)
    b_o: Out(8)
    latency = 2

    def __init__(self, *, inverse=False):
        self.inverse = bool(inverse)
        super().__init__()

    def __repr__(self):
        return f"SBoxROM(inverse={self.inverse!r})"

    def elaborate(self, platform):
        m = Module()
        table = reference.INV_SBOX if self.inverse else reference.SBOX
        m.submodules.table = table_mem = Memory(shape=8, depth=256, init=table,
                                                attrs={"rom_style": "block"})
        for addr, out in ((self.a, self.a_o), (self.b, self.b_o)):
            port = table_mem.read_port()        # synchronous: the block RAM's address register
            data_q = Signal(8, reset_less=True)
            m.d.comb += port.addr.eq(addr)
            m.d.sync += data_q.eq(port.data)
            m.d.comb += out.eq(data_q)
        return m


class RegisteredSubBytes(wiring.Component):
    """SubBytes (or InvSubBytes) on 16 bytes through 8 :class:`SBoxROM` blocks.

    Parameters
    ----------
    inverse : bool
        ``True`` for InvSubBytes.

    Members
    -------
    i : ``In(128)``
        The state (byte ``n`` in bits ``[8n+7:8n]``).
    o : ``Out(128)``
        SubBytes of the state :attr:`latency` cycles earlier.

    Attributes
    ----------
    latency : int
        2.
    """

    i: In(128)
    o: Out(128)
    latency = SBoxROM.latency

    def __init__(self, *, inverse=False):
        self.inverse = bool(inverse)
        super().__init__()

    def __repr__(self):
        return f"RegisteredSubBytes(inverse={self.inverse!r})"

    def elaborate(self, platform):
        m = Module()
        outs = []
        for n in range(8):
            rom = m.submodules[f"rom{n}"] = SBoxROM(inverse=self.inverse)
            m.d.comb += [rom.a.eq(self.i[16 * n:16 * n + 8]), rom.b.eq(self.i[16 * n + 8:16 * n + 16])]
            outs += [rom.a_o, rom.b_o]
        # Assigned whole: see the note in rtl.aes.sbox on Icarus and partial assignments.
        m.d.comb += self.o.eq(Cat(*outs))
        return m
