"""The elaboration target of the FPGA flow: ECP5 primitives where inference falls short.

Amaranth passes a ``platform`` to every ``elaborate``. The simulations pass ``None`` and get
behavioural models; ``sim.fpga`` passes an :class:`ECP5Synthesis`. The block-RAM S-boxes
(:class:`rtl.aes.sbox_rom.SBoxROM`) can instantiate DP16KD primitives with their output
register, which Yosys never uses (clock-to-out 0.95 ns against 5.8 ns). In a two-register
round that was slower, not faster (77.7 against 101.4 MHz on the encrypt pipeline,
docs/fpga.md: both long routes, RAM to MixColumns and back to the next RAM, fall in one
cycle), so by default (``dp16kd_output_register=None``) the primitive is used only where a
fabric register follows the S-box (the three-register round) and Yosys' inference elsewhere.
Each primitive has a test that its configuration matches what Yosys derives from the
behavioural model.
"""

__all__ = ["ECP5Synthesis", "ECP5_SYNTHESIS"]


class ECP5Synthesis:
    """Marker platform for ``synth_ecp5``.

    Parameters
    ----------
    dp16kd_output_register : bool or None
        ``True``: every :class:`~rtl.aes.sbox_rom.SBoxROM` instantiates a DP16KD with
        ``REGMODE = "OUTREG"``; ``False``: none does (the behavioural ROM that Yosys maps, with
        a fabric register after it); ``None`` (default): those followed by a fabric register
        do (``SBoxROM(registered_output=True)``).
    """

    def __init__(self, *, dp16kd_output_register=None):
        self.dp16kd_output_register = (None if dp16kd_output_register is None
                                       else bool(dp16kd_output_register))

    def __repr__(self):
        return f"ECP5Synthesis(dp16kd_output_register={self.dp16kd_output_register!r})"


#: What the FPGA flow elaborates with by default (the measured faster choice).
ECP5_SYNTHESIS = ECP5Synthesis()
