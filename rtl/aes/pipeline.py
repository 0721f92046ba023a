"""Fully pipelined AES-128 encrypt and decrypt pipelines: one block per cycle, a key per block.

Both pipelines take a stream of ``{block, key, tag}`` and produce a stream of ``{block, tag}``.
Neither stream has backpressure (``always_ready``): a block entering on a cycle with ``i.valid``
leaves exactly :attr:`latency` cycles later with ``o.valid``; ``valid`` and ``tag`` travel with
the data through every register stage. A stage loads only for a valid block and holds zeros
otherwise: an idle pipeline holds no key and no value derived from one. The key schedule runs
in the pipeline next to the data, one round key per stage, so consecutive blocks may use
unrelated keys.

Stage structure (``regs_per_round=1``; docs/aes.md has the diagrams). Each round stage starts
with the AddRoundKey of the previous round, so the round key it needs is already registered
and the key schedule never sits in front of the data path:

- encrypt stage ``r`` (1..10): ``t = MixColumns(ShiftRows(SubBytes(t ^ rk[r-1])))``, while
  ``rk[r] = KeyExpansionStep(rk[r-1])``; stage 10 omits MixColumns and adds ``rk[10]``.
- decrypt stage ``k`` (1..10), holding ``rk[r]`` with ``r = 11 - k``:
  ``t = InvSubBytes(InvShiftRows(InvMixColumns(t ^ rk[r])))`` (no InvMixColumns in stage 1),
  while ``rk[r-1] = InvKeyExpansionStep(rk[r])``; stage 10 adds ``rk[0]``.

``regs_per_round=2`` adds a register in the middle of every stage: after SubBytes (encrypt;
the key step sits in the first half) or after InvMixColumns (decrypt; the key step sits in the
second half), which roughly balances the two halves.

``sbox="ebr"`` (requires ``regs_per_round=2``) is the FPGA style: SubBytes is a block-RAM
lookup (:class:`~rtl.aes.sbox_rom.RegisteredSubBytes`, two registers: the block RAM's address
register and its output register), so a round is two cycles, and the key schedule is
:class:`~rtl.aes.key_schedule.PipelinedKeyExpansionStep` (its S-boxes cut in half by a
register). Per stage the combinational path is (Inv)MixColumns + AddRoundKey into a block RAM
address, or half a composite S-box plus an XOR. ``sbox="split"`` is the same round in LUTs
(:class:`~rtl.aes.round.PipelinedSubBytes`: each S-box cut in half by a register). The last
AddRoundKey sits after the last register (one XOR level on the output), which keeps the
latency at 20.

Latency is ``10 * regs_per_round`` cycles: 10 or 20.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from . import reference
from .key_schedule import (
    InvKeyExpansionStep,
    KeyExpansionStep,
    PipelinedInvKeyExpansionStep,
    PipelinedKeyExpansionStep,
)
from .round import (
    InvMixColumns,
    InvShiftRows,
    InvSubBytes,
    MixColumns,
    PipelinedSubBytes,
    ShiftRows,
    SubBytes,
)
from .sbox import DEFAULT_SBOX, TWO_CYCLE_SBOX_IMPLS, check_sbox_impl
from .sbox_rom import RegisteredSubBytes

__all__ = ["AESEncryptPipeline", "AESDecryptPipeline", "input_layout", "output_layout",
           "pipeline_latency"]


def input_layout(tag_width):
    """Payload of a pipeline's input stream: ``block`` [127:0], ``key`` [255:128], ``tag``."""
    return data.StructLayout({"block": 128, "key": 128, "tag": tag_width})


def pipeline_latency(regs_per_round):
    """Latency in cycles of either pipeline: block in cycle ``t`` leaves in ``t + latency``."""
    return 10 * regs_per_round


def output_layout(tag_width):
    """Payload of a pipeline's output stream: ``block`` [127:0], ``tag``."""
    return data.StructLayout({"block": 128, "tag": tag_width})


class _Pipeline(wiring.Component):
    def __init__(self, *, tag_width=0, regs_per_round=1, sbox=DEFAULT_SBOX):
        if not isinstance(tag_width, int) or tag_width < 0:
            self._MustUse__silence = True  # never elaborated: see check_sbox_impl
            raise TypeError(f"tag_width must be a non-negative int, not {tag_width!r}")
        if regs_per_round not in (1, 2):
            self._MustUse__silence = True
            raise ValueError(f"regs_per_round must be 1 or 2, not {regs_per_round!r}")
        self.tag_width = tag_width
        self.regs_per_round = regs_per_round
        self.sbox = check_sbox_impl(sbox, owner=self)
        if sbox in TWO_CYCLE_SBOX_IMPLS and regs_per_round != 2:
            self._MustUse__silence = True
            raise ValueError(f"sbox={sbox!r} has two registers per round: use regs_per_round=2")
        super().__init__({
            "i": In(stream.Signature(input_layout(tag_width), always_ready=True)),
            "o": Out(stream.Signature(output_layout(tag_width), always_ready=True)),
        })

    @property
    def latency(self):
        """Cycles from ``i.valid`` to the matching ``o.valid``: ``10 * regs_per_round``."""
        return pipeline_latency(self.regs_per_round)

    def __repr__(self):
        return (f"{type(self).__name__}(tag_width={self.tag_width}, "
                f"regs_per_round={self.regs_per_round}, sbox={self.sbox!r})")

    def _register(self, m, name, values):
        """Register each of *values* (a dict of name -> value, with ``valid``); return the
        registered signals.

        A stage loads its data, key and tag only for a valid block and loads zeros otherwise,
        and a reset clears it: an idle pipeline holds zeros, never a key or a value derived
        from one, and nothing is computed without a request (docs/security.md G3).
        """
        valid = values["valid"]
        out = {}
        for key, value in values.items():
            reg = Signal(len(value), name=f"{name}_{key}")
            m.d.sync += reg.eq(value if key == "valid" else Mux(valid, value, 0))
            out[key] = reg
        return out

    def _sub_bytes(self, inverse=False):
        """The two-cycle SubBytes of the ``"ebr"`` (block RAM) or ``"split"`` (LUT) style."""
        cls = RegisteredSubBytes if self.sbox == "ebr" else PipelinedSubBytes
        return cls(inverse=inverse)

    def _delay(self, m, name, values, cycles):
        """*values* (valid and tag) through *cycles* registers, as :meth:`_register`."""
        for n in range(cycles):
            values = self._register(m, f"{name}_{n}", values)
        return values


class AESEncryptPipeline(_Pipeline):
    """Fully pipelined AES-128 encryption, one block per cycle, each block with its own key.

    Parameters
    ----------
    tag_width : int
        Width of the user sideband that travels with each block (0 allowed).
    regs_per_round : {1, 2}
        Register stages per round; :attr:`latency` is ``10 * regs_per_round``.
    sbox : {"composite", "table", "ebr", "split"}
        S-box implementation (:mod:`rtl.aes.sbox`); the default is the smaller on LUT4 FPGAs.

    Members
    -------
    i : ``In(stream.Signature(input_layout(tag_width), always_ready=True))``
        Plaintext and cipher key (byte 0 in bits [7:0]).
    o : ``Out(stream.Signature(output_layout(tag_width), always_ready=True))``
        Ciphertext, :attr:`latency` cycles later.

    Attributes
    ----------
    latency : int
        Cycles from ``i.valid`` to ``o.valid``.
    """

    def elaborate(self, platform):
        if self.sbox in TWO_CYCLE_SBOX_IMPLS:
            return self._elaborate_two_cycle()
        m = Module()
        cur = {"valid": self.i.valid, "state": self.i.payload.block, "key": self.i.payload.key,
               "tag": self.i.payload.tag}
        for r in range(1, 11):
            sb = m.submodules[f"r{r}_sub_bytes"] = SubBytes(sbox=self.sbox)
            ks = m.submodules[f"r{r}_key_step"] = KeyExpansionStep(rcon=reference.RCON[r],
                                                                   sbox=self.sbox)
            sr = m.submodules[f"r{r}_shift_rows"] = ShiftRows()
            m.d.comb += [sb.i.eq(cur["state"] ^ cur["key"]), ks.i.eq(cur["key"])]
            nxt = {"valid": cur["valid"], "state": sb.o, "key": ks.o, "tag": cur["tag"]}
            if self.regs_per_round == 2:
                nxt = self._register(m, f"r{r}a", nxt)
            m.d.comb += sr.i.eq(nxt["state"])
            if r != 10:
                mc = m.submodules[f"r{r}_mix_columns"] = MixColumns()
                m.d.comb += mc.i.eq(sr.o)
                nxt = {**nxt, "state": mc.o}
            else:
                nxt = {"valid": nxt["valid"], "state": sr.o ^ nxt["key"], "tag": nxt["tag"]}
            cur = self._register(m, f"r{r}", nxt)
        m.d.comb += [
            self.o.valid.eq(cur["valid"]),
            self.o.payload.block.eq(cur["state"]),
            self.o.payload.tag.eq(cur["tag"]),
        ]
        return m

    def _elaborate_two_cycle(self):
        # Round r: cycle 1 addresses the block RAMs with MixColumns(ShiftRows(s)) ^ rk[r-1]
        # (the plain block ^ key in round 1) while the key step computes its S-box first
        # halves; cycle 2 reads the block RAMs into the output registers and registers rk[r].
        m = Module()
        side = {"valid": self.i.valid, "tag": self.i.payload.tag}
        state, key = self.i.payload.block, self.i.payload.key
        for r in range(1, 11):
            sb = m.submodules[f"r{r}_sub_bytes"] = self._sub_bytes()
            ks = m.submodules[f"r{r}_key_step"] = PipelinedKeyExpansionStep(rcon=reference.RCON[r])
            m.d.comb += [sb.i.eq(state ^ key), ks.i.eq(key), sb.en.eq(side["valid"]),
                         ks.en.eq(side["valid"])]
            side = self._delay(m, f"r{r}", side, sb.latency)
            sr = m.submodules[f"r{r}_shift_rows"] = ShiftRows()
            m.d.comb += sr.i.eq(sb.o)
            key = ks.o
            if r != 10:
                mc = m.submodules[f"r{r}_mix_columns"] = MixColumns()
                m.d.comb += mc.i.eq(sr.o)
                state = mc.o
            else:
                state = sr.o ^ key
        m.d.comb += [
            self.o.valid.eq(side["valid"]),
            self.o.payload.block.eq(state),
            self.o.payload.tag.eq(side["tag"]),
        ]
        return m


class AESDecryptPipeline(_Pipeline):
    """Fully pipelined AES-128 decryption, one block per cycle, each block with its own key.

    The key input is the **last round key** (round key 10, ``reference.last_round_key(key)``
    or :class:`~rtl.aes.key_schedule.AESLastRoundKey`); the key schedule runs backwards
    alongside the inverse rounds (docs/architecture.md §7).

    Parameters
    ----------
    tag_width : int
        Width of the user sideband that travels with each block (0 allowed).
    regs_per_round : {1, 2}
        Register stages per round; :attr:`latency` is ``10 * regs_per_round``.
    sbox : {"composite", "table", "ebr", "split"}
        S-box implementation (:mod:`rtl.aes.sbox`).

    Members
    -------
    i : ``In(stream.Signature(input_layout(tag_width), always_ready=True))``
        Ciphertext and round key 10.
    o : ``Out(stream.Signature(output_layout(tag_width), always_ready=True))``
        Plaintext, :attr:`latency` cycles later.

    Attributes
    ----------
    latency : int
        Cycles from ``i.valid`` to ``o.valid``.
    """

    def elaborate(self, platform):
        if self.sbox in TWO_CYCLE_SBOX_IMPLS:
            return self._elaborate_two_cycle()
        m = Module()
        cur = {"valid": self.i.valid, "state": self.i.payload.block, "key": self.i.payload.key,
               "tag": self.i.payload.tag}
        for k in range(1, 11):
            r = 11 - k          # this stage holds round key r and derives round key r - 1
            u = cur["state"] ^ cur["key"]
            if k != 1:
                imc = m.submodules[f"r{r}_inv_mix_columns"] = InvMixColumns()
                m.d.comb += imc.i.eq(u)
                u = imc.o
            isr = m.submodules[f"r{r}_inv_shift_rows"] = InvShiftRows()
            m.d.comb += isr.i.eq(u)
            nxt = {"valid": cur["valid"], "state": isr.o, "key": cur["key"], "tag": cur["tag"]}
            if self.regs_per_round == 2:
                nxt = self._register(m, f"r{r}a", nxt)
            isb = m.submodules[f"r{r}_inv_sub_bytes"] = InvSubBytes(sbox=self.sbox)
            ks = m.submodules[f"r{r}_inv_key_step"] = InvKeyExpansionStep(
                rcon=reference.RCON[r], sbox=self.sbox)
            m.d.comb += [isb.i.eq(nxt["state"]), ks.i.eq(nxt["key"])]
            if k != 10:
                nxt = {**nxt, "state": isb.o, "key": ks.o}
            else:
                nxt = {"valid": nxt["valid"], "state": isb.o ^ ks.o, "tag": nxt["tag"]}
            cur = self._register(m, f"r{r}", nxt)
        m.d.comb += [
            self.o.valid.eq(cur["valid"]),
            self.o.payload.block.eq(cur["state"]),
            self.o.payload.tag.eq(cur["tag"]),
        ]
        return m

    def _elaborate_two_cycle(self):
        # Stage k (round key r = 11 - k): cycle 1 addresses the block RAMs with
        # InvShiftRows(InvMixColumns(s ^ rk[r])) (no InvMixColumns in stage 1) while the key
        # step starts rk[r-1]; cycle 2 reads the inverse S-boxes and registers rk[r-1].
        m = Module()
        side = {"valid": self.i.valid, "tag": self.i.payload.tag}
        state, key = self.i.payload.block, self.i.payload.key
        for k in range(1, 11):
            r = 11 - k
            u = state ^ key
            if k != 1:
                imc = m.submodules[f"r{r}_inv_mix_columns"] = InvMixColumns()
                m.d.comb += imc.i.eq(u)
                u = imc.o
            isr = m.submodules[f"r{r}_inv_shift_rows"] = InvShiftRows()
            isb = m.submodules[f"r{r}_inv_sub_bytes"] = self._sub_bytes(inverse=True)
            ks = m.submodules[f"r{r}_inv_key_step"] = PipelinedInvKeyExpansionStep(
                rcon=reference.RCON[r])
            m.d.comb += [isr.i.eq(u), isb.i.eq(isr.o), ks.i.eq(key), isb.en.eq(side["valid"]),
                         ks.en.eq(side["valid"])]
            side = self._delay(m, f"r{r}", side, isb.latency)
            state, key = isb.o, ks.o
        m.d.comb += [
            self.o.valid.eq(side["valid"]),
            self.o.payload.block.eq(state ^ key),
            self.o.payload.tag.eq(side["tag"]),
        ]
        return m
