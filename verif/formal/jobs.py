"""The formal jobs: the one list that ``make formal``, ``python -m sim.formal`` and the tests read.

A job is a harness (built with an optional seeded bug), a mode and a depth. ``fast`` jobs run in
``make test`` (tests/verif/formal); every job runs in ``make formal``. Each seeded bug names the
property that must catch it: the tests run the bug and check that exactly that property fails
(so a property cannot pass vacuously, and a failure is for the declared reason).

Depths, and why:

- decode equivalence: the decoder is combinational, so one step covers every input: BMC depth 1
  is a proof over all addresses, ASIDs, configurations and slot states.
- key table: a key-program command takes at most 1 (accept) + 1 (evaluate) + 2 (last round
  key in) + 11 (the iterative last-round-key unit) + 1 (response) cycles, and the scrub after
  reset takes ``slots`` cycles; with ``slots=4`` a depth of 24 carries a reset, the scrub and a
  whole SET_KEY command to its response with room for a stalled response, and 40 (``make
  formal``) carries two commands back to back.
- stream queue (4 entries): a reset, the 4-cycle scrub, 4 writes to fill it and 4 reads to
  drain it fit in 16 steps (13 needed), so every level and pointer pair of a 4-entry queue is
  reached, with a reset in the middle of traffic.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .decode import DecodeEquivalence
from .engine import EngineHarness
from .keytable import KeyTableHarness
from .stream_queue import StreamQueueHarness

__all__ = ["FormalJob", "FORMAL_JOBS"]


@dataclass(frozen=True)
class FormalJob:
    """One formal run.

    Parameters
    ----------
    name : str
        Unique name (``python -m sim.formal NAME``).
    description : str
        One line: what is proved.
    factory : callable
        ``factory(mutation)`` returns the harness (``mutation`` None for the real design).
    mode : {"bmc", "prove"}
        Assertions checked to ``depth`` (bounded) or by k-induction of length ``depth``.
    depth : int
        Steps (see the module docstring for each job's reason).
    fast : bool
        Part of ``make test``.
    mutations : dict
        Seeded bug name -> the property that must fail on it.
    timeout : int
        Seconds before the run is reported as an error.
    script : tuple of str
        Yosys commands after ``prep`` (for example ``memory_map`` and ``opt``, so flip-flops
        that only ever hold zero are removed before the solver sees them).
    """

    name: str
    description: str
    factory: Callable
    mode: str = "bmc"
    depth: int = 1
    fast: bool = True
    mutations: dict = field(default_factory=dict)
    timeout: int = 1800
    script: tuple = ()

    def build(self, mutation=None):
        if mutation is not None and mutation not in self.mutations:
            raise ValueError(f"job {self.name} has no seeded bug {mutation!r}")
        return self.factory(mutation)


_DEFAULT = dict(slots=64, keyid_bits_max=6, pa_width=48, c_bit_pos=47, asid_width=6, addr_width=64)
# Slots not a power of two: the KeyIDs above the table answer BAD_KEYID.
_ODD = dict(slots=12, keyid_bits_max=4, pa_width=24, c_bit_pos=21, asid_width=5, addr_width=32)

_DECODE_BUGS = {
    "encrypt": "decode_encrypt_matches_spec",
    "dram_addr": "decode_dram_addr_matches_spec",
    "error": "decode_error_matches_spec",
    "slot": "decode_slot_matches_spec",
}

# Memories to flip-flops, then every flip-flop that only ever holds its initial zero removed:
# the engine harness ties most data bits to zero (verif/formal/engine.py).
_SHRINK = ("flatten", "memory_map", "opt -full", "stat")

FORMAL_JOBS = [
    FormalJob("decode_equivalence", "address decode == the §3 specification, default parameters",
              lambda mutation: DecodeEquivalence(_DEFAULT, mutation=mutation),
              mutations=_DECODE_BUGS),
    FormalJob("decode_equivalence_odd_slots",
              "address decode == the §3 specification, 12 slots (KeyIDs beyond the table)",
              lambda mutation: DecodeEquivalence(_ODD, mutation=mutation),
              mutations=_DECODE_BUGS),
    FormalJob("keytable_ports", "key table: stream rules, one status per command, "
              "not ready during reset and scrub, lock bits sticky until reset",
              lambda mutation: KeyTableHarness(slots=4, mutation=mutation), depth=24,
              mutations=KeyTableHarness.MUTATIONS),
    FormalJob("stream_queue", "every engine queue: an ideal FIFO (order, no loss, no duplicate, "
              "no overflow), stream rules, quiet during reset and scrub",
              lambda mutation: StreamQueueHarness(depth=4, width=4, mutation=mutation),
              depth=16, mutations=StreamQueueHarness.MUTATIONS),
    FormalJob("engine", "the engine (AES abstracted): stream rules on its ports, quiet during "
              "reset and scrub, no payload without valid, responses answer requests, DRAM "
              "order per line (RAW, WAR, no error to DRAM), DRAM tags, credit counters",
              lambda mutation: EngineHarness(mutation=mutation), depth=20, fast=False,
              mutations=EngineHarness.MUTATIONS, script=_SHRINK, timeout=7200),
    FormalJob("keytable_ports_deep", "the key-table properties, two commands deep",
              lambda mutation: KeyTableHarness(slots=4, mutation=mutation), depth=40, fast=False,
              mutations=KeyTableHarness.MUTATIONS),
]
