"""The AES-128 key schedule: one step forwards or backwards, and the iterative last-round-key unit.

Round key ``r`` is four little-endian 32-bit words ``w0..w3`` (``w0`` in bits [31:0], byte 0 of
each word in its low byte). One step forwards (FIPS-197 §5.2)::

    t  = SubWord(RotWord(w3)) ^ Rcon[r]
    w0' = w0 ^ t;  w1' = w1 ^ w0';  w2' = w2 ^ w1';  w3' = w3 ^ w2'

and backwards, from round key ``r`` to ``r - 1``::

    w3' = w3 ^ w2;  w2' = w2 ^ w1;  w1' = w1 ^ w0;  w0' = w0 ^ SubWord(RotWord(w3')) ^ Rcon[r]

Each step uses four S-boxes. The pipelines instantiate one step per round, so that every block
carries its own key; :class:`AESLastRoundKey` reuses one step ten times.
:class:`SharedKeyExpansionStep` is the step for blocks that come in groups under one key (the
four blocks of a line): two S-boxes used twice, once per group.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from . import reference
from .sbox import COMB_SBOX_IMPLS, DEFAULT_SBOX, PipelinedSBox, SBox, check_sbox_impl

__all__ = ["KeyExpansionStep", "InvKeyExpansionStep", "PipelinedKeyExpansionStep",
           "PipelinedInvKeyExpansionStep", "SharedKeyExpansionStep", "AESLastRoundKey",
           "group_bytes"]


def _word(v, n):
    return v[32 * n:32 * n + 32]


class _KeyStepBase(wiring.Component):
    _inverse = False

    def __init__(self, *, rcon=None, sbox=DEFAULT_SBOX):
        if rcon is not None and not (isinstance(rcon, int) and 0 <= rcon < 256):
            self._MustUse__silence = True  # never elaborated: see check_sbox_impl
            raise ValueError(f"rcon must be None or an 8-bit int, not {rcon!r}")
        self.rcon = rcon
        self.sbox = check_sbox_impl(sbox, owner=self, styles=COMB_SBOX_IMPLS)
        members = {"i": In(128), "o": Out(128)}
        if rcon is None:
            members["rcon_i"] = In(8)
        super().__init__(members)

    def __repr__(self):
        return f"{type(self).__name__}(rcon={self.rcon!r}, sbox={self.sbox!r})"

    def _sub_rot(self, m, word):
        """``SubWord(RotWord(word)) ^ rcon`` as a 32-bit signal."""
        rot = Cat(word[8:32], word[0:8])
        out = Signal(32)
        sboxes = []
        for n in range(4):
            s = m.submodules[f"sbox{n}"] = SBox(sbox=self.sbox)
            m.d.comb += s.i.eq(rot[8 * n:8 * n + 8])
            sboxes.append(s.o)
        # Assigned whole: see the note in rtl.aes.sbox on Icarus and partial assignments.
        m.d.comb += out.eq(Cat(*sboxes))
        rcon = self.rcon_i if self.rcon is None else Const(self.rcon, 8)
        return out ^ Cat(rcon, Const(0, 24))


class KeyExpansionStep(_KeyStepBase):
    """Round key ``r`` from round key ``r - 1``, combinational.

    Parameters
    ----------
    rcon : int or None
        ``Rcon[r]``; ``None`` adds an ``rcon_i`` input for iterative use.
    sbox : {"composite", "table"}
        S-box implementation (:mod:`rtl.aes.sbox`).

    Members
    -------
    i : ``In(128)``
        Round key ``r - 1``.
    rcon_i : ``In(8)``
        Only when ``rcon`` is ``None``.
    o : ``Out(128)``
        Round key ``r``.
    """

    def elaborate(self, platform):
        m = Module()
        w = [_word(self.i, n) for n in range(4)]
        t = self._sub_rot(m, w[3])
        w0 = w[0] ^ t
        w1 = w[1] ^ w0
        w2 = w[2] ^ w1
        w3 = w[3] ^ w2
        m.d.comb += self.o.eq(Cat(w0, w1, w2, w3))
        return m


class InvKeyExpansionStep(_KeyStepBase):
    """Round key ``r - 1`` from round key ``r``, combinational (the schedule run backwards).

    Parameters and members as :class:`KeyExpansionStep`, with ``i`` round key ``r`` and ``o``
    round key ``r - 1``; ``rcon`` is still ``Rcon[r]``.
    """

    def elaborate(self, platform):
        m = Module()
        w = [_word(self.i, n) for n in range(4)]
        p3 = Signal(32)
        m.d.comb += p3.eq(w[3] ^ w[2])
        p2 = w[2] ^ w[1]
        p1 = w[1] ^ w[0]
        p0 = w[0] ^ self._sub_rot(m, p3)
        m.d.comb += self.o.eq(Cat(p0, p1, p2, p3))
        return m


class _PipelinedKeyStepBase(wiring.Component):
    """A key step over two register stages, for the block-RAM pipelines (2 cycles per round).

    Cycle 1: the first halves of four :class:`~rtl.aes.sbox.PipelinedSBox` on the S-box input
    word, and the XOR terms that do not need the S-boxes, into registers. Cycle 2: the S-box
    second halves, Rcon and one XOR per bit, into the output register. No stage holds more than
    half an S-box plus two XOR levels.
    """

    latency = 2

    def __init__(self, *, rcon):
        choices = rcon if isinstance(rcon, tuple) else (rcon,)
        if not (1 <= len(choices) <= 2
                and all(isinstance(c, int) and 0 <= c < 256 for c in choices)):
            self._MustUse__silence = True  # never elaborated
            raise ValueError(f"rcon must be an 8-bit int or a pair of them, not {rcon!r}")
        self.rcon = rcon
        # next_word: the S-box word of the next step, of the key being registered (for a
        # SharedKeyExpansionStep after this one, which registers its bytes).
        members = {"i": In(128), "en": In(1), "o": Out(128), "next_word": Out(32)}
        if len(choices) == 2:
            # A folded pipeline runs two rounds on one step: rcon_sel picks rcon[1] (sampled
            # with i).
            members["rcon_sel"] = In(1)
        super().__init__(members)

    def __repr__(self):
        return f"{type(self).__name__}(rcon={self.rcon!r})"

    def _split(self, m, words):
        """``(sbox input word, [the four 32-bit terms])`` of the step; see the subclasses."""
        raise NotImplementedError

    def _combine(self, terms, t):
        """The new round key from the registered *terms* and ``t = SubWord(RotWord(.)) ^ rcon``."""
        raise NotImplementedError

    def elaborate(self, platform):
        m = Module()
        w = [_word(self.i, n) for n in range(4)]
        sbox_word, terms = self._split(m, w)
        rot = Cat(sbox_word[8:32], sbox_word[0:8])
        outs = []
        for n in range(4):
            s = m.submodules[f"sbox{n}"] = PipelinedSBox()
            m.d.comb += [s.i.eq(rot[8 * n:8 * n + 8]), s.en.eq(self.en)]
            outs.append(s.o)
        # Every register loads only for a valid request and holds zeros otherwise.
        en_q = Signal()
        terms_q = Signal(128)
        m.d.sync += [en_q.eq(self.en), terms_q.eq(Mux(self.en, Cat(*terms), 0))]
        if isinstance(self.rcon, tuple):
            sel_q = Signal()
            m.d.sync += sel_q.eq(self.rcon_sel & self.en)
            rcon = Mux(sel_q, self.rcon[1], self.rcon[0])
        else:
            rcon = Const(self.rcon, 8)
        t = Signal(32)
        m.d.comb += t.eq(Cat(*outs) ^ Cat(rcon, Const(0, 24)))
        new = Signal(128)
        m.d.comb += new.eq(self._combine([_word(terms_q, n) for n in range(4)], t))
        key_q = Signal(128)
        m.d.sync += key_q.eq(Mux(en_q, new, 0))
        m.d.comb += [self.o.eq(key_q), self.next_word.eq(self._next_word(new))]
        return m

    def _next_word(self, key):
        """The S-box word of the step after this one, of round key *key*."""
        raise NotImplementedError


class PipelinedKeyExpansionStep(_PipelinedKeyStepBase):
    """Round key ``r`` from round key ``r - 1``, :attr:`latency` = 2 cycles later.

    The registered terms are the prefix XORs ``w0, w0^w1, w0^w1^w2, w0^w1^w2^w3``; the second
    cycle XORs ``t`` into each.

    Parameters
    ----------
    rcon : int or (int, int)
        ``Rcon[r]``; a pair adds the ``rcon_sel`` input that chooses between them.

    Members
    -------
    i : ``In(128)``
        Round key ``r - 1``.
    en : ``In(1)``
        ``i`` belongs to a valid request: the registers load only for one (zeros otherwise).
    rcon_sel : ``In(1)``
        Only with a pair of ``rcon``: 1 selects ``rcon[1]`` (sampled with ``i``).
    o : ``Out(128)``
        Round key ``r`` (registered).
    """

    def _split(self, m, w):
        prefix = [w[0]]
        for n in range(1, 4):
            prefix.append(prefix[-1] ^ w[n])
        return w[3], prefix

    def _combine(self, terms, t):
        return Cat(*(term ^ t for term in terms))

    def _next_word(self, key):
        return _word(key, 3)


class PipelinedInvKeyExpansionStep(_PipelinedKeyStepBase):
    """Round key ``r - 1`` from round key ``r``, :attr:`latency` = 2 cycles later.

    Registered terms: ``w0, w1^w0, w2^w1, w3^w2``; only the first word takes ``t``, the S-box
    of ``RotWord(w3 ^ w2)``.

    Parameters and members as :class:`PipelinedKeyExpansionStep`, with ``i`` round key ``r``
    and ``o`` round key ``r - 1``; ``rcon`` is ``Rcon[r]``.
    """

    def _split(self, m, w):
        p3 = Signal(32)
        m.d.comb += p3.eq(w[3] ^ w[2])
        return p3, [w[0], w[1] ^ w[0], w[2] ^ w[1], p3]

    def _combine(self, terms, t):
        return Cat(terms[0] ^ t, terms[1], terms[2], terms[3])

    def _next_word(self, key):
        return _word(key, 3) ^ _word(key, 2)


class SharedKeyExpansionStep(wiring.Component):
    """One key step per group of blocks that share a key, from two S-boxes used twice.

    In a line, ``4 // lanes`` consecutive blocks go through one pipeline under the same key, so
    a per-block key step (:class:`PipelinedKeyExpansionStep`) computes every round key that
    many times. This step computes it once per group, over two cycles of two S-box lookups
    each, and holds it in a register while the group's blocks use it:

    - cycle ``y`` (``start``): the first halves of two :class:`~rtl.aes.sbox.PipelinedSBox`
      on bytes 0 and 1 of ``RotWord`` of the S-box word, which ``i_bytes`` holds;
    - cycle ``y + 1``: bytes 2 and 3 (from ``i_bytes`` again); the first two results and the
      XOR terms of ``i`` (which must still hold the same key: the group's second block, or a
      held register) are registered;
    - cycle ``y + 2``: the last two S-box results, Rcon and one XOR per bit into ``o``.

    The S-box inputs come from a 16-bit register, not from a multiplexer on ``i``: the
    previous step loads ``i_bytes`` (its ``o_bytes``) with bytes 0 and 1 in the same edge as
    its round key, and with bytes 2 and 3 in the next. A multiplexer between ``i`` and the
    S-boxes was the critical path of the encrypt pipeline (112.8 MHz, docs/fpga.md).

    ``o`` holds the round key from cycle ``y + 3`` until the group's blocks have used it
    ``uses`` times (``use``), then zeros: nothing key-derived stays behind an idle pipeline. A
    new ``start`` may come every ``uses`` cycles (a group of ``uses`` consecutive blocks); its
    key replaces the old one at the end of the old one's last use.

    Parameters
    ----------
    rcon : int
        ``Rcon[r]``.
    inverse : bool
        ``False``: round key ``r`` from ``r - 1`` (as :class:`PipelinedKeyExpansionStep`);
        ``True``: round key ``r - 1`` from ``r`` (as :class:`PipelinedInvKeyExpansionStep`).
    uses : int
        Blocks per group, 2 or more.
    late_bytes : bool
        ``o_bytes`` one cycle later (from the held key register, not from the logic that
        loads it: a shorter path), for a pipeline whose next step starts a cycle later (four
        registers per round).

    Members
    -------
    i : ``In(128)``
        The previous round key, in cycle ``y + 1``.
    i_bytes : ``In(16)``
        Bytes 0-1 (cycle ``y``) and 2-3 (cycle ``y + 1``) of ``RotWord`` of the S-box word.
    start : ``In(1)``
        A group's key is on ``i`` (cycle ``y``).
    use : ``In(1)``
        One block of the group uses ``o`` in this cycle.
    o : ``Out(128)``
        The round key, held (registered).
    o_bytes : ``Out(16)``
        ``i_bytes`` of the next step: registered, bytes 0-1 in the first cycle of ``o``, 2-3
        in the second (with ``late_bytes``: in the second and third), zeros otherwise.

    Attributes
    ----------
    latency : int
        3: from ``start`` to the first cycle ``o`` holds the key.
    """

    latency = 3

    def __init__(self, *, rcon, inverse=False, uses=4, late_bytes=False):
        if not (isinstance(rcon, int) and 0 <= rcon < 256):
            self._MustUse__silence = True
            raise ValueError(f"rcon must be an 8-bit int, not {rcon!r}")
        if not (isinstance(uses, int) and uses >= 2):
            self._MustUse__silence = True
            raise ValueError(f"uses must be an int of 2 or more, not {uses!r}")
        self.rcon = rcon
        self.inverse = bool(inverse)
        self.uses = uses
        self.late_bytes = bool(late_bytes)
        super().__init__({"i": In(128), "i_bytes": In(16), "start": In(1), "use": In(1),
                          "o": Out(128), "o_bytes": Out(16)})

    def __repr__(self):
        return (f"SharedKeyExpansionStep(rcon={self.rcon!r}, inverse={self.inverse!r}, "
                f"uses={self.uses!r})")

    def elaborate(self, platform):
        m = Module()
        w = [_word(self.i, n) for n in range(4)]
        if self.inverse:
            terms = [w[0], w[1] ^ w[0], w[2] ^ w[1], w[3] ^ w[2]]
        else:
            terms = [w[0]]
            for n in range(1, 4):
                terms.append(terms[-1] ^ w[n])

        second = Signal()          # cycle y + 1: bytes 2 and 3, terms registered
        finish = Signal()          # cycle y + 2: the round key registered
        after = Signal()           # cycle y + 3: the first cycle of the new key
        m.d.sync += [second.eq(self.start), finish.eq(second), after.eq(finish)]
        outs = []
        for n in range(2):
            s = m.submodules[f"sbox{n}"] = PipelinedSBox()
            m.d.comb += [s.i.eq(self.i_bytes[8 * n:8 * n + 8]), s.en.eq(self.start | second)]
            outs.append(s.o)
        # Registers load only in their cycle and hold zeros otherwise (no key-derived value
        # stays behind).
        first_q = Signal(16)
        terms_q = Signal(128)
        m.d.sync += [first_q.eq(Mux(second, Cat(*outs), 0)),
                     terms_q.eq(Mux(second, Cat(*terms), 0))]
        t = Signal(32)
        m.d.comb += t.eq(Cat(first_q, *outs) ^ Const(self.rcon, 32))
        tq = [_word(terms_q, n) for n in range(4)]
        if self.inverse:
            new = Cat(tq[0] ^ t, tq[1], tq[2], tq[3])
        else:
            new = Cat(*(term ^ t for term in tq))

        key = Signal(128)
        left = Signal(range(self.uses + 1))     # uses of `key` still to come
        with m.If(finish):
            m.d.sync += [key.eq(new), left.eq(self.uses)]
        with m.Elif(self.use & (left != 0)):
            m.d.sync += left.eq(left - 1)
            with m.If(left == 1):
                m.d.sync += key.eq(0)
        m.d.comb += self.o.eq(key)

        # The next step's S-box bytes: RotWord of its S-box word (encrypt: w3; inverse:
        # w3 ^ w2), bytes 0-1 of the new key with it, then bytes 2-3 of the held key.
        def next_rot(k):
            word = _word(k, 3) ^ (_word(k, 2) if self.inverse else 0)
            return Cat(word[8:32], word[0:8])
        bytes_q = Signal(16)
        if self.late_bytes:
            after2 = Signal()
            m.d.sync += [after2.eq(after),
                         bytes_q.eq(Mux(after, next_rot(key)[0:16],
                                        Mux(after2, next_rot(key)[16:32], 0)))]
        else:
            m.d.sync += bytes_q.eq(Mux(finish, next_rot(new)[0:16],
                                       Mux(after, next_rot(key)[16:32], 0)))
        m.d.comb += self.o_bytes.eq(bytes_q)
        return m


def group_bytes(m, next_word, first, name):
    """The ``i_bytes`` of a :class:`SharedKeyExpansionStep` after a per-block step: a register
    loaded with bytes 0-1 of ``RotWord(next_word)`` in the cycle *first* (the group's first
    block's key is on *next_word*), then with bytes 2-3 of the second block's.

    *next_word* is either the per-block step's ``next_word`` (the key being registered) or the
    S-box word of its registered output, one cycle later (shorter path)."""
    rot = Cat(next_word[8:32], next_word[0:8])
    second = Signal(name=f"{name}_second")
    bytes_q = Signal(16, name=name)
    m.d.sync += [second.eq(first),
                 bytes_q.eq(Mux(first, rot[0:16], Mux(second, rot[16:32], 0)))]
    return bytes_q


class AESLastRoundKey(wiring.Component):
    """Iterative AES-128 key expansion to round key 10 (the decrypt pipeline's key).

    One :class:`KeyExpansionStep` (four S-boxes) applied ten times. A key is accepted when
    the unit is idle; round key 10 appears on ``o`` exactly :attr:`latency` cycles after the
    transfer on ``i`` and is held until it is taken. Then the unit is idle again, holding
    zeros (a round key left behind would give the cipher key back), so the
    throughput is one key per ``latency + 1`` cycles when ``o`` is always ready.

    Parameters
    ----------
    sbox : {"composite", "table"}
        S-box implementation (:mod:`rtl.aes.sbox`).

    Members
    -------
    i : ``In(stream.Signature(128))``
        The cipher key.
    o : ``Out(stream.Signature(128))``
        Round key 10 (``rtl.aes.reference.last_round_key(key)``).

    Attributes
    ----------
    latency : int
        Cycles from the transfer on ``i`` to ``o.valid``: 10.
    """

    latency = 10

    def __init__(self, *, sbox=DEFAULT_SBOX):
        self.sbox = check_sbox_impl(sbox, owner=self, styles=COMB_SBOX_IMPLS)
        super().__init__({"i": In(stream.Signature(128)), "o": Out(stream.Signature(128))})

    def __repr__(self):
        return f"AESLastRoundKey(sbox={self.sbox!r})"

    def elaborate(self, platform):
        m = Module()
        m.submodules.step = step = KeyExpansionStep(sbox=self.sbox)

        rk = Signal(128)            # zero while idle: cleared by reset and when taken
        rnd = Signal(range(11))     # the round key now in rk (0 = idle)
        busy = Signal()

        rcon = Signal(8)
        with m.Switch(rnd):
            for r in range(10):
                with m.Case(r):
                    m.d.comb += rcon.eq(reference.RCON[r + 1])
        m.d.comb += [
            step.i.eq(rk),
            step.rcon_i.eq(rcon),
            self.i.ready.eq(~busy),
            self.o.payload.eq(rk),
            self.o.valid.eq(busy & (rnd == 10)),
        ]

        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [rk.eq(self.i.payload), rnd.eq(0), busy.eq(1)]
        with m.Elif(busy & (rnd != 10)):
            m.d.sync += [rk.eq(step.o), rnd.eq(rnd + 1)]
        with m.Elif(self.o.valid & self.o.ready):
            m.d.sync += [busy.eq(0), rk.eq(0)]
        return m
