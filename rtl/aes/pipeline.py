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

``regs_per_round=3`` (two-cycle styles only) registers every round's output too: the round is
SubBytes' two registers and a third after ``(Inv)MixColumns``/AddRoundKey, so the block RAM's
own output register can be used (:class:`~rtl.aes.sbox_rom.SBoxROM`: 0.95 ns clock-to-out
instead of 5.8 ns) and each of the two long routes of a block-RAM round, out of one round's
RAMs and into the next round's, has a cycle of its own. In that round the third register holds
the AES round function's result with its AddRoundKey applied, and the key step
(:class:`~rtl.aes.key_schedule.PipelinedKeyExpansionStep`, two cycles) is followed by one
register that keeps the key beside the data:

- encrypt round ``r``: cycle 1 addresses the S-boxes with the registered state (the plain
  ``block ^ key`` in round 1), cycles 2 and 3 read them, and the third register takes
  ``MixColumns(ShiftRows(S)) ^ rk[r]`` (round 10: ``ShiftRows(S) ^ rk[10]``);
- decrypt stage ``k``: cycle 1 addresses the inverse S-boxes with
  ``InvShiftRows(InvMixColumns(s))`` (no InvMixColumns in stage 1, whose ``s`` is
  ``block ^ rk[10]``), and the third register takes ``InvSubBytes(.) ^ rk[r-1]``.

``regs_per_round=4`` adds one more fabric register, on the S-box output before
(Inv)MixColumns: the route out of a round's block RAMs then has a cycle to itself, apart from
the linear layer and from the route into the next round's RAMs (measured at three registers:
a 6.4 ns route from a RAM output to MixColumns logic placed near the next round's RAMs set the
clock, docs/fpga.md). The round key and the key step's S-box bytes wait one register with it,
so the key steps keep their timing against the data. The decrypt pipeline also splits
InvMixColumns (``MixColumns . InvMixPremix``, :mod:`rtl.aes.round`) across its round
register: the state is registered premixed and MixColumns is left for the cycle that
addresses the next round's RAMs (InvMixColumns whole there was 6 LUT4 levels and 94.9 MHz).

Latency is ``10 * regs_per_round`` cycles: 10, 20, 30 or 40.
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
    SharedKeyExpansionStep,
    group_bytes,
)
from .round import (
    InvMixColumns,
    InvMixPremix,
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
           "pipeline_latency", "REGS_PER_ROUND"]


def input_layout(tag_width):
    """Payload of a pipeline's input stream: ``block`` [127:0], ``key`` [255:128], ``tag``."""
    return data.StructLayout({"block": 128, "key": 128, "tag": tag_width})


#: The accepted ``regs_per_round`` values; 3 and 4 only with the two-cycle S-box styles.
REGS_PER_ROUND = (1, 2, 3, 4)


def pipeline_latency(regs_per_round):
    """Latency in cycles of either pipeline: block in cycle ``t`` leaves in ``t + latency``."""
    return 10 * regs_per_round


def output_layout(tag_width):
    """Payload of a pipeline's output stream: ``block`` [127:0], ``tag``."""
    return data.StructLayout({"block": 128, "tag": tag_width})


class _Pipeline(wiring.Component):
    def __init__(self, *, tag_width=0, regs_per_round=1, sbox=DEFAULT_SBOX, blocks_per_key=1):
        if not isinstance(tag_width, int) or tag_width < 0:
            self._MustUse__silence = True  # never elaborated: see check_sbox_impl
            raise TypeError(f"tag_width must be a non-negative int, not {tag_width!r}")
        if regs_per_round not in REGS_PER_ROUND:
            self._MustUse__silence = True
            raise ValueError(f"regs_per_round must be 1, 2, 3 or 4, not {regs_per_round!r}")
        self.tag_width = tag_width
        self.regs_per_round = regs_per_round
        self.sbox = check_sbox_impl(sbox, owner=self)
        if sbox in TWO_CYCLE_SBOX_IMPLS and regs_per_round == 1:
            self._MustUse__silence = True
            raise ValueError(f"sbox={sbox!r} has two registers per round: use regs_per_round=2 "
                             "or 3")
        if sbox not in TWO_CYCLE_SBOX_IMPLS and regs_per_round >= 3:
            self._MustUse__silence = True
            raise ValueError(f"regs_per_round={regs_per_round} needs a two-cycle S-box style "
                             f"{TWO_CYCLE_SBOX_IMPLS}, not sbox={sbox!r}")
        if blocks_per_key not in (1, 2, 4) or (blocks_per_key > 1 and regs_per_round < 3):
            self._MustUse__silence = True
            raise ValueError(f"blocks_per_key must be 1, or 2 or 4 with regs_per_round=3 or 4, "
                             f"not {blocks_per_key!r}")
        self.blocks_per_key = blocks_per_key
        super().__init__({
            "i": In(stream.Signature(input_layout(tag_width), always_ready=True)),
            "o": Out(stream.Signature(output_layout(tag_width), always_ready=True)),
        })

    @property
    def latency(self):
        """Cycles from ``i.valid`` to the matching ``o.valid``: ``10 * regs_per_round``."""
        return pipeline_latency(self.regs_per_round)

    def __repr__(self):
        shared = f", blocks_per_key={self.blocks_per_key}" if self.blocks_per_key > 1 else ""
        return (f"{type(self).__name__}(tag_width={self.tag_width}, "
                f"regs_per_round={self.regs_per_round}, sbox={self.sbox!r}{shared})")

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
        """The two-cycle SubBytes of the ``"ebr"`` (block RAM) or ``"split"`` (LUT) style.

        With three registers per round a fabric register follows the S-boxes, so the block
        RAM's own output register may be used for the second (``registered_output``).
        """
        if self.sbox == "ebr":
            return RegisteredSubBytes(inverse=inverse,
                                      registered_output=self.regs_per_round >= 3)
        return PipelinedSubBytes(inverse=inverse)

    def _groups(self, m):
        """``first``: the block on ``i`` starts a group of :attr:`blocks_per_key` (a counter
        of valid blocks; the groups are aligned from reset)."""
        count = Signal(range(self.blocks_per_key), name="group_count")
        with m.If(self.i.valid):
            m.d.sync += count.eq(Mux(count == self.blocks_per_key - 1, 0, count + 1))
        return self.i.valid & (count == 0)

    def _round_key(self, m, name, stage, rcon, inverse, sides, key, key_bytes, prev_side):
        """The key step (submodule *name*) of *stage* (1..10) of a three-register round, from
        *key*: ``(step, its round key, the S-box bytes for the next step)``.

        *sides* are the stage's side signals (``valid``, ``tag``, ``first``) in its three
        cycles: at its input, then registered once and twice; *prev_side* the previous
        stage's last. Per block (``blocks_per_key=1``, and stage 1
        always): a two-cycle step whose output, registered again, travels with the block.
        Shared (stages 2-10 with groups): a
        :class:`~rtl.aes.key_schedule.SharedKeyExpansionStep` started one cycle ahead of the
        group's first block (when that block is in the previous stage's last cycle), reading
        the previous round's key while the group's first two blocks pass by, and its S-box
        bytes from the previous step's byte register (*key_bytes*).
        """
        shared = self.blocks_per_key > 1
        if not shared or stage == 1:
            cls = PipelinedInvKeyExpansionStep if inverse else PipelinedKeyExpansionStep
            ks = m.submodules[name] = cls(rcon=rcon)
            m.d.comb += [ks.i.eq(key), ks.en.eq(sides[0]["valid"])]
            next_bytes = None
            if shared and self.regs_per_round == 4:
                # A cycle later, from the registered key (the next step starts a cycle later).
                word = ks.o[96:128] ^ (ks.o[64:96] if inverse else 0)
                next_bytes = group_bytes(m, word, sides[2]["valid"] & sides[2]["first"],
                                         f"{name}_next_bytes")
            elif shared:
                next_bytes = group_bytes(m, ks.next_word,
                                         sides[1]["valid"] & sides[1]["first"],
                                         f"{name}_next_bytes")
            return ks, ks.o, next_bytes
        ks = m.submodules[name] = SharedKeyExpansionStep(
            rcon=rcon, inverse=inverse, uses=self.blocks_per_key,
            late_bytes=self.regs_per_round == 4)
        m.d.comb += [ks.i.eq(key), ks.i_bytes.eq(key_bytes),
                     ks.start.eq(prev_side["valid"] & prev_side["first"]),
                     ks.use.eq(sides[2]["valid"])]
        return ks, ks.o, ks.o_bytes

    def _late(self, m, name, side, sub_out, rk, key_bytes):
        """The fourth register of a four-register round: ``(side, S-box output, round key,
        key bytes)`` one cycle later (three registers: unchanged).

        The S-box output takes a fabric register of its own, so that the route out of the
        block RAM and the (Inv)MixColumns logic are in different cycles. The round key rides
        along with the block (what the block saw a cycle earlier), and the next key step's
        S-box bytes come a cycle later too (``late_bytes``, from the held key), so every key
        step keeps its timing against the data.
        """
        if self.regs_per_round != 4:
            return side, sub_out, rk, key_bytes
        late = self._register(m, name, {**side, "sub": sub_out, "rk": rk})
        side = {k: v for k, v in late.items() if k not in ("sub", "rk")}
        return side, late["sub"], late["rk"], key_bytes

    def _stages(self, m, name, values, cycles):
        """*values* and their copies through *cycles* registers (as :meth:`_register`): a list
        of ``cycles + 1`` dicts, the last the most delayed."""
        stages = [values]
        for n in range(cycles):
            stages.append(self._register(m, f"{name}_{n}", stages[-1]))
        return stages

    def _delay(self, m, name, values, cycles):
        """*values* (valid and tag) through *cycles* registers, as :meth:`_register`."""
        return self._stages(m, name, values, cycles)[-1]

    def _round_register_input(self, m):
        """The first stage's values of a three- or four-register round: the input block with
        its first AddRoundKey, and (with :attr:`blocks_per_key` > 1) the group-start flag."""
        cur = {"valid": self.i.valid, "state": self.i.payload.block ^ self.i.payload.key,
               "tag": self.i.payload.tag}
        if self.blocks_per_key > 1:
            cur["first"] = self._groups(m)
        return cur

    def _drive_output(self, m, cur):
        """``o`` from the last stage's ``valid``, ``state`` and ``tag``."""
        m.d.comb += [
            self.o.valid.eq(cur["valid"]),
            self.o.payload.block.eq(cur["state"]),
            self.o.payload.tag.eq(cur["tag"]),
        ]


class AESEncryptPipeline(_Pipeline):
    """Fully pipelined AES-128 encryption, one block per cycle, each block with its own key.

    Parameters
    ----------
    tag_width : int
        Width of the user sideband that travels with each block (0 allowed).
    regs_per_round : {1, 2, 3, 4}
        Register stages per round; :attr:`latency` is ``10 * regs_per_round`` (3 and 4: the
        two-cycle styles only).
    blocks_per_key : {1, 2, 4}
        Blocks come in groups of this many on consecutive cycles under one key (the blocks
        of a line through one pipeline, ``4 // lanes``); with 2 or 4 (and 3 or 4 registers
        per round) rounds 2-10 compute each round key once per group, from two S-boxes
        (:class:`~rtl.aes.key_schedule.SharedKeyExpansionStep`). Groups are counted from
        reset; the key may change only between groups.
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
        self._drive_output(m, cur)
        return m

    def _elaborate_two_cycle(self):
        if self.regs_per_round >= 3:
            return self._elaborate_with_round_register()
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

    def _elaborate_with_round_register(self):
        # Round r: cycle 1 addresses the S-boxes with the registered, key-added state while
        # the key step starts rk[r]; cycles 2-3 read them (and finish rk[r]); the third
        # register takes MixColumns(ShiftRows(S)) ^ rk[r]. Per block, rk[r] is registered
        # beside the state; shared, it waits in the next round's key step (_round_key).
        m = Module()
        shared = self.blocks_per_key > 1
        cur = self._round_register_input(m)
        key, key_bytes, prev_side = self.i.payload.key, None, None
        for r in range(1, 11):
            sb = m.submodules[f"r{r}_sub_bytes"] = self._sub_bytes()
            m.d.comb += [sb.i.eq(cur["state"]), sb.en.eq(cur["valid"])]
            sides = self._stages(m, f"r{r}", {k: v for k, v in cur.items() if k != "state"},
                                 sb.latency)
            side = sides[-1]
            ks, rk, key_bytes = self._round_key(m, f"r{r}_key_step", r, reference.RCON[r],
                                                False, sides, key, key_bytes, prev_side)
            side, sub_out, rk, key_bytes = self._late(m, f"r{r}_late", side, sb.o, rk,
                                                      key_bytes)
            sr = m.submodules[f"r{r}_shift_rows"] = ShiftRows()
            m.d.comb += sr.i.eq(sub_out)
            if r != 10:
                mc = m.submodules[f"r{r}_mix_columns"] = MixColumns()
                m.d.comb += mc.i.eq(sr.o)
                mixed = mc.o
            else:
                mixed = sr.o
            # The key for round r + 1: shared, round 2 reads round 1's per-block step output
            # directly (held by the group's first two blocks), later rounds the held register.
            # Per block, registered beside the state (not after round 10: rk[10] is used up).
            keep = {"key": rk} if (r != 10 and not shared) else {}
            prev_side = side
            cur = self._register(m, f"r{r}_out", {**side, "state": mixed ^ rk, **keep})
            key = cur.get("key", rk)
        self._drive_output(m, cur)
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
    regs_per_round : {1, 2, 3, 4}
        Register stages per round; :attr:`latency` is ``10 * regs_per_round`` (3 and 4: the
        two-cycle styles only).
    blocks_per_key : {1, 2, 4}
        Blocks come in groups of this many on consecutive cycles under one key (the blocks
        of a line through one pipeline, ``4 // lanes``); with 2 or 4 (and 3 or 4 registers
        per round) rounds 2-10 compute each round key once per group, from two S-boxes
        (:class:`~rtl.aes.key_schedule.SharedKeyExpansionStep`). Groups are counted from
        reset; the key may change only between groups.
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
        self._drive_output(m, cur)
        return m

    def _elaborate_two_cycle(self):
        if self.regs_per_round >= 3:
            return self._elaborate_with_round_register()
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

    def _elaborate_with_round_register(self):
        # Stage k (round key r = 11 - k): cycle 1 addresses the inverse S-boxes with
        # InvShiftRows(InvMixColumns(s)), s already holding its AddRoundKey (stage 1: the
        # plain block ^ rk[10], no InvMixColumns), while the key step starts rk[r-1]; cycles
        # 2-3 read them; the third register takes InvSubBytes(.) ^ rk[r-1] (key steps as in
        # the encrypt pipeline).
        m = Module()
        shared = self.blocks_per_key > 1
        cur = self._round_register_input(m)
        key, key_bytes, prev_side = self.i.payload.key, None, None
        premixed = self.regs_per_round == 4
        for k in range(1, 11):
            r = 11 - k
            u = cur["state"]
            if k != 1:
                # Four registers: the state arrives premixed (InvMixPremix, before the round
                # register), so only MixColumns' half of InvMixColumns is left here.
                imc = m.submodules[f"r{r}_inv_mix_columns"] = (
                    MixColumns() if premixed else InvMixColumns())
                m.d.comb += imc.i.eq(u)
                u = imc.o
            isr = m.submodules[f"r{r}_inv_shift_rows"] = InvShiftRows()
            isb = m.submodules[f"r{r}_inv_sub_bytes"] = self._sub_bytes(inverse=True)
            m.d.comb += [isr.i.eq(u), isb.i.eq(isr.o), isb.en.eq(cur["valid"])]
            sides = self._stages(m, f"r{r}", {n: v for n, v in cur.items() if n != "state"},
                                 isb.latency)
            side = sides[-1]
            ks, rk, key_bytes = self._round_key(m, f"r{r}_inv_key_step", k, reference.RCON[r],
                                                True, sides, key, key_bytes, prev_side)
            side, sub_out, rk, key_bytes = self._late(m, f"r{r}_late", side, isb.o, rk,
                                                      key_bytes)
            keep = {"key": rk} if (k != 10 and not shared) else {}      # rk[0] is used up
            prev_side = side
            state = sub_out ^ rk
            if premixed and k != 10:
                pre = m.submodules[f"r{r}_inv_mix_premix"] = InvMixPremix()
                m.d.comb += pre.i.eq(state)
                state = pre.o
            cur = self._register(m, f"r{r}_out", {**side, "state": state, **keep})
            key = cur.get("key", rk)
        self._drive_output(m, cur)
        return m
