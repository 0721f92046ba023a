"""The elaboration target of the FPGA flow: ECP5 primitives where inference falls short.

Amaranth passes a ``platform`` to every ``elaborate``. The simulations pass ``None`` and get
behavioural models; ``sim.fpga`` passes an :class:`ECP5Synthesis`. With
``dp16kd_output_register=True`` the block-RAM S-boxes (:class:`rtl.aes.sbox_rom.SBoxROM`)
instantiate DP16KD primitives with their output register, which Yosys never uses (clock-to-out
0.95 ns against 5.8 ns). Measured on the encrypt pipeline (docs/fpga.md) that was slower, not
faster (77.7 against 101.4 MHz: both long routes, RAM to MixColumns and back to the next RAM,
fall in one cycle), so the flow's default :data:`ECP5_SYNTHESIS` keeps Yosys' inference.
Each primitive has a test that its configuration matches what Yosys derives from the
behavioural model.
"""

__all__ = ["ECP5Synthesis", "ECP5_SYNTHESIS"]


class ECP5Synthesis:
    """Marker platform for ``synth_ecp5``.

    Parameters
    ----------
    dp16kd_output_register : bool
        :class:`~rtl.aes.sbox_rom.SBoxROM` instantiates a DP16KD with ``REGMODE = "OUTREG"``
        instead of the behavioural ROM that Yosys maps (with a fabric register after it).
    """

    def __init__(self, *, dp16kd_output_register=False):
        self.dp16kd_output_register = bool(dp16kd_output_register)

    def __repr__(self):
        return f"ECP5Synthesis(dp16kd_output_register={self.dp16kd_output_register!r})"


#: What the FPGA flow elaborates with by default (the measured faster choice).
ECP5_SYNTHESIS = ECP5Synthesis()
