"""The engine inside a LiteX SoC: VexRiscv + L2 cache (64-byte lines) + ``mee_engine`` + LiteDRAM.

LiteX is written in Migen, so this package is Migen glue around the engine's generated Verilog
(the engine itself stays Amaranth, in ``rtl/engine``). See ``docs/soc.md``.
"""
