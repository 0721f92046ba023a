"""Key-slot table and the command sequencer of the key-program and configuration ports.

:class:`KeyTable` owns everything the two command ports change:

- the key memory (one :class:`~amaranth.lib.memory.Memory` row per slot: K1, K1's last round
  key for the decrypt pipeline, K2), with one synchronous, **non-transparent** read port for the
  datapath;
- the slot states (EMPTY / KEY / NO_ENCRYPT) in flip-flops, reset to EMPTY;
- the configuration registers (:class:`~rtl.engine.config.ConfigRegisters`);
- the entropy stream and the iterative :class:`~rtl.aes.key_schedule.AESLastRoundKey`.

Commands from both ports are processed one at a time (the key memory has one write port and
the TME key load is a key write), each answered before the next is accepted.

Atomicity rule (docs/integration.md §4): the new key is built in staging registers; the key
memory write, the slot-state update and the configuration-register update all happen at the
clock edge that ends the cycle of the response handshake (``rsp.valid & rsp.ready``). A request
accepted upstream in that same cycle still reads the old slot state and (non-transparent read
port) the old keys; a request accepted in any later cycle sees the new ones.

Reset zeroizes: every slot EMPTY at once (flip-flops), and the key memory is overwritten with
zeros during the first ``slots`` cycles after reset (the command ports stay not-ready meanwhile).
Even before the scrub ends no key row is reachable: an EMPTY slot's keys are never used, and
slot 0 (the TME key) is only used once a configuration write has enabled TME.
Key-program check order is docs/architecture.md §4; it matches ``golden_model``.
"""

from amaranth import Module, Mux, ResetSignal, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..aes.key_schedule import AESLastRoundKey
from .config import ConfigRegisters
from .layouts import (
    CFG_REQ_LAYOUT,
    CFG_RSP_LAYOUT,
    ENC_ALG_XTS_128,
    ENTROPY_LAYOUT,
    KP_REQ_LAYOUT,
    KP_RSP_LAYOUT,
    SLOT_KEYS_LAYOUT,
    CfgStatus,
    KeyProgramCommand,
    KeyProgramStatus,
    Mode,
    SlotState,
    config_layout,
)

__all__ = ["KeyTable"]


class KeyTable(wiring.Component):
    """Key slots, slot states, configuration registers and their command sequencer.

    Parameters
    ----------
    slots : int
        Number of key slots.
    keyid_bits_max : int
        Largest TME_ACTIVATE.KEYID_BITS.
    pa_width : int
        Physical address width (for EXCLUDE_MASK/BASE).

    Members
    -------
    kp_req : ``In(stream.Signature(KP_REQ_LAYOUT))``
        Key-program commands.
    kp_rsp : ``Out(stream.Signature(KP_RSP_LAYOUT))``
        Key-program statuses.
    cfg_req : ``In(stream.Signature(CFG_REQ_LAYOUT))``
        Configuration accesses.
    cfg_rsp : ``Out(stream.Signature(CFG_RSP_LAYOUT))``
        Configuration statuses and values.
    entropy : ``In(stream.Signature(256))``
        Entropy words; taken only by SET_KEY_RANDOM and by a TME_ACTIVATE write setting ENABLE.
    config : ``Out(config_layout(pa_width))``
        Live configuration for the address decode.
    slot_states : ``Out(ArrayLayout(SlotState, slots))``
        Live slot states for the address decode.
    key_addr, key_en : ``In(range(slots))``, ``In(1)``
        Key memory read port: address and enable (sampled at the clock edge).
    key_data : ``Out(SLOT_KEYS_LAYOUT)``
        The keys of the slot addressed in the previous enabled cycle (held while ``key_en`` is 0).
    scrubbing : ``Out(1)``
        The key memory is being zeroed after a reset (``slots`` cycles); no command is taken.
    """

    def __init__(self, *, slots=64, keyid_bits_max=6, pa_width=48):
        self.slots = slots
        self.keyid_bits_max = keyid_bits_max
        self.pa_width = pa_width
        # Built here so that a formal harness can swap in a model (verif/formal/engine.py).
        self.last_round_key = AESLastRoundKey()
        super().__init__({
            "kp_req":      In(stream.Signature(KP_REQ_LAYOUT)),
            "kp_rsp":      Out(stream.Signature(KP_RSP_LAYOUT)),
            "cfg_req":     In(stream.Signature(CFG_REQ_LAYOUT)),
            "cfg_rsp":     Out(stream.Signature(CFG_RSP_LAYOUT)),
            "entropy":     In(stream.Signature(ENTROPY_LAYOUT)),
            "config":      Out(config_layout(pa_width)),
            "slot_states": Out(data.ArrayLayout(SlotState, slots)),
            "key_addr":    In(range(slots)),
            "key_en":      In(1),
            "key_data":    Out(SLOT_KEYS_LAYOUT),
            "scrubbing":   Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.regs = regs = ConfigRegisters(pa_width=self.pa_width,
                                                   keyid_bits_max=self.keyid_bits_max)
        m.submodules.last_round_key = lrk = self.last_round_key
        # LUT RAM (ECP5 DPR16X4): the block RAMs are the AES pipelines' S-boxes (docs/fpga.md).
        m.submodules.keys = keys = Memory(shape=SLOT_KEYS_LAYOUT, depth=self.slots, init=[],
                                          attrs={"ram_style": "distributed"})
        wport = keys.write_port()
        rport = keys.read_port()          # sync, transparent_for=(): the atomicity rule needs it
        m.d.comb += [
            rport.addr.eq(self.key_addr),
            rport.en.eq(self.key_en),
            self.key_data.eq(rport.data),
            self.config.eq(regs.config),
        ]

        states = Signal(data.ArrayLayout(SlotState, self.slots))
        m.d.comb += self.slot_states.eq(states)
        cfg = regs.config

        # Latched command and staging registers (the "new key" until the status handshake).
        kp = Signal(KP_REQ_LAYOUT)
        cfg_cmd = Signal(CFG_REQ_LAYOUT)
        is_cfg = Signal()                          # the command in progress came from cfg_req
        st_status = Signal(3)                      # KeyProgramStatus or CfgStatus value
        st_rdata = Signal(64)
        st_slot = Signal(range(self.slots))
        st_state = Signal(SlotState)
        st_write = Signal()                        # commit writes keys + state
        st_keys = Signal(SLOT_KEYS_LAYOUT)
        scrub_addr = Signal(range(self.slots))
        m.d.comb += regs.cmd.eq(cfg_cmd)

        # Key-program checks (docs/architecture.md §4), evaluated on the latched command.
        k = Mux(cfg.tme_enable, cfg.keyid_bits, 0)
        intel = cfg.mode == Mode.INTEL
        bad_cmd = kp.command > KeyProgramCommand.NO_ENCRYPT.value
        bad_keyid = (kp.keyid == 0) | (kp.keyid >= self.slots) | (intel & (kp.keyid >> k).any())
        bad_alg = (kp.enc_alg != ENC_ALG_XTS_128) | (intel & ~(kp.enc_alg & cfg.algs).any())
        is_random = kp.command == KeyProgramCommand.SET_KEY_RANDOM.value
        entropy_lo = self.entropy.payload[:128]
        entropy_hi = self.entropy.payload[128:]

        rsp_valid = Signal()
        rsp_done = Signal()
        # During reset no handshake may happen on any port: the state it would change is
        # being reset in the same cycle, so a command taken or a status given would be lost.
        in_reset = ResetSignal()
        kp_ready, cfg_ready, entropy_ready = Signal(), Signal(), Signal()
        m.d.comb += [
            self.kp_req.ready.eq(kp_ready & ~in_reset),
            self.cfg_req.ready.eq(cfg_ready & ~in_reset),
            self.entropy.ready.eq(entropy_ready & ~in_reset),
            self.kp_rsp.valid.eq(rsp_valid & ~is_cfg & ~in_reset),
            self.kp_rsp.payload.status.eq(st_status),
            self.cfg_rsp.valid.eq(rsp_valid & is_cfg & ~in_reset),
            self.cfg_rsp.payload.status.eq(st_status[:2]),
            self.cfg_rsp.payload.data.eq(st_rdata),
            rsp_done.eq(Mux(is_cfg, self.cfg_rsp.ready, self.kp_rsp.ready) & rsp_valid & ~in_reset),
            lrk.i.payload.eq(st_keys.k1),
        ]

        with m.FSM(init="SCRUB"):
            with m.State("SCRUB"):
                # Zeroize the key memory after reset; the slot states are already EMPTY. The
                # read register reads row 0 (zeroed in the first cycle), so it ends the scrub
                # holding zeros too.
                m.d.comb += [wport.addr.eq(scrub_addr), wport.data.eq(0), wport.en.eq(1),
                             rport.addr.eq(0), rport.en.eq(1), self.scrubbing.eq(1)]
                m.d.sync += scrub_addr.eq(scrub_addr + 1)
                with m.If(scrub_addr == self.slots - 1):
                    m.next = "IDLE"

            with m.State("IDLE"):
                # Key-program commands first; one command at a time over both ports.
                m.d.comb += [kp_ready.eq(1), cfg_ready.eq(~self.kp_req.valid)]
                with m.If(self.kp_req.valid):
                    m.d.sync += [kp.eq(self.kp_req.payload), is_cfg.eq(0)]
                    m.next = "KP_EVAL"
                with m.Elif(self.cfg_req.valid):
                    m.d.sync += [cfg_cmd.eq(self.cfg_req.payload), is_cfg.eq(1)]
                    m.next = "CFG_EVAL"

            with m.State("KP_EVAL"):
                # The latched key words are used here only: they do not outlive this cycle.
                m.d.sync += [st_slot.eq(kp.keyid), st_write.eq(0), kp.key1.eq(0), kp.key2.eq(0)]
                with m.If(bad_cmd):
                    m.d.sync += st_status.eq(KeyProgramStatus.INVALID_PROG_CMD)
                    m.next = "RSP"
                with m.Elif(bad_keyid):
                    m.d.sync += st_status.eq(KeyProgramStatus.INVALID_KEYID)
                    m.next = "RSP"
                with m.Elif(bad_alg):
                    m.d.sync += st_status.eq(KeyProgramStatus.INVALID_ENC_ALG)
                    m.next = "RSP"
                with m.Elif(cfg.kt_lock):
                    m.d.sync += st_status.eq(KeyProgramStatus.DEVICE_BUSY)
                    m.next = "RSP"
                with m.Elif(is_random & ~self.entropy.valid):
                    # Never wait for entropy: no word now means ENTROPY_ERROR.
                    m.d.sync += st_status.eq(KeyProgramStatus.ENTROPY_ERROR)
                    m.next = "RSP"
                with m.Else():
                    m.d.sync += [st_status.eq(KeyProgramStatus.PROG_SUCCESS), st_write.eq(1)]
                    with m.Switch(kp.command):
                        with m.Case(KeyProgramCommand.SET_KEY_DIRECT):
                            m.d.sync += [st_keys.k1.eq(kp.key1), st_keys.k2.eq(kp.key2),
                                         st_state.eq(SlotState.KEY)]
                        with m.Case(KeyProgramCommand.SET_KEY_RANDOM):
                            m.d.comb += entropy_ready.eq(1)
                            m.d.sync += [st_keys.k1.eq(kp.key1 ^ entropy_lo),
                                         st_keys.k2.eq(kp.key2 ^ entropy_hi),
                                         st_state.eq(SlotState.KEY)]
                        with m.Case(KeyProgramCommand.CLEAR_KEY):
                            # Clearing also overwrites the key row, so no stale key stays stored.
                            m.d.sync += [st_keys.k1.eq(0), st_keys.k2.eq(0),
                                         st_state.eq(SlotState.EMPTY)]
                        with m.Default():
                            m.d.sync += [st_keys.k1.eq(0), st_keys.k2.eq(0),
                                         st_state.eq(SlotState.NO_ENCRYPT)]
                    m.next = "LRK_IN"

            with m.State("CFG_EVAL"):
                m.d.sync += [st_slot.eq(0), st_state.eq(SlotState.KEY), st_write.eq(0),
                             st_rdata.eq(regs.rdata)]
                with m.If((regs.status == CfgStatus.OK) & regs.needs_entropy):
                    with m.If(self.entropy.valid):
                        # TME key: slot 0 = (E[127:0], E[255:128]).
                        m.d.comb += entropy_ready.eq(1)
                        m.d.sync += [st_status.eq(CfgStatus.OK), st_write.eq(1),
                                     st_keys.k1.eq(entropy_lo), st_keys.k2.eq(entropy_hi)]
                        m.next = "LRK_IN"
                    with m.Else():
                        m.d.sync += [st_status.eq(CfgStatus.ENTROPY_ERROR),
                                     st_rdata.eq(regs.current)]
                        m.next = "RSP"
                with m.Else():
                    m.d.sync += st_status.eq(regs.status)
                    m.next = "RSP"

            with m.State("LRK_IN"):
                m.d.comb += lrk.i.valid.eq(1)
                with m.If(lrk.i.ready):
                    m.next = "LRK_OUT"

            with m.State("LRK_OUT"):
                m.d.comb += lrk.o.ready.eq(1)
                with m.If(lrk.o.valid):
                    m.d.sync += st_keys.k1_last.eq(lrk.o.payload)
                    m.next = "RSP"

            with m.State("RSP"):
                m.d.comb += rsp_valid.eq(1)
                with m.If(rsp_done):
                    # The commit edge: keys, slot state and configuration change together here.
                    m.d.comb += [
                        wport.addr.eq(st_slot),
                        wport.data.eq(st_keys),
                        wport.en.eq(st_write),
                        regs.commit.eq(is_cfg & (st_status == CfgStatus.OK)),
                    ]
                    with m.If(st_write):
                        m.d.sync += states[st_slot].eq(st_state)
                    # Staged keys are not kept once written.
                    m.d.sync += st_keys.eq(0)
                    m.next = "IDLE"
        return m
