"""A stand-in entropy source for the engine's ``entropy`` port (SET_KEY_RANDOM, TME key).

It is **not** a true random number generator: four 64-bit xorshift generators stepping every
cycle from fixed seeds. In simulation that keeps runs reproducible; on the FPGA the value taken
depends on the cycle at which software asks, which is unpredictable to an observer of the bus
but not secret. A real deployment needs a TRNG behind this same port (valid/ready, 256 bits).
"""

from migen import Cat, Module, Signal

__all__ = ["XorshiftEntropy"]

#: Seeds of the four 64-bit lanes (odd, distinct; any non-zero value works).
_SEEDS = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x2545F4914F6CDD1D)


class XorshiftEntropy(Module):
    """256 pseudo-random bits a cycle behind a valid/ready pair.

    Attributes
    ----------
    valid : Signal(1), out
        High when ``enable`` is high (software can withdraw entropy to test ENTROPY_ERROR).
    ready : Signal(1), in
        The engine takes a word; the generator steps every cycle regardless.
    data : Signal(256), out
    enable : Signal(1), in
    """

    def __init__(self):
        self.valid = Signal()
        self.ready = Signal()
        self.data = Signal(256)
        self.enable = Signal(reset=1)

        lanes = []
        for seed in _SEEDS:
            state = Signal(64, reset=seed)
            # xorshift64 (Marsaglia): x ^= x << 13; x ^= x >> 7; x ^= x << 17.
            a = Signal(64)
            b = Signal(64)
            c = Signal(64)
            self.comb += [
                a.eq(state ^ (state << 13)),
                b.eq(a ^ (a >> 7)),
                c.eq(b ^ (b << 17)),
            ]
            self.sync += state.eq(c)
            lanes.append(state)
        self.comb += [
            self.data.eq(Cat(*lanes)),
            self.valid.eq(self.enable),
        ]
