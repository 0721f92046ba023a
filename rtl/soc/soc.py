"""The SoC: VexRiscv, LiteX's L2 cache with 64-byte lines, ``mee_engine``, LiteDRAM.

:class:`MEESoC` is board-independent: it takes a platform, a clock/reset generator already
built by the caller, a LiteDRAM PHY and its module. ``rtl.soc.sim`` builds it for LiteX's
Verilator simulator with the LiteDRAM SDRAM model, ``rtl.soc.ulx3s`` for the ULX3S-85F.

Memory map (32-bit, VexRiscv):

=============  ===========  ===============================================================
region         origin       contents
=============  ===========  ===============================================================
rom            0x00000000   LiteX BIOS
sram           0x10000000   BIOS/firmware data and stack (8 KiB)
demo_rom       0x20000000   the firmware of ``rtl/soc/firmware`` (the BIOS jumps to it)
mee_window     0x40000000   main RAM seen ``2**keyid_bits`` times: offset = engine PA, so
                            the KeyID (or, in AMD mode, the C-bit) is the top of the offset
main_ram       0x40000000   (linker view only) KeyID 0's copy: what the BIOS tests and uses
csr            0xf0000000   CSRs, among them ``mee_*`` (:class:`rtl.soc.bridge.MEEBridge`)
=============  ===========  ===============================================================
"""

import math
from pathlib import Path

from litedram.frontend.wishbone import LiteDRAMWishbone2Native
from litex.soc.integration.soc import SoCRegion
from litex.soc.integration.soc_core import SoCCore
from litex.soc.interconnect import wishbone

from .bridge import MEEBridge
from .engine import engine_params, engine_verilog

__all__ = ["MEESoC", "WINDOW_ORIGIN", "DEMO_ROM_ORIGIN", "L2_SIZE"]

WINDOW_ORIGIN = 0x4000_0000
DEMO_ROM_ORIGIN = 0x2000_0000
DEMO_ROM_SIZE = 0x8000
#: L2 size in bytes; small so that the firmware's L2 flush (reading 2x L2 bytes) is quick.
L2_SIZE = 8192


class MEESoC(SoCCore):
    """LiteX SoC with the memory-encryption engine between the L2 cache and LiteDRAM.

    Parameters
    ----------
    platform : litex.build.generic_platform.GenericPlatform
    sys_clk_freq : int
    sdram_phy, sdram_module
        A LiteDRAM PHY (or the simulator's ``SDRAMPHYModel``) and its module.
    build_dir : pathlib.Path
        Where the engine's Verilog is written.
    keyid_bits : int
        KeyID bits above the DRAM address; the engine gets ``2**keyid_bits`` slots.
    bypass : bool
        Build without the engine (lines pass unchanged; same bridge otherwise).
    sbox : str
        The engine's S-box style (``"table"`` for simulation, as the regression does).
    firmware : pathlib.Path or None
        Binary for ``demo_rom``; None leaves it empty (the BIOS then waits at its prompt).
    memtest_size : int or None
        Bytes the BIOS memory test covers (its default is 2 MiB).
    soc_kwargs
        Passed to :class:`SoCCore` (uart_name, ...).
    """

    def __init__(self, platform, sys_clk_freq, *, sdram_phy, sdram_module, build_dir,
                 keyid_bits=4, bypass=False, sbox="table", firmware=None, memtest_size=None,
                 engine_overrides=None, **soc_kwargs):
        SoCCore.__init__(self, platform, sys_clk_freq, cpu_type="vexriscv", cpu_variant="standard",
                         integrated_rom_size=0x10000, integrated_sram_size=0x2000,
                         ident="memcrypt SoC (VexRiscv + L2 + mee_engine + LiteDRAM)",
                         **soc_kwargs)
        self.firmware = firmware
        if memtest_size is not None:
            self.add_constant("MEMTEST_DATA_SIZE", memtest_size)

        # LiteDRAM, without LiteX's own main-RAM interconnect: we build that path ourselves.
        self.add_sdram("sdram", phy=sdram_phy, module=sdram_module, with_soc_interconnect=False)
        geom = sdram_module.geom_settings
        ram_size = (2 ** (geom.bankbits + geom.rowbits + geom.colbits)
                    * sdram_phy.settings.nranks * sdram_phy.settings.databits // 8)
        ram_bits = int(math.log2(ram_size))
        window_size = ram_size << keyid_bits
        self.ram_size, self.ram_bits, self.keyid_bits, self.bypass = ram_size, ram_bits, keyid_bits, bypass

        # The window is one Wishbone slave; main_ram is its KeyID 0 copy, for the linker/BIOS.
        wb_window = wishbone.Interface(data_width=32, address_width=32, addressing="word")
        self.bus.add_slave("mee_window", wb_window,
                           SoCRegion(origin=WINDOW_ORIGIN, size=window_size, cached=True))
        self.bus.add_region("main_ram", SoCRegion(origin=WINDOW_ORIGIN, size=ram_size, linker=True))

        # L2 cache with 64-byte lines (512-bit slave side).
        l2_slave = wishbone.Interface(data_width=512, address_width=32, addressing="word")
        # reverse=False: CPU byte k of a line is byte k (bits [8k+7:8k]) of the 512-bit line, the
        # engine's byte order (LiteX's add_sdram passes False too; the class default is True).
        self.l2_cache = wishbone.Cache(cachesize=L2_SIZE // 4, master=wb_window, slave=l2_slave,
                                       reverse=False)
        self.add_config("L2_SIZE", L2_SIZE)

        # Engine (or bypass), then LiteDRAM through a 512-bit native-port bridge.
        params = engine_params(ram_bits=ram_bits, keyid_bits=keyid_bits, sbox=sbox,
                               **(engine_overrides or {}))
        self.mee_params = params
        if not bypass:
            platform.add_source(str(engine_verilog(params, Path(build_dir))))
        dram_wb = wishbone.Interface(data_width=512, address_width=32, addressing="word")
        self.mee = MEEBridge(l2_slave, dram_wb, window_origin=WINDOW_ORIGIN, ram_bits=ram_bits,
                             keyid_bits=keyid_bits, engine_params=params, bypass=bypass)
        port = self.sdram.crossbar.get_port()
        self.dram_bridge = LiteDRAMWishbone2Native(wishbone=dram_wb, port=port, base_address=0)

        # The firmware ROM; the BIOS jumps to it after its memory test.
        self.add_rom("demo_rom", origin=DEMO_ROM_ORIGIN, size=DEMO_ROM_SIZE)
        self.add_constant("ROM_BOOT_ADDRESS", DEMO_ROM_ORIGIN)
        self.add_constant("MEE_WINDOW_BASE", WINDOW_ORIGIN)
        self.add_constant("MEE_RAM_SIZE", ram_size)
        self.add_constant("MEE_KEYID_BITS", keyid_bits)
        if bypass:
            self.add_constant("MEE_BYPASS")

    def init_mems(self, **kwargs):
        """Builder hook (after software, before gateware): load the firmware into demo_rom."""
        from litex.soc.integration.soc_core import get_mem_data
        if self.firmware is not None and Path(self.firmware).exists():
            data = get_mem_data(str(self.firmware), data_width=32, endianness="little")
            self.init_rom("demo_rom", contents=data, auto_size=False)

