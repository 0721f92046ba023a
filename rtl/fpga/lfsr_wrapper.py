"""A pin-sized harness around a wide streaming pipeline, for synthesis and place-and-route.

An AES pipeline has 128-bit block, key and output ports: about 400 pins, more than the
LFE5U-85F-CABGA381 has. To measure its area and Fmax honestly the harness must

- feed every input bit from a register whose value changes every cycle and that synthesis
  cannot predict (free-running LFSRs with distinct seeds), so no S-box is constant-folded;
- observe every output bit (a registered XOR tree down to a few LED pins), so nothing is
  trimmed as unused;
- stay off the critical path: LFSR outputs are flip-flops, the XOR tree is one LUT4 level per
  register stage, and the enable pin is synchronised before it fans out as ``valid``.

The harness is generic: it walks the pipeline's signature and drives every input port member
(``valid`` members from the enable pin, ``ready`` members with 1, everything else from LFSR
bits) and folds every output port member. It therefore does not depend on the pipeline's port
names, only on the stream conventions of ``docs/architecture.md`` §7.
"""

from amaranth import Cat, Const, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Lfsr", "xor_fold", "PipelineHarness"]

# Maximal-length Fibonacci taps (Xilinx XAPP052), 1-based bit positions.
_TAPS = {128: (128, 126, 101, 99)}


class Lfsr(wiring.Component):
    """A free-running 128-bit maximal-length Fibonacci LFSR.

    Parameters
    ----------
    seed : int
        Reset value, must be non-zero. Distinct seeds keep synthesis from merging two LFSRs
        (Yosys ``opt_merge`` merges flip-flops with identical inputs and initial values).

    Attributes
    ----------
    run : Signal(1), in
        Clock enable. The harness drives it from a register that is 0 in reset and 1 after:
        a Fibonacci LFSR is a shift register, so a pipeline flop that samples LFSR bit ``k``
        has the same D input as LFSR bit ``k+1``, and ``opt_merge`` would merge the two and
        under-count the pipeline. A clock enable no pipeline flop shares makes them
        different cells, at no LUT cost (ECP5 slices have a CE input).
    state : Signal(128), out
        The LFSR state, a new value every cycle.
    """

    WIDTH = 128

    def __init__(self, seed):
        seed &= (1 << self.WIDTH) - 1
        if seed == 0:
            raise ValueError("an LFSR seed must be non-zero (the all-zero state is a fixed point)")
        self._seed = seed
        super().__init__({"run": In(1), "state": Out(self.WIDTH)})

    def elaborate(self, platform):
        m = Module()
        reg = Signal(self.WIDTH, init=self._seed)
        feedback = 0
        for tap in _TAPS[self.WIDTH]:
            feedback ^= reg[tap - 1]
        with m.If(self.run):
            m.d.sync += reg.eq(Cat(feedback, reg[:-1]))
        m.d.comb += self.state.eq(reg)
        return m


def xor_fold(m, value, width):
    """Reduce *value* to *width* bits with a registered tree of at most 4-input XORs.

    Each stage registers its result, so every stage is a single LUT4 level and the harness
    never limits Fmax (the unregistered XOR-reduce was the critical path of the prototype,
    toolchain notes §5). Bit ``j`` of each stage is the XOR of the previous stage's bits
    ``k ≡ j (mod stage width)``, so every input bit reaches exactly one output bit.

    Parameters
    ----------
    m : Module
        Module to add the stages to (``sync`` domain).
    value : Value
        The bits to fold.
    width : int
        Width of the result.

    Returns
    -------
    Value
        A *width*-bit registered value (zero-extended when *value* is narrower).
    """
    bits = [value[i] for i in range(len(value))]
    if len(bits) <= width:
        out = Signal(width)
        m.d.sync += out.eq(Cat(*bits))
        return out
    while True:
        stage_width = max(width, -(-len(bits) // 4))
        stage = Signal(stage_width)
        for j in range(stage_width):
            term = Const(0, 1)
            for k in range(j, len(bits), stage_width):
                term = term ^ bits[k]
            m.d.sync += stage[j].eq(term)
        bits = [stage[i] for i in range(stage_width)]
        if stage_width == width:
            return stage


class PipelineHarness(wiring.Component):
    """Feed a streaming pipeline from LFSRs and fold its outputs into LED pins.

    Parameters
    ----------
    pipeline_factory : callable
        Called once with no arguments; returns the ``wiring.Component`` to measure (for example
        ``functools.partial(AESEncryptPipeline, sbox="logic")``).
    n_leds : int
        Width of the ``leds`` output.
    seed : int
        Base seed of the LFSRs; LFSR ``n`` starts from a different non-zero state derived from
        it.
    random_handshakes : bool
        For designs with backpressure (the engine): every input ``valid`` (a member whose name
        ends in ``valid``) is the enable AND an LFSR bit, and every input ``ready`` is an LFSR
        bit, so every handshake path is exercised and none is constant-folded. Default
        (``False``, the AES pipelines): valids are the enable, readies are 1.

    Attributes
    ----------
    en : Signal(1), in
        Enable pin; after a two-flop synchroniser it drives every input ``valid``.
    leds : Signal(n_leds), out
        XOR fold of every output bit of the pipeline (valid and payload).
    pipeline : wiring.Component
        The wrapped pipeline instance (its ``latency`` attribute, if any, is what the report
        uses).
    input_bits : int
        Number of pipeline input bits driven from LFSRs.
    output_bits : int
        Number of pipeline output bits folded into ``leds``.
    """

    def __init__(self, pipeline_factory, *, n_leds=8, seed=0x5EED_0F_AE5,
                 random_handshakes=False):
        self.pipeline = pipeline_factory()
        self._n_leds = n_leds
        self._seed = seed
        self._random_handshakes = random_handshakes
        self.input_bits = 0
        self.output_bits = 0
        for path, member, value in self._ports():
            if not isinstance(value, Const | int):
                width = len(Value.cast(value))
                if member.flow == In and (random_handshakes or
                                          path[-1] not in ("valid", "ready")):
                    self.input_bits += width
                elif member.flow == Out:
                    self.output_bits += width
        super().__init__({"en": In(1), "leds": Out(n_leds)})

    def _ports(self):
        return list(self.pipeline.signature.flatten(self.pipeline))

    def _lfsr_seed(self, index):
        # A splitmix-style scramble of (seed, index): distinct, non-zero, dense in ones.
        x = (self._seed * 0x9E3779B97F4A7C15 + (index + 1) * 0xBF58476D1CE4E5B9) & ((1 << 128) - 1)
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & ((1 << 128) - 1)
        x ^= (x << 64) | (x >> 64)
        return (x & ((1 << 128) - 1)) or 1

    def elaborate(self, platform):
        m = Module()
        m.submodules.pipeline = self.pipeline

        # The enable pin is asynchronous to clk and fans out to every stage's valid: two flops.
        en_meta = Signal()
        en_sync = Signal()
        m.d.sync += [en_meta.eq(self.en), en_sync.eq(en_meta)]

        # 0 in reset, 1 forever after: the LFSRs' private clock enable (see Lfsr.run).
        run = Signal()
        m.d.sync += run.eq(1)

        n_lfsr = -(-self.input_bits // Lfsr.WIDTH)
        random_bits = []
        for n in range(n_lfsr):
            lfsr = Lfsr(self._lfsr_seed(n))
            m.submodules[f"lfsr{n}"] = lfsr
            m.d.comb += lfsr.run.eq(run)
            random_bits.append(lfsr.state)
        pool = Cat(*random_bits) if random_bits else Const(0, 1)

        used = 0
        outputs = []
        for path, member, value in self._ports():
            if isinstance(value, Const | int):
                continue  # always_ready streams expose ready as Const(1): nothing to drive
            value = Value.cast(value)
            if member.flow == In:
                name = str(path[-1])
                if self._random_handshakes and name.endswith("valid"):
                    m.d.comb += value.eq(en_sync & pool[used])
                    used += len(value)
                elif self._random_handshakes:
                    m.d.comb += value.eq(pool[used:used + len(value)])
                    used += len(value)
                elif name == "valid":
                    m.d.comb += value.eq(en_sync)
                elif name == "ready":
                    m.d.comb += value.eq(1)
                else:
                    m.d.comb += value.eq(pool[used:used + len(value)])
                    used += len(value)
            else:
                outputs.append(value)

        m.d.comb += self.leds.eq(xor_fold(m, Cat(*outputs), self._n_leds))
        return m
