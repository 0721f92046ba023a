"""Formal harness of the whole engine (:class:`rtl.engine.engine.MEEngine`): its ports, its
ordering and its credit counters, with the AES abstracted.

The engine is built small (4 key slots, 2-bit upstream and DRAM tags, 16-bit physical
addresses, queues of 4 and 2 entries) and with its three AES pipelines replaced by
:class:`~verif.formal.aes_model.AESPipelineModel` (the pipelines' timing and contract, ``block ^
key`` for the cipher): every other component is the real RTL. Nothing proved here depends on
the cipher, only on when blocks enter and leave the pipelines, and the queue depths and credit
counters are computed from the declared latency, so a 2-cycle model exercises the same logic
as the 10- or 20-cycle pipelines (docs/security.md says what this does not cover).

Every input of the engine is free, constrained only by:

- the ``lib.stream`` rules on the five input streams (``up_req``, ``dram_rsp``, ``kp_req``,
  ``cfg_req``, ``entropy``);
- a DRAM that answers only reads it was sent and has not answered yet (a stray response is a
  DRAM fault, handled by the engine and tested in simulation). The DRAM is reset with the
  engine.

Properties (asserted in every cycle, across resets in the middle of traffic):

- ``<port>_stream_rule``: the four output streams hold ``valid`` and their payload until
  ``ready`` (``up_rsp``, ``dram_req``, ``kp_rsp``, ``cfg_rsp``);
- ``quiet_during_reset_and_scrub``: while the reset is asserted and until every memory has
  been scrubbed after it, no input is ready and no output is valid (G4);
- ``payload_zero_while_invalid``: every output payload is zero while its ``valid`` is low (G9);
- ``response_answers_a_request``: every upstream response carries the tag of an accepted
  request not yet answered (no response invented, none duplicated);
- ``dram_sees_each_line_in_order``: for a line chosen by the solver (any line), the DRAM
  requests to it are exactly the accepted, non-errored requests to it, one each, of the same
  kind, in acceptance order: an errored request never reaches DRAM, no write is sent twice,
  and a read never passes an older write to its line nor a write an older read (RAW, WAR);
- ``dram_tag_not_in_use``: a DRAM read is never sent under a tag the DRAM still holds;
- ``no_stray_response_flag``: with such a DRAM, ``err_dram_rsp_tag`` never rises;
- ``encrypt_credit`` / ``decrypt_credit``: the credit counters never let a line leave a
  pipeline without a place in the queue behind it (the pipelines cannot stall): lines in
  flight plus lines queued never exceed the queue, and the queue never refuses a line;
- ``write_tweak_never_refused``: the write-tweak queue, which has no backpressure, is never
  full when a tweak arrives.

Seeded bugs (``mutation``) are real design errors where the design can take them (a queue one
entry smaller than its credit counter assumes) and otherwise corrupt what the harness observes
of the engine's outputs; tests/verif/formal runs each and checks which property fails.
"""

from functools import partial

from amaranth import Cat, Elaboratable, Module, Mux, Signal, Value
from amaranth.lib import data

from rtl.engine.engine import MEEngine
from rtl.engine.layouts import LINE_BITS, RspError
from rtl.engine.stream_queue import StreamQueue
from rtl.engine.tweak import TweakUnit

from .aes_model import LastRoundKeyModel, pipeline_model
from .properties import ObservedStream, PropertySet, ResetTracker, free_inputs, past, stream_rules

__all__ = ["EngineHarness", "ENGINE_PARAMS"]

#: The engine under proof: every parameter small, the logic the same as at full size.
ENGINE_PARAMS = dict(slots=4, keyid_bits_max=2, pa_width=16, c_bit_pos=15, asid_width=2,
                     addr_width=16, tag_width=2, dram_tag_width=2, order_depth=4,
                     write_depth=2, plain_write_depth=2, lanes=1, sbox="table")

_INPUTS = ("up_req", "dram_rsp", "kp_req", "cfg_req", "entropy")
#: Wide data inputs narrowed to their lowest bit (the rest tied to zero): port -> fields
#: (``None``: the whole payload). Line data and key values steer no control decision; 512-bit
#: lines in every queue and 256-bit keys through the last-round-key unit's S-boxes made even
#: 3 BMC steps take over 10 minutes. One free bit per field still flows through every data
#: path, so a payload that changes while stalled is still caught on it.
_NARROWED = {"up_req": ("data",), "dram_rsp": ("data",), "kp_req": ("key1", "key2"),
             "entropy": None}


def _narrow_mask(shape, fields):
    """All ones, except the bits above the lowest of each of *fields* of *shape*."""
    width = len(Value.cast(Signal(shape)))
    if fields is None:
        return 1
    mask = (1 << width) - 1
    for name in fields:
        field = shape[name]
        upper = ((1 << (field.width - 1)) - 1) << (field.offset + 1)
        mask &= ~upper
    return mask
_OUTPUTS = ("up_rsp", "dram_req", "kp_rsp", "cfg_rsp")


def _replace(owner, name, component):
    """Swap a component the design built in ``__init__`` (the old one is never elaborated)."""
    getattr(owner, name)._MustUse__silence = True
    setattr(owner, name, component)


class EngineHarness(Elaboratable):
    """The engine, with abstracted AES, and its port, ordering and credit properties.

    Parameters
    ----------
    aes_latency : int
        Latency of the AES model (all three pipelines).
    lrk_latency : int
        Latency of the last-round-key model in the key table (the real unit iterates 10
        cycles; the table's sequencer waits for its handshake, whatever the latency).
    lanes : {1, 2, 4}
        AES lanes of the engine.
    line_window : int
        Accepted requests to the tracked line that the ordering check can hold (more are
        assumed away; it is larger than the engine's queues can hold, so none is).
    mutation : str, optional
        One of :attr:`MUTATIONS`.
    """

    #: Seeded bug -> the property that must catch it.
    MUTATIONS = {
        "up_rsp_payload_changes": "up_rsp_stream_rule",
        "dram_req_drops_valid": "dram_req_stream_rule",
        "kp_rsp_drops_valid": "kp_rsp_stream_rule",
        "cfg_rsp_payload_changes": "cfg_rsp_stream_rule",
        "ready_during_scrub": "quiet_during_reset_and_scrub",
        "payload_leaks_while_idle": "payload_zero_while_invalid",
        "duplicate_response": "response_answers_a_request",
        "errored_request_reaches_dram": "dram_sees_each_line_in_order",
        "read_passes_write": "dram_sees_each_line_in_order",
        "dram_tag_reused": "dram_tag_not_in_use",
        "ciphertext_queue_too_small": "encrypt_credit",
        "decrypted_queue_too_small": "decrypt_credit",
        "tweak_queue_too_small": "write_tweak_never_refused",
        "flag_on_good_response": "no_stray_response_flag",
    }

    def __init__(self, *, aes_latency=2, lrk_latency=1, lanes=1, line_window=16,
                 mutation=None):
        if mutation is not None and mutation not in self.MUTATIONS:
            raise ValueError(f"unknown mutation {mutation!r}; known: {', '.join(self.MUTATIONS)}")
        self.mutation = mutation
        self.line_window = line_window
        model = pipeline_model(aes_latency)
        params = dict(ENGINE_PARAMS, lanes=lanes)
        self.dut = dut = MEEngine(**params, encrypt_pipeline=model, decrypt_pipeline=model,
                                  tweak_unit=partial(TweakUnit, pipeline=model, fold=1))
        _replace(dut.keytable, "last_round_key", LastRoundKeyModel(latency=lrk_latency))
        # Real design errors: a queue one entry smaller than its credit counter assumes.
        if mutation == "ciphertext_queue_too_small":
            path = dut.encrypt_path
            _replace(path, "ciphertexts", StreamQueue(LINE_BITS, path.line_queue_depth - 1))
        elif mutation == "decrypted_queue_too_small":
            path = dut.decrypt_path
            _replace(path, "decrypted_lines", StreamQueue(path.decrypted_lines.shape,
                                                          path.line_queue_depth - 1))
        elif mutation == "tweak_queue_too_small":
            path = dut.encrypt_path
            _replace(path, "write_tweaks", StreamQueue(path.write_tweaks.shape,
                                                       path.write_depth - 1))
        self._inputs = free_inputs(dut)
        self._line_choice = Signal(params["pa_width"], name="tracked_line_choice")

    def ports(self):
        """The harness' free inputs."""
        return [free for _, free in self._inputs] + [self._line_choice]

    @property
    def scrub_cycles(self):
        """Cycles after a reset until the longest scrub is over: the deepest memory."""
        dut = self.dut
        return max(dut.slots, 1 << dut.dram_tag_width, dut.order_depth, dut.write_depth,
                   dut.plain_lines.depth,
                   dut.encrypt_path.line_queue_depth, dut.decrypt_path.line_queue_depth,
                   dut.dram_issue.completion_depth)

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        masks = {id(Value.cast(getattr(dut, name).payload)):
                 _narrow_mask(getattr(dut, name).payload.shape(), fields)
                 for name, fields in _NARROWED.items()}
        for value, free in self._inputs:
            m.d.comb += value.eq(free & masks.get(id(value), -1) if id(value) in masks
                                 else free)
        mutation = self.mutation
        props = PropertySet(m)
        scrub = self.scrub_cycles
        resets = ResetTracker(m, props, saturate=scrub + 8)
        quiet = resets.rst | (resets.cycles < scrub)

        # What the harness observes of the outputs (a seeded bug corrupts it here).
        observed = {}
        for name in _OUTPUTS:
            port = getattr(dut, name)
            valid = Signal(name=f"obs_{name}_valid")
            payload = Signal(len(Value.cast(port.payload)), name=f"obs_{name}_payload")
            m.d.comb += [valid.eq(port.valid), payload.eq(port.payload)]
            observed[name] = ObservedStream(valid, port.ready, payload)
        readies = {}
        for name in _INPUTS:
            ready = Signal(name=f"obs_{name}_ready")
            m.d.comb += ready.eq(getattr(dut, name).ready)
            readies[name] = ready

        for name in _INPUTS:
            stream_rules(m, props, resets, getattr(dut, name), name=name, role="input")
        holding = {}
        for name in _OUTPUTS:
            holding[name] = Signal(name=f"{name}_holding")
        self._mutate_outputs(m, resets, observed, readies, holding)
        for name in _OUTPUTS:
            m.d.comb += holding[name].eq(
                stream_rules(m, props, resets, observed[name], name=name, role="output"))

        # G4: quiet during reset and the scrub; G9: no payload without valid.
        busy = Cat(*(ready for ready in readies.values()),
                   *(port.valid for port in observed.values())).any()
        props.check(~quiet | ~busy, "quiet_during_reset_and_scrub")
        leaks = Cat(*(port.valid | (port.payload == 0) for port in observed.values())).all()
        props.check(leaks, "payload_zero_while_invalid")

        up_req, dram_rsp = dut.up_req, dut.dram_rsp
        up_rsp, dram_req = observed["up_rsp"], observed["dram_req"]
        accepted = up_req.valid & readies["up_req"]
        # The ordering point is the acceptance stage behind the port's register: the decode
        # (with the configuration and slot states of that cycle) is made there.
        inner = dut.acceptance.up_req
        decided = inner.valid & inner.ready
        decoder = dut.acceptance.decoder
        decode_error = Signal(RspError, name="obs_decode_error")
        m.d.comb += decode_error.eq(decoder.error)
        if mutation == "errored_request_reaches_dram":
            # The checker believes a good request errored: DRAM then gets one it did not expect.
            with m.If(decided & (decoder.error == RspError.OK) & inner.payload.write):
                m.d.comb += decode_error.eq(RspError.BAD_ADDRESS)
        good = decided & (decode_error == RspError.OK)

        # Upstream: open requests per tag.
        tag_width = dut.tag_width
        open_requests = Signal(data.ArrayLayout(6, 1 << tag_width))
        answered = up_rsp.valid & up_rsp.ready
        rsp_tag = Signal(tag_width)
        m.d.comb += rsp_tag.eq(data.View(dut.up_rsp.payload.shape(), up_rsp.payload).tag)
        for tag in range(1 << tag_width):
            count = open_requests[tag]
            new = accepted & (up_req.payload.tag == tag)
            done = answered & (rsp_tag == tag)
            m.d.sync += count.eq(count + new - done)
        props.check(~answered | (open_requests[rsp_tag] != 0), "response_answers_a_request")

        # DRAM: the reads it holds; a well-behaved DRAM answers only those.
        dram_layout = dut.dram_req.payload.shape()
        request = data.View(dram_layout, dram_req.payload)
        sent = dram_req.valid & dram_req.ready
        read_sent = sent & ~request.write
        at_dram = Signal(1 << dut.dram_tag_width)
        answer = dram_rsp.valid & readies["dram_rsp"]
        set_mask = Mux(read_sent, 1 << request.tag, 0)
        clear_mask = Mux(answer, 1 << dram_rsp.payload.tag, 0)
        m.d.sync += at_dram.eq((at_dram | set_mask) & ~clear_mask)
        props.assume(~dram_rsp.valid | at_dram.bit_select(dram_rsp.payload.tag, 1),
                     "dram_answers_only_reads_it_holds")
        props.check(~read_sent | ~at_dram.bit_select(request.tag, 1), "dram_tag_not_in_use")
        stray_flag = Signal(name="obs_err_dram_rsp_tag")
        m.d.comb += stray_flag.eq(dut.err_dram_rsp_tag)
        if mutation == "flag_on_good_response":
            # The flag as a design that checks the tag against the wrong table would raise it.
            with m.If(past(m, answer, name="answered_dram")):
                m.d.comb += stray_flag.eq(1)
        props.check(~stray_flag, "no_stray_response_flag")

        # Ordering on one line, chosen by the solver in the first cycle and held.
        line = Signal.like(self._line_choice, name="tracked_line")
        line_held = past(m, line, name="tracked_line")
        started = past(m, 1, name="started")
        m.d.comb += line.eq(Mux(started, line_held, self._line_choice))
        window = self.line_window
        kinds = Signal(window, name="tracked_line_kinds")      # 1 = write, oldest at bit 0
        level = Signal(range(window + 1), name="tracked_line_level")
        to_line = good & (decoder.dram_addr == line)
        sent_to_line = sent & (request.addr == line)
        props.assume(~to_line | (level < window), "tracked_line_window")
        after_pop = Mux(sent_to_line, kinds >> 1, kinds)
        level_after_pop = Signal.like(level, name="tracked_line_level_after_pop")
        m.d.comb += level_after_pop.eq(level - sent_to_line)
        with m.If(to_line):
            m.d.sync += kinds.eq(after_pop | (inner.payload.write << level_after_pop))
        with m.Else():
            m.d.sync += kinds.eq(after_pop)
        m.d.sync += level.eq(level_after_pop + to_line)
        props.check(~sent_to_line | ((level != 0) & (request.write == kinds[0])),
                    "dram_sees_each_line_in_order")

        # Credit counters.
        enc, dec = dut.encrypt_path, dut.decrypt_path
        ciphertexts, decrypted = enc.ciphertexts, dec.decrypted_lines
        # Not in a reset cycle: a pipeline's (or the tweak unit's) output register still
        # shows its last valid while the queue behind it is already being reset; the reset
        # discards both.
        rst = resets.rst
        props.check(rst | ((ciphertexts.level + enc.lines_in_flight <= enc.line_queue_depth)
                           & ~(ciphertexts.w.valid & ~ciphertexts.w.ready)), "encrypt_credit")
        props.check(rst | ((decrypted.level + dec.lines_in_flight <= dec.line_queue_depth)
                           & ~(decrypted.w.valid & ~decrypted.w.ready)), "decrypt_credit")
        props.check(rst | ~(enc.write_tweaks.w.valid & ~enc.write_tweaks.w.ready),
                    "write_tweak_never_refused")

        # Non-vacuity: each property's premise happens.
        read_answered = answered & (data.View(dut.up_rsp.payload.shape(), up_rsp.payload).data != 0)
        props.cover(holding["up_rsp"] & holding["dram_req"], "cover_both_outputs_stalled")
        props.cover(holding["kp_rsp"], "cover_kp_rsp_stalled")
        props.cover(holding["cfg_rsp"], "cover_cfg_rsp_stalled")
        props.cover(read_answered & (dec.lines_in_flight == 0) & ~quiet,
                    "cover_read_data_answered")
        props.cover(sent_to_line & request.write & (level == 2) & ~kinds[1],
                    "cover_write_then_read_same_line")
        props.cover(sent_to_line & ~request.write & (level == 2) & kinds[1],
                    "cover_read_then_write_same_line")
        props.cover(decided & (decoder.error != RspError.OK), "cover_errored_request")
        props.cover(at_dram == (1 << (1 << dut.dram_tag_width)) - 1, "cover_all_dram_tags_out")
        props.cover(ciphertexts.w.valid, "cover_encrypted_line")
        props.cover(dec.lines_in_flight != 0, "cover_decrypting_line")
        props.cover(ciphertexts.w.valid & (ciphertexts.level == enc.line_queue_depth - 1),
                    "cover_ciphertext_queue_fills")
        props.cover(decrypted.w.valid & decrypted.w.ready
                    & (decrypted.level == dec.line_queue_depth - 1),
                    "cover_decrypted_queue_fills")
        props.cover(resets.rst & (open_requests.as_value() != 0), "cover_reset_with_requests_open")
        return m

    def _mutate_outputs(self, m, resets, observed, readies, holding):
        mutation = self.mutation
        # A dropped valid takes its payload with it, so only the stream rule sees the bug.
        if mutation == "up_rsp_payload_changes":
            with m.If(holding["up_rsp"]):
                # A data bit, not the tag: the response still answers its request.
                m.d.comb += observed["up_rsp"].payload.eq(
                    self.dut.up_rsp.payload ^ (1 << self.dut.tag_width))
        elif mutation == "dram_req_drops_valid":
            with m.If(holding["dram_req"]):
                m.d.comb += [observed["dram_req"].valid.eq(0), observed["dram_req"].payload.eq(0)]
        elif mutation == "kp_rsp_drops_valid":
            with m.If(holding["kp_rsp"]):
                m.d.comb += [observed["kp_rsp"].valid.eq(0), observed["kp_rsp"].payload.eq(0)]
        elif mutation == "cfg_rsp_payload_changes":
            with m.If(holding["cfg_rsp"]):
                m.d.comb += observed["cfg_rsp"].payload.eq(self.dut.cfg_rsp.payload ^ 1)
        elif mutation == "ready_during_scrub":
            with m.If(resets.cycles == 1):
                m.d.comb += readies["cfg_req"].eq(1)
        elif mutation == "payload_leaks_while_idle":
            # The DRAM request's data shows the ciphertext queue's head while not offered.
            with m.If(~self.dut.dram_req.valid):
                m.d.comb += observed["dram_req"].payload.eq(
                    self.dut.encrypt_path.ciphertexts.r.payload)
        elif mutation == "duplicate_response":
            # A response seen twice: the stalled copy is also counted as answered.
            port = observed["up_rsp"]
            again = past(m, self.dut.up_rsp.valid & self.dut.up_rsp.ready, name="answered")
            with m.If(again):
                m.d.comb += [port.valid.eq(1),
                             port.payload.eq(past(m, self.dut.up_rsp.payload, name="last_rsp"))]
        elif mutation == "read_passes_write":
            # Flip the kind of a DRAM request: the checker sees a read where a write goes.
            dram = observed["dram_req"]
            view = data.View(self.dut.dram_req.payload.shape(), dram.payload)
            with m.If(self.dut.dram_req.valid):
                m.d.comb += view.write.eq(~data.View(self.dut.dram_req.payload.shape(),
                                                     self.dut.dram_req.payload).write)
        elif mutation == "dram_tag_reused":
            dram = observed["dram_req"]
            view = data.View(self.dut.dram_req.payload.shape(), dram.payload)
            with m.If(self.dut.dram_req.valid):
                m.d.comb += view.tag.eq(0)
