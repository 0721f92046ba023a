"""The memory-encryption engine core: upstream and DRAM ports as ``lib.stream`` interfaces.

:class:`MEEngine` wires the engine's components together (docs/integration.md has the
diagrams and the latency table); each component's module describes its part:

- :class:`~rtl.engine.keytable.KeyTable`: key slots, key-program and configuration ports;
- :class:`~rtl.engine.acceptance.RequestAcceptance`: address decode, order-queue entry, key
  read, tweak start;
- :class:`~rtl.engine.write_queue.WriteQueue`: writes and errored requests, in acceptance
  order, with the same-line probe; the read queue
  (:class:`~rtl.engine.stream_queue.StreamQueue`): reads, in acceptance order;
- :class:`~rtl.engine.tweak.TweakUnit`: T_0 = AES_K2(i);
- :class:`~rtl.engine.read_tags.ReadTagTable`: DRAM tags and read contexts;
- :class:`~rtl.engine.write_path.EncryptPath`: the encrypt pipelines and their queues;
- :class:`~rtl.engine.dram_issue.DramIssue`: DRAM requests (reads pass unrelated writes),
  write completions, error responses;
- :class:`~rtl.engine.read_path.DecryptPath`: DRAM responses, the decrypt pipelines;
- :class:`~rtl.engine.response_arbiter.ResponseArbiter`: the upstream responses.

A line is 4 AES blocks; with ``lanes`` encrypt and ``lanes`` decrypt pipelines it takes
``4 // lanes`` cycles ("beats") in each direction.

Ports: no combinational path runs from an input port of the datapath to an output port
(``up_req.ready`` and ``dram_rsp.ready`` depend on the engine's state only), and every AES
pipeline starts at registers, so the engine can sit between registered interfaces.

Reset: every storage element is cleared by the reset (registers) or by the scrub after it
(memories: :mod:`~rtl.engine.scrub`); every stream port is closed meanwhile
(:class:`~rtl.engine.port_gate.StreamGate`), and shows a zero payload whenever its ``valid``
is low (docs/security.md).

Backpressure: the AES pipelines cannot stall, so nothing enters one without a reserved place in
the queue behind it (credit counters); every port can be stalled indefinitely without loss.
"""

from amaranth import Cat, Module, ResetSignal, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..aes.pipeline import AESDecryptPipeline, AESEncryptPipeline
from ..aes.sbox import DEFAULT_SBOX, check_sbox_impl
from .acceptance import RequestAcceptance
from .dram_issue import DramIssue
from .keytable import KeyTable
from .lanes import LANES
from .layouts import (
    CFG_REQ_LAYOUT,
    CFG_RSP_LAYOUT,
    ENTROPY_LAYOUT,
    KP_REQ_LAYOUT,
    KP_RSP_LAYOUT,
    LINE_BITS,
    dram_req_layout,
    dram_rsp_layout,
    read_entry_layout,
    tweak_tag_layout,
    up_req_layout,
    up_rsp_layout,
)
from .port_gate import StreamGate
from .read_path import DecryptPath
from .read_tags import ReadTagTable
from .response_arbiter import ResponseArbiter
from .stream_queue import StreamQueue
from .tweak import TweakUnit
from .write_path import EncryptPath
from .write_queue import WriteQueue

__all__ = ["MEEngine"]


class MEEngine(wiring.Component):
    """Inline memory-encryption engine (AMD SME/TSME/SEV and Intel TME/TME-MK), stream ports.

    Parameters
    ----------
    slots, keyid_bits_max, pa_width, c_bit_pos, asid_width, addr_width : int
        docs/architecture.md §3.
    tag_width : int
        Upstream tag width.
    dram_tag_width : int
        DRAM tag width; up to ``2**dram_tag_width`` reads are outstanding.
    lanes : {1, 2, 4}
        AES blocks per cycle per direction: ``lanes`` encrypt and ``lanes`` decrypt pipelines,
        a line every ``4 // lanes`` cycles each way. The tweak pipeline is shared: the upstream
        port takes at most one request (one tweak) per cycle.
    regs_per_round : {1, 2, 3}
        AES pipeline depth option (latency ``10 * regs_per_round``; 2 or 3 with the two-cycle
        S-box styles ``"ebr"`` and ``"split"``, 3 being the FPGA configuration).
    sbox : {"composite", "table"}
        S-box style of the three AES pipelines (see :mod:`rtl.aes.sbox`); the same logic
        either way, checked exhaustively. Simulators prefer ``"table"`` (sim/regressions.py).
    order_depth : int, optional
        Entries of the write queue (writes and errored requests accepted and not yet sent to
        DRAM / answered) and of the read queue (reads not yet sent). Default: enough for full
        write rate (16 for lanes=1).
    write_depth : int, optional
        Encrypted writes waiting for their tweak (plaintext + T_0/K1 queues). Default: enough
        for full write rate (8 for lanes=1).
    plain_write_depth : int
        Plaintext writes' lines waiting for DRAM (:attr:`plain_lines`; 16: one bank of ECP5
        LUT RAM). Plaintext writes beyond it wait at the upstream port.
    tweak_unit : callable, optional
        Builds the tweak unit: called with the keyword arguments of
        :class:`~rtl.engine.tweak.TweakUnit` (``index_width``, ``tag_width``,
        ``regs_per_round``, ``sbox``); the result needs TweakUnit's signature and a ``latency``
        property. Its ``i.ready`` may be low (a folded unit taking one request every few
        cycles); the engine then holds the request and stops accepting meanwhile.
    encrypt_pipeline, decrypt_pipeline : callable, optional
        Build the data pipelines (see :class:`~rtl.engine.write_path.EncryptPath`); the
        formal harness swaps in a model with the pipelines' timing and no cipher.

    Members
    -------
    up_req : ``In(stream.Signature(up_req_layout(...)))``
    up_rsp : ``Out(stream.Signature(up_rsp_layout(...)))``
    dram_req : ``Out(stream.Signature(dram_req_layout(...)))``
    dram_rsp : ``In(stream.Signature(dram_rsp_layout(...)))``
    kp_req, kp_rsp, cfg_req, cfg_rsp, entropy :
        Command ports of :class:`~rtl.engine.keytable.KeyTable`.
    err_dram_rsp_tag : ``Out(1)``
        Sticky until reset: a DRAM response arrived whose tag has no read outstanding at the
        DRAM (a DRAM-side protocol error). Such a response is consumed and dropped, so it
        cannot block or corrupt the responses of outstanding reads.
    """

    def __init__(self, *, slots=64, keyid_bits_max=6, pa_width=48, c_bit_pos=47, asid_width=6,
                 addr_width=64, tag_width=8, dram_tag_width=5, lanes=1, regs_per_round=1,
                 order_depth=None, write_depth=None, plain_write_depth=16, sbox=DEFAULT_SBOX,
                 tweak_unit=TweakUnit,
                 encrypt_pipeline=AESEncryptPipeline, decrypt_pipeline=AESDecryptPipeline):
        if lanes not in LANES:
            self._MustUse__silence = True  # never elaborated
            raise ValueError(f"lanes must be 1, 2 or 4, not {lanes!r}")
        if not 1 <= dram_tag_width <= 8:
            self._MustUse__silence = True
            raise ValueError(f"dram_tag_width must be in [1, 8], not {dram_tag_width}")
        self.params = dict(slots=slots, keyid_bits_max=keyid_bits_max, pa_width=pa_width,
                           c_bit_pos=c_bit_pos, asid_width=asid_width, addr_width=addr_width)
        self.slots = slots
        self.pa_width = pa_width
        self.tag_width = tag_width
        self.dram_tag_width = dram_tag_width
        self.lanes = lanes
        self.regs_per_round = regs_per_round
        self.sbox = check_sbox_impl(sbox, owner=self)
        beats = 4 // lanes
        # The components are built here, not in elaborate(), so that a formal harness can
        # observe their internals (verif/formal/engine.py).
        self.tweak = tweak_unit(index_width=pa_width,
                                tag_width=tweak_tag_layout(dram_tag_width).size,
                                regs_per_round=regs_per_round, sbox=self.sbox)
        # Queue depths for full rate (a line every `beats` cycles each way), from the declared
        # latencies of the tweak unit (T) and the encrypt pipelines (L). The write queues hold
        # a write until its tweak is ready (T + 2); the order queue holds it from acceptance
        # until its ciphertext is (about T + L + beats + 2 cycles). lanes=1 keeps 16 / 8.
        tweak_latency = self.tweak.latency
        self.write_depth = (write_depth if write_depth is not None
                            else max(8, -(-(tweak_latency + 2) // beats) + 2))
        self.encrypt_path = EncryptPath(lanes=lanes, regs_per_round=regs_per_round,
                                        sbox=self.sbox, write_depth=self.write_depth,
                                        pipeline=encrypt_pipeline)
        self.decrypt_path = DecryptPath(tag_width=tag_width, dram_tag_width=dram_tag_width,
                                        lanes=lanes, regs_per_round=regs_per_round,
                                        sbox=self.sbox, pipeline=decrypt_pipeline)
        encrypt_latency = self.encrypt_path.latency
        self.order_depth = (order_depth if order_depth is not None
                            else max(16, -(-(tweak_latency + encrypt_latency + 8) // beats) + 4))
        self.keytable = KeyTable(slots=slots, keyid_bits_max=keyid_bits_max, pa_width=pa_width)
        self.write_queue = WriteQueue(pa_width=pa_width, tag_width=tag_width,
                                      depth=self.order_depth)
        number_width = self.write_queue.number_width
        self.read_queue = StreamQueue(read_entry_layout(pa_width, dram_tag_width, number_width),
                                      self.order_depth)
        self.plain_lines = StreamQueue(LINE_BITS, plain_write_depth)
        self.acceptance = RequestAcceptance(**self.params, tag_width=tag_width,
                                            dram_tag_width=dram_tag_width,
                                            number_width=number_width)
        self.read_tags = ReadTagTable(tag_width=tag_width, dram_tag_width=dram_tag_width)
        self.dram_issue = DramIssue(pa_width=pa_width, tag_width=tag_width,
                                    dram_tag_width=dram_tag_width, number_width=number_width)
        self.response_arbiter = ResponseArbiter(tag_width=tag_width,
                                                sources=("decrypted", "plain", "completion"))
        super().__init__({
            "up_req":   In(stream.Signature(up_req_layout(addr_width, asid_width, tag_width))),
            "up_rsp":   Out(stream.Signature(up_rsp_layout(tag_width))),
            "dram_req": Out(stream.Signature(dram_req_layout(pa_width, dram_tag_width))),
            "dram_rsp": In(stream.Signature(dram_rsp_layout(dram_tag_width))),
            "kp_req":   In(stream.Signature(KP_REQ_LAYOUT)),
            "kp_rsp":   Out(stream.Signature(KP_RSP_LAYOUT)),
            "cfg_req":  In(stream.Signature(CFG_REQ_LAYOUT)),
            "cfg_rsp":  Out(stream.Signature(CFG_RSP_LAYOUT)),
            "entropy":  In(stream.Signature(ENTROPY_LAYOUT)),
            "err_dram_rsp_tag": Out(1),
        })

    @property
    def aes_latency(self):
        """Latency of the decrypt pipelines, cycles (their declared ``latency``): a read's
        decryption adds this plus ``4 // lanes - 1`` cycles (docs/integration.md §3)."""
        return self.decrypt_path.latency

    def elaborate(self, platform):
        m = Module()
        dram_tag_width = self.dram_tag_width

        m.submodules.keytable = keytable = self.keytable
        # Every stream port passes a gate, closed during reset and the scrub after it.
        port_open = Signal()

        def gate_in(name, inner):
            outer = getattr(self, name)
            gate = m.submodules[f"{name}_gate"] = StreamGate(outer.payload.shape())
            wiring.connect(m, wiring.flipped(outer), gate.i)
            wiring.connect(m, gate.o, inner)
            m.d.comb += gate.open.eq(port_open)

        def gate_out(name, inner):
            outer = getattr(self, name)
            gate = m.submodules[f"{name}_gate"] = StreamGate(outer.payload.shape())
            wiring.connect(m, inner, gate.i)
            wiring.connect(m, gate.o, wiring.flipped(outer))
            m.d.comb += gate.open.eq(port_open)

        for name in ("kp_req", "cfg_req", "entropy"):
            gate_in(name, getattr(keytable, name))
        for name in ("kp_rsp", "cfg_rsp"):
            gate_out(name, getattr(keytable, name))

        m.submodules.write_queue = write_queue = self.write_queue
        m.submodules.plain_lines = plain_lines = self.plain_lines
        m.submodules.read_queue = read_queue = self.read_queue
        m.submodules.acceptance = acceptance = self.acceptance
        m.submodules.read_tags = read_tags = self.read_tags
        m.submodules.tweak = tweak = self.tweak
        m.submodules.encrypt_path = encrypt_path = self.encrypt_path
        m.submodules.dram_issue = dram_issue = self.dram_issue
        m.submodules.decrypt_path = decrypt_path = self.decrypt_path
        m.submodules.response_arbiter = arbiter = self.response_arbiter

        # Acceptance.
        # Not registered: a register here would add a cycle to every request (DESIGN §7 allows
        # a plaintext request one cycle each way, which the queues behind take). Integrators
        # drive it from registers (docs/integration.md §2).
        gate_in("up_req", acceptance.up_req)
        m.d.comb += [
            acceptance.config.eq(keytable.config),
            acceptance.slot_states.eq(keytable.slot_states),
            keytable.key_addr.eq(acceptance.key_addr),
            keytable.key_en.eq(acceptance.key_en),
            acceptance.keys.eq(keytable.key_data),
            acceptance.read_alloc_tag.eq(read_tags.alloc_tag),
        ]
        wiring.connect(m, acceptance.writes, write_queue.w)
        wiring.connect(m, acceptance.reads, read_queue.w)
        wiring.connect(m, acceptance.write_data, encrypt_path.plaintext)
        wiring.connect(m, acceptance.plain_data, plain_lines.w)
        wiring.connect(m, acceptance.read_alloc, read_tags.alloc)

        # Tweaks: a write's goes to the write path, a read's into its read context.
        m.d.comb += [
            tweak.i.valid.eq(acceptance.tweak.valid),
            acceptance.tweak.ready.eq(tweak.i.ready),
            tweak.i.payload.index.eq(acceptance.tweak.payload.index),
            tweak.i.payload.key.eq(acceptance.tweak.payload.key),
            tweak.i.payload.tag.eq(acceptance.tweak.payload.tag),
        ]
        done = tweak.o.payload
        done_tag = data.View(tweak_tag_layout(dram_tag_width), done.tag)
        m.d.comb += [
            encrypt_path.tweak.valid.eq(tweak.o.valid & done_tag.write),
            encrypt_path.tweak.payload.t0.eq(done.t0),
            encrypt_path.tweak.payload.k1.eq(done_tag.key),
            read_tags.context.valid.eq(tweak.o.valid & ~done_tag.write),
            read_tags.context.payload.dram_tag.eq(done_tag.dram_tag),
            read_tags.context.payload.context.t0.eq(done.t0),
            read_tags.context.payload.context.k1_last.eq(done_tag.key),
        ]

        # DRAM issue.
        wiring.connect(m, write_queue.r, dram_issue.writes)
        wiring.connect(m, read_queue.r, dram_issue.reads)
        m.d.comb += [
            write_queue.probe_addr.eq(dram_issue.probe_addr),
            write_queue.probe_number.eq(dram_issue.probe_number),
            dram_issue.probe_hit.eq(write_queue.probe_hit),
        ]
        wiring.connect(m, encrypt_path.ciphertext, dram_issue.ciphertext)
        wiring.connect(m, plain_lines.r, dram_issue.plain_data)
        gate_out("dram_req", dram_issue.dram_req)
        wiring.connect(m, dram_issue.read_issued, read_tags.issued)

        # Read path.
        gate_in("dram_rsp", decrypt_path.dram_rsp)
        m.d.comb += [
            read_tags.rsp_tag.eq(decrypt_path.rsp_tag),
            decrypt_path.rsp_known.eq(read_tags.rsp_known),
            decrypt_path.rsp_context_ready.eq(read_tags.rsp_context_ready),
            decrypt_path.rsp_encrypted.eq(read_tags.rsp_encrypted),
            decrypt_path.rsp_up_tag.eq(read_tags.rsp_up_tag),
            read_tags.release.eq(decrypt_path.release),
            read_tags.context_tag.eq(decrypt_path.context_tag),
            decrypt_path.context_tag_ready.eq(read_tags.context_tag_ready),
            read_tags.context_read.eq(decrypt_path.context_read),
            decrypt_path.context_data.eq(read_tags.context_data),
            self.err_dram_rsp_tag.eq(decrypt_path.err_dram_rsp_tag),
        ]

        # Upstream responses.
        wiring.connect(m, decrypt_path.decrypted, arbiter.decrypted)
        wiring.connect(m, decrypt_path.plain, arbiter.plain)
        wiring.connect(m, dram_issue.completion, arbiter.completion)
        gate_out("up_rsp", arbiter.up_rsp)

        # The ports open once the reset is released and every memory has been zeroed.
        scrubbing = Cat(keytable.scrubbing, read_tags.scrubbing, write_queue.scrubbing,
                        read_queue.scrubbing, plain_lines.scrubbing, encrypt_path.scrubbing,
                        dram_issue.scrubbing, decrypt_path.scrubbing).any()
        # Registered (one cycle late to open, never late to close: the reset closes it at
        # once), because `scrubbing` ORs flags from every corner of the engine and
        # `port_open` gates every port bit (it was the start of the critical path).
        scrubbed = Signal()
        m.d.sync += scrubbed.eq(~scrubbing)
        m.d.comb += port_open.eq(~ResetSignal() & scrubbed)
        return m

