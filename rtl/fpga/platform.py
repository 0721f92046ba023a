"""The elaboration target of the FPGA flow: ECP5 primitives where inference falls short.

Amaranth passes a ``platform`` to every ``elaborate``. The simulations pass ``None`` and get
behavioural models; ``sim.fpga`` passes :data:`ECP5_SYNTHESIS`, for which a component may
instantiate an ECP5 primitive instead (today only :class:`rtl.aes.sbox_rom.SBoxROM`: Yosys
maps its ROM to a DP16KD but never uses the DP16KD's output register, whose clock-to-out is
0.95 ns against 5.8 ns without it). Each such component has a test that its primitive
configuration matches what Yosys itself derives from the behavioural model.
"""

__all__ = ["ECP5Synthesis", "ECP5_SYNTHESIS"]


class ECP5Synthesis:
    """Marker platform for ``synth_ecp5``.

    Attributes
    ----------
    ecp5_primitives : bool
        True: components may instantiate ECP5 primitives (DP16KD, ...).
    """

    ecp5_primitives = True

    def __repr__(self):
        return "ECP5Synthesis()"


#: The instance the FPGA flow elaborates with.
ECP5_SYNTHESIS = ECP5Synthesis()
