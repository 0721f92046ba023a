"""``mee_engine``: the engine with flat, readable Verilog port names (docs/architecture.md §8).

:class:`MEEngineTop` wraps :class:`~rtl.engine.engine.MEEngine` and renames every stream member
``<port>.valid/ready/payload.<field>`` to ``<port>_valid/_ready/_<field>``; ``make verilog``
writes it to ``build/verilog/mee_engine.v`` and every cocotb testbench drives these names.
Clock ``clk`` and synchronous active-high reset ``rst`` come from Amaranth's ``sync`` domain.
"""

from amaranth import Module, Shape
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..aes.sbox import DEFAULT_SBOX
from .engine import MEEngine

__all__ = ["MEEngineTop"]


def _flat_ports(name, stream_sig, flow):
    """Flat members for one stream port seen from outside: ``flow`` is the payload direction."""
    back = In if flow is Out else Out
    members = {f"{name}_valid": flow(1), f"{name}_ready": back(1)}
    layout = stream_sig.members["payload"].shape
    if isinstance(layout, data.Layout):
        for field, f in layout:
            members[f"{name}_{field}"] = flow(f.width)
    else:                                   # a bare payload (entropy): "<port>_data"
        members[f"{name}_data"] = flow(Shape.cast(layout).width)
    return members


class MEEngineTop(wiring.Component):
    """The engine with the flat port list of docs/architecture.md §8 (see docs/integration.md).

    Parameters
    ----------
    slots, keyid_bits_max, pa_width, c_bit_pos, asid_width, addr_width, tag_width,
    dram_tag_width, lanes, regs_per_round, order_depth, write_depth :
        Passed to :class:`~rtl.engine.engine.MEEngine`.
    """

    # (port, payload direction seen from outside the engine), in the order of §8.
    _PORTS = (("up_req", In), ("up_rsp", Out), ("dram_req", Out), ("dram_rsp", In),
              ("kp_req", In), ("kp_rsp", Out), ("cfg_req", In), ("cfg_rsp", Out),
              ("entropy", In))

    def __init__(self, *, slots=64, keyid_bits_max=6, pa_width=48, c_bit_pos=47, asid_width=6,
                 addr_width=64, tag_width=8, dram_tag_width=5, lanes=1, regs_per_round=1,
                 order_depth=None, write_depth=None, sbox=DEFAULT_SBOX):
        self.core = MEEngine(slots=slots, keyid_bits_max=keyid_bits_max, pa_width=pa_width,
                             c_bit_pos=c_bit_pos, asid_width=asid_width, addr_width=addr_width,
                             tag_width=tag_width, dram_tag_width=dram_tag_width, lanes=lanes,
                             regs_per_round=regs_per_round, order_depth=order_depth,
                             write_depth=write_depth, sbox=sbox)
        members = {}
        for name, flow in self._PORTS:
            sig = self.core.signature.members[name].signature
            members.update(_flat_ports(name, sig, flow))
        members["err_dram_rsp_tag"] = Out(1)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        for name, flow in self._PORTS:
            port = getattr(core, name)
            valid, ready = getattr(self, f"{name}_valid"), getattr(self, f"{name}_ready")
            if isinstance(port.payload, data.View):
                pairs = [(getattr(port.payload, f), getattr(self, f"{name}_{f}"))
                         for f, _ in port.payload.shape()]
            else:
                pairs = [(port.payload, getattr(self, f"{name}_data"))]
            if flow is In:
                m.d.comb += [port.valid.eq(valid), ready.eq(port.ready)]
                m.d.comb += [inner.eq(outer) for inner, outer in pairs]
            else:
                m.d.comb += [valid.eq(port.valid), port.ready.eq(ready)]
                m.d.comb += [outer.eq(inner) for inner, outer in pairs]
        m.d.comb += self.err_dram_rsp_tag.eq(core.err_dram_rsp_tag)
        return m
