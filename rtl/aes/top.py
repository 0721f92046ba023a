"""Verilog top levels for the AES pipelines: the same ports, as plain signals.

Amaranth 0.5's ``rtlil.convert``/``verilog.convert`` turn every member of a component's
signature into a port, and refuse the constant ``ready`` of an ``always_ready`` stream
(``TypeError: Only signals and IO ports may be added as ports, not (const 1'd1)``). These
wrappers declare the ports the pipelines' streams would have had, ``i__valid``, ``i__payload``,
``o__valid`` and ``o__payload`` (payload bits as in :func:`rtl.aes.pipeline.input_layout`), and
drop the constant ``ready`` lines; the simulation runner and the FPGA flow elaborate these.
"""

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .pipeline import AESDecryptPipeline, AESEncryptPipeline, input_layout, output_layout
from .sbox import DEFAULT_SBOX

__all__ = ["AESEncryptPipelineTop", "AESDecryptPipelineTop"]


class _Top(wiring.Component):
    _pipeline = None

    def __init__(self, *, tag_width=0, regs_per_round=1, sbox=DEFAULT_SBOX):
        self.pipeline = self._pipeline(tag_width=tag_width, regs_per_round=regs_per_round,
                                       sbox=sbox)
        super().__init__({
            "i__valid": In(1),
            "i__payload": In(input_layout(tag_width)),
            "o__valid": Out(1),
            "o__payload": Out(output_layout(tag_width)),
        })

    @property
    def latency(self):
        """The wrapped pipeline's latency in cycles."""
        return self.pipeline.latency

    def __repr__(self):
        return repr(self.pipeline).replace("(", "Top(", 1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.pipeline = p = self.pipeline
        m.d.comb += [
            p.i.valid.eq(self.i__valid),
            p.i.payload.eq(self.i__payload),
            self.o__valid.eq(p.o.valid),
            self.o__payload.eq(p.o.payload),
        ]
        return m


class AESEncryptPipelineTop(_Top):
    """:class:`~rtl.aes.pipeline.AESEncryptPipeline` with plain-signal ports (same parameters)."""

    _pipeline = AESEncryptPipeline


class AESDecryptPipelineTop(_Top):
    """:class:`~rtl.aes.pipeline.AESDecryptPipeline` with plain-signal ports (same parameters)."""

    _pipeline = AESDecryptPipeline
