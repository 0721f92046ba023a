"""Formal harness of :class:`rtl.engine.keytable.KeyTable`: its command ports and lock bits.

Every input of the key table is a free input of the harness (the solver chooses it in every
cycle), constrained only by the ``lib.stream`` rules on the three input streams. The harness
checks what the table promises on its outputs:

- ``kp_rsp``/``cfg_rsp`` follow the stream rules (valid held until ready, status and data stable);
- one status per command: a response only answers an accepted command, on the port the command
  came from, and no command is accepted while one is unanswered (DESIGN §5: each answered
  before the next is accepted);
- during reset, and during the key-memory scrub after it (``slots`` cycles), no input is ready
  and no output is valid (DESIGN §10: a handshake then would be lost);
- TME_ACTIVATE.LOCK and KT_LOCK, once set, stay set until reset (DESIGN §10).

Seeded bugs (``mutation``) corrupt what the harness observes of the table's outputs, each in a
way one property must catch; tests/verif/formal runs each and checks which property fails.
"""

from amaranth import Cat, Elaboratable, Module, Signal, Value

from rtl.engine.keytable import KeyTable

from .properties import ObservedStream, PropertySet, ResetTracker, free_inputs, past, stream_rules

__all__ = ["KeyTableHarness"]


class KeyTableHarness(Elaboratable):
    """The key table with its command-port properties.

    Parameters
    ----------
    slots : int
        Key slots (small keeps the scrub short; the logic does not depend on the count).
    mutation : str, optional
        One of :attr:`MUTATIONS` (a seeded bug for the tests).
    """

    #: Seeded bug -> the property that must catch it.
    MUTATIONS = {
        "kp_rsp_drops_valid": "kp_rsp_stream_rule",
        "cfg_rsp_data_changes": "cfg_rsp_stream_rule",
        "spurious_status": "status_answers_a_command",
        "ready_during_scrub": "quiet_during_reset_and_scrub",
        "accepts_while_busy": "one_command_at_a_time",
        "kt_lock_clearable": "kt_lock_sticky",
        "tme_lock_clearable": "tme_lock_sticky",
    }

    def __init__(self, *, slots=4, mutation=None):
        if mutation is not None and mutation not in self.MUTATIONS:
            raise ValueError(f"unknown mutation {mutation!r}; known: {', '.join(self.MUTATIONS)}")
        self.slots = slots
        self.mutation = mutation
        self.dut = KeyTable(slots=slots, keyid_bits_max=2, pa_width=20)
        self._inputs = free_inputs(self.dut)

    def ports(self):
        """The harness' free inputs."""
        return [free for _, free in self._inputs]

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        m.d.comb += [value.eq(free) for value, free in self._inputs]
        props = PropertySet(m)
        resets = ResetTracker(m, props, saturate=self.slots + 4)

        # What the harness observes of the outputs (a seeded bug corrupts it here).
        kp_valid, cfg_valid = Signal(), Signal()
        cfg_data = Signal(len(dut.cfg_rsp.payload.data))
        kp_ready, cfg_ready = Signal(), Signal()
        kt_lock, tme_lock = Signal(), Signal()
        m.d.comb += [
            kp_valid.eq(dut.kp_rsp.valid), cfg_valid.eq(dut.cfg_rsp.valid),
            cfg_data.eq(dut.cfg_rsp.payload.data),
            kp_ready.eq(dut.kp_req.ready), cfg_ready.eq(dut.cfg_req.ready),
            kt_lock.eq(dut.config.kt_lock), tme_lock.eq(dut.config.tme_lock),
        ]
        pending_kp, pending_cfg = Signal(), Signal()       # a command accepted, not answered
        glitch = past(m, kp_valid & ~dut.kp_rsp.ready, name="bug_glitch")
        if self.mutation == "kp_rsp_drops_valid":
            with m.If(glitch & ~resets.past_rst):
                m.d.comb += kp_valid.eq(0)          # drops a stalled status for one cycle
        elif self.mutation == "cfg_rsp_data_changes":
            m.d.comb += cfg_data.eq(dut.cfg_rsp.payload.data ^ resets.cycles[0])
        elif self.mutation == "spurious_status":
            with m.If((resets.cycles == self.slots + 2) & ~resets.rst):
                m.d.comb += kp_valid.eq(1)
        elif self.mutation == "ready_during_scrub":
            with m.If(resets.cycles == 0):
                m.d.comb += kp_ready.eq(1)
        elif self.mutation == "accepts_while_busy":
            with m.If(pending_kp & (resets.cycles > self.slots) & ~resets.rst):
                m.d.comb += kp_ready.eq(1)
        elif self.mutation == "kt_lock_clearable":
            with m.If(dut.cfg_rsp.valid & dut.cfg_rsp.ready):
                m.d.comb += kt_lock.eq(0)
        elif self.mutation == "tme_lock_clearable":
            with m.If(dut.cfg_rsp.valid & dut.cfg_rsp.ready):
                m.d.comb += tme_lock.eq(0)

        kp_rsp = ObservedStream(kp_valid, dut.kp_rsp.ready, dut.kp_rsp.payload)
        cfg_rsp = ObservedStream(cfg_valid, dut.cfg_rsp.ready,
                            Cat(Value.cast(dut.cfg_rsp.payload.status), cfg_data))
        kp_req = ObservedStream(dut.kp_req.valid, kp_ready, dut.kp_req.payload)
        cfg_req = ObservedStream(dut.cfg_req.valid, cfg_ready, dut.cfg_req.payload)

        # Environment: the stream rules on the inputs (assumed).
        for name, port in (("kp_req", kp_req), ("cfg_req", cfg_req), ("entropy", dut.entropy)):
            stream_rules(m, props, resets, port, name=name, role="input")
        # The table's promises on its outputs.
        kp_held = stream_rules(m, props, resets, kp_rsp, name="kp_rsp", role="output")
        cfg_held = stream_rules(m, props, resets, cfg_rsp, name="cfg_rsp", role="output")

        # One status per command, on the command's own port.
        kp_accept = kp_req.valid & kp_req.ready
        cfg_accept = cfg_req.valid & cfg_req.ready
        kp_answer = kp_rsp.valid & kp_rsp.ready
        cfg_answer = cfg_rsp.valid & cfg_rsp.ready
        with m.If(kp_accept):
            m.d.sync += pending_kp.eq(1)
        with m.Elif(kp_answer):
            m.d.sync += pending_kp.eq(0)
        with m.If(cfg_accept):
            m.d.sync += pending_cfg.eq(1)
        with m.Elif(cfg_answer):
            m.d.sync += pending_cfg.eq(0)
        props.check((~kp_rsp.valid | pending_kp) & (~cfg_rsp.valid | pending_cfg),
                    "status_answers_a_command")
        props.check(~(kp_accept | cfg_accept) | ~(pending_kp | pending_cfg),
                    "one_command_at_a_time")

        # Quiet during reset and the scrub after it.
        scrubbing = resets.rst | (resets.cycles < self.slots)
        props.check(~scrubbing | ~(kp_req.ready | cfg_req.ready | dut.entropy.ready
                                   | kp_rsp.valid | cfg_rsp.valid),
                    "quiet_during_reset_and_scrub")

        # Lock bits: sticky until reset.
        props.check(~past(m, kt_lock, name="kt_lock") | resets.past_rst | kt_lock, "kt_lock_sticky")
        props.check(~past(m, tme_lock, name="tme_lock") | resets.past_rst | tme_lock, "tme_lock_sticky")

        # Non-vacuity.
        props.cover(kp_answer, "cover_kp_status")
        props.cover(cfg_answer, "cover_cfg_status")
        props.cover(kp_held, "cover_kp_rsp_stalled")
        props.cover(cfg_held, "cover_cfg_rsp_stalled")
        props.cover(kt_lock & cfg_answer, "cover_cfg_write_while_kt_locked")
        props.cover(tme_lock & cfg_answer, "cover_cfg_write_while_tme_locked")
        props.cover(resets.rst & past(m, pending_kp, name="pending_kp"), "cover_reset_with_command_in_flight")
        return m
