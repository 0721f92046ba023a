"""A 2:1 folded AES-128 encryption: five two-cycle round units, each used twice per block.

For the XTS tweak, which the engine needs once per 64-byte line (one every two cycles at most,
with reads and writes both at full rate), a full ten-round pipeline is twice the hardware it
needs. :class:`AESEncryptFolded` keeps the round structure of the ``"split"``/``"ebr"``
pipelines (:mod:`rtl.aes.pipeline`: SubBytes over two cycles, the key step over two cycles)
but builds only five round units in a ring. Unit ``u`` runs round ``u + 1`` on a block's first
pass and round ``u + 6`` on its second; the key step's Rcon follows the pass bit that travels
with the block, and the last unit skips MixColumns and adds the last round key on the second
pass, where the block leaves.

A block re-entering unit 0 for its second pass has priority over a new block, so ``i.ready``
is low in the cycles where one does (``ready`` depends only on registers, never on ``i``).
Every accepted block leaves exactly :attr:`latency` = ``10 * regs_per_round`` cycles later;
the sustained rate is one block every two cycles.

``regs_per_round=3`` registers each unit's output as the pipelines' three-register round does
(:mod:`rtl.aes.pipeline`): the state leaves a unit as ``MixColumns(ShiftRows(S)) ^ rk`` (unit 4
on the second pass: without MixColumns), so the next unit's first cycle holds only its
S-boxes' first halves (and unit 0's choice between a returning and a new block).
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from . import reference
from .key_schedule import PipelinedKeyExpansionStep
from .pipeline import input_layout, output_layout
from .round import MixColumns, PipelinedSubBytes, ShiftRows
from .sbox_rom import RegisteredSubBytes

__all__ = ["AESEncryptFolded"]

_UNITS = 5


class AESEncryptFolded(wiring.Component):
    """AES-128 encryption at one block per two cycles from five round units.

    Parameters
    ----------
    tag_width : int
        Width of the sideband that travels with each block.
    sbox : {"split", "ebr"}
        SubBytes of the units: LUT S-boxes cut by a register, or block-RAM lookups (40 EBR).
    regs_per_round : {2, 3}
        Registers per round, as in :class:`~rtl.aes.pipeline.AESEncryptPipeline`.

    Members
    -------
    i : ``In(stream.Signature(input_layout(tag_width)))``
        Plaintext, key, tag; ``ready`` is low when a block re-enters for its second pass.
    o : ``Out(stream.Signature(output_layout(tag_width), always_ready=True))``
        Ciphertext, :attr:`latency` cycles after the transfer on ``i``.

    Attributes
    ----------
    latency : int
        ``2 * 5 * regs_per_round``: 20 or 30.
    interval : int
        2: the sustained input rate is one block every ``interval`` cycles.
    """

    interval = 2

    def __init__(self, *, tag_width=0, sbox="split", regs_per_round=2):
        if sbox not in ("split", "ebr"):
            self._MustUse__silence = True
            raise ValueError(f"sbox must be 'split' or 'ebr', not {sbox!r}")
        if regs_per_round not in (2, 3):
            self._MustUse__silence = True
            raise ValueError(f"regs_per_round must be 2 or 3, not {regs_per_round!r}")
        self.tag_width = tag_width
        self.sbox = sbox
        self.regs_per_round = regs_per_round
        self.latency = 2 * _UNITS * regs_per_round
        super().__init__({
            "i": In(stream.Signature(input_layout(tag_width))),
            "o": Out(stream.Signature(output_layout(tag_width), always_ready=True)),
        })

    def __repr__(self):
        return (f"AESEncryptFolded(tag_width={self.tag_width}, sbox={self.sbox!r}, "
                f"regs_per_round={self.regs_per_round})")

    def elaborate(self, platform):
        if self.regs_per_round == 3:
            return self._elaborate_three_cycle()
        m = Module()
        sub_bytes_cls = RegisteredSubBytes if self.sbox == "ebr" else PipelinedSubBytes

        # Unit 0's input: the block coming back for its second pass, else a new one.
        loop_valid = Signal()
        loop_state = Signal(128)
        loop_key = Signal(128)
        loop_tag = Signal(self.tag_width)
        m.d.comb += self.i.ready.eq(~loop_valid)
        valid = Mux(loop_valid, 1, self.i.valid)
        second = loop_valid
        state = Mux(loop_valid, loop_state, self.i.payload.block)
        key = Mux(loop_valid, loop_key, self.i.payload.key)
        tag = Mux(loop_valid, loop_tag, self.i.payload.tag)

        for u in range(_UNITS):
            sb = m.submodules[f"u{u}_sub_bytes"] = sub_bytes_cls()
            ks = m.submodules[f"u{u}_key_step"] = PipelinedKeyExpansionStep(
                rcon=(reference.RCON[u + 1], reference.RCON[u + 1 + _UNITS]))
            m.d.comb += [sb.i.eq(state ^ key), ks.i.eq(key), ks.rcon_sel.eq(second),
                         sb.en.eq(valid), ks.en.eq(valid)]
            side = {"valid": valid, "second": second, "tag": tag}
            for stage in range(sb.latency):
                # Loaded only for a valid block, zeros otherwise (as in rtl.aes.pipeline).
                side_q = {"valid": Signal(name=f"u{u}_{stage}_valid"),
                          "second": Signal(name=f"u{u}_{stage}_second"),
                          "tag": Signal(self.tag_width, name=f"u{u}_{stage}_tag")}
                m.d.sync += [side_q[k].eq(side[k] if k == "valid" else Mux(side["valid"], side[k], 0))
                             for k in side]
                side = side_q
            sr = m.submodules[f"u{u}_shift_rows"] = ShiftRows()
            mc = m.submodules[f"u{u}_mix_columns"] = MixColumns()
            m.d.comb += [sr.i.eq(sb.o), mc.i.eq(sr.o)]
            valid, second, tag = side["valid"], side["second"], side["tag"]
            state, key = mc.o, ks.o

        # After unit 4: first pass -> back to unit 0; second pass (round 10) -> out, without
        # MixColumns and with the last round key added.
        m.d.comb += [
            loop_valid.eq(valid & ~second),
            loop_state.eq(state),
            loop_key.eq(key),
            loop_tag.eq(tag),
            self.o.valid.eq(valid & second),
            self.o.payload.block.eq(sr.o ^ key),
            self.o.payload.tag.eq(tag),
        ]
        return m

    def _sub_bytes(self):
        if self.sbox == "ebr":
            return RegisteredSubBytes(registered_output=True)
        return PipelinedSubBytes()

    @staticmethod
    def _register(m, name, values):
        """Register *values* (with ``valid``): loaded only for a valid block, zeros otherwise."""
        out = {}
        for key, value in values.items():
            reg = Signal(len(value), name=f"{name}_{key}")
            m.d.sync += reg.eq(value if key == "valid" else Mux(values["valid"], value, 0))
            out[key] = reg
        return out

    def _elaborate_three_cycle(self):
        # Unit u: cycle 1 addresses the S-boxes with the registered, key-added state (unit 0:
        # the returning block, else the new block ^ key); cycles 2-3 finish them and the key
        # step; the unit's output register takes MixColumns(ShiftRows(S)) ^ rk.
        m = Module()
        loop = {"valid": Signal(), "state": Signal(128), "key": Signal(128),
                "tag": Signal(self.tag_width)}
        m.d.comb += self.i.ready.eq(~loop["valid"])
        new = self.i.payload
        cur = {"valid": Mux(loop["valid"], 1, self.i.valid),
               "second": loop["valid"],
               "state": Mux(loop["valid"], loop["state"], new.block ^ new.key),
               "key": Mux(loop["valid"], loop["key"], new.key),
               "tag": Mux(loop["valid"], loop["tag"], new.tag)}
        for u in range(_UNITS):
            sb = m.submodules[f"u{u}_sub_bytes"] = self._sub_bytes()
            ks = m.submodules[f"u{u}_key_step"] = PipelinedKeyExpansionStep(
                rcon=(reference.RCON[u + 1], reference.RCON[u + 1 + _UNITS]))
            m.d.comb += [sb.i.eq(cur["state"]), ks.i.eq(cur["key"]),
                         ks.rcon_sel.eq(cur["second"]), sb.en.eq(cur["valid"]),
                         ks.en.eq(cur["valid"])]
            side = {k: cur[k] for k in ("valid", "second", "tag")}
            for stage in range(sb.latency):
                side = self._register(m, f"u{u}_{stage}", side)
            sr = m.submodules[f"u{u}_shift_rows"] = ShiftRows()
            mc = m.submodules[f"u{u}_mix_columns"] = MixColumns()
            m.d.comb += [sr.i.eq(sb.o), mc.i.eq(sr.o)]
            # Round 10 (unit 4, second pass) has no MixColumns.
            mixed = Mux(side["second"], sr.o, mc.o) if u == _UNITS - 1 else mc.o
            cur = self._register(m, f"u{u}_out", {**side, "state": mixed ^ ks.o, "key": ks.o})

        # After unit 4: first pass -> back to unit 0; second pass (round 10) -> out.
        m.d.comb += [
            loop["valid"].eq(cur["valid"] & ~cur["second"]),
            loop["state"].eq(cur["state"]),
            loop["key"].eq(cur["key"]),
            loop["tag"].eq(cur["tag"]),
            self.o.valid.eq(cur["valid"] & cur["second"]),
            self.o.payload.block.eq(cur["state"]),
            self.o.payload.tag.eq(cur["tag"]),
        ]
        return m
