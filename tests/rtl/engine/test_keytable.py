"""KeyTable: configuration registers and lock rules, key-program statuses in their documented
order, key storage (K1, last round key, K2), entropy use, and the atomic commit cycle."""

from amaranth import ClockDomain, Module, ResetInserter, Signal

from rtl.aes.reference import last_round_key
from rtl.engine.keytable import KeyTable
from rtl.engine.layouts import CfgStatus, KeyProgramStatus, Mode, SlotState

from ._util import run_sim, stream_get, stream_put

S = KeyProgramStatus
TME_EN6 = (1 << 1) | (6 << 32) | (1 << 48)
ENTROPY = int.from_bytes(bytes(range(32)), "little")


def kp_cmd(keyid, command=0, enc_alg=1, key1=0, key2=0):
    return {"keyid": keyid, "command": command, "enc_alg": enc_alg, "key1": key1, "key2": key2}


async def scrub(ctx, dut):
    await ctx.tick().until(dut.kp_req.ready)


async def kp(ctx, dut, *args, **kwargs):
    await stream_put(ctx, dut.kp_req, kp_cmd(*args, **kwargs))
    return (await stream_get(ctx, dut.kp_rsp)).status


async def cfg(ctx, dut, addr, write=False, data=0):
    await stream_put(ctx, dut.cfg_req, {"addr": addr, "write": write, "data": data})
    rsp = await stream_get(ctx, dut.cfg_rsp)
    return rsp.status, rsp.data


async def read_key(ctx, dut, slot):
    ctx.set(dut.key_addr, slot)
    ctx.set(dut.key_en, 1)
    await ctx.tick()
    ctx.set(dut.key_en, 0)
    k = ctx.get(dut.key_data)
    return k.k1, k.k1_last, k.k2


def test_config_registers_and_lock():
    dut = KeyTable()

    async def tb(ctx):
        await scrub(ctx, dut)
        assert await cfg(ctx, dut, 0) == (CfgStatus.OK, 0)                 # reset value
        assert await cfg(ctx, dut, 7) == (CfgStatus.INVALID, 0)            # no such register
        assert await cfg(ctx, dut, 0, True, 1 << 2) == (CfgStatus.INVALID, 0)     # reserved bit
        assert await cfg(ctx, dut, 0, True, 7 << 32) == (CfgStatus.INVALID, 0)    # KEYID_BITS > 6
        assert await cfg(ctx, dut, 1, True, 1 << 48) == (CfgStatus.INVALID, 0)    # beyond PA
        assert await cfg(ctx, dut, 3, True, 1) == (CfgStatus.INVALID, 0)
        assert await cfg(ctx, dut, 1, True, 0xFF000 | 1 << 11) == (CfgStatus.OK, 0xFF800)
        assert ctx.get(dut.config.excl_enable) == 1
        assert ctx.get(dut.config.excl_mask) == 0xFF000
        # ENABLE without entropy: ENTROPY_ERROR, nothing changes.
        assert await cfg(ctx, dut, 0, True, TME_EN6) == (CfgStatus.ENTROPY_ERROR, 0)
        assert ctx.get(dut.config.tme_enable) == 0
        ctx.set(dut.entropy.valid, 1)
        ctx.set(dut.entropy.payload, ENTROPY)
        assert await cfg(ctx, dut, 0, True, TME_EN6 | 1) == (CfgStatus.OK, TME_EN6 | 1)
        ctx.set(dut.entropy.valid, 0)
        assert ctx.get(dut.config.tme_enable) == 1 and ctx.get(dut.config.tme_lock) == 1
        assert ctx.get(dut.config.keyid_bits) == 6
        assert ctx.get(dut.slot_states[0]) == SlotState.KEY
        lo, hi = ENTROPY & (2**128 - 1), ENTROPY >> 128
        assert await read_key(ctx, dut, 0) == (lo, last_round_key(lo), hi)
        # Locked: TME_ACTIVATE, EXCLUDE_MASK/BASE and MODE refuse; the rest stay writable.
        for addr in (0, 1, 2, 5):
            st, val = await cfg(ctx, dut, addr, True, 0)
            assert st == CfgStatus.LOCKED, addr
        assert await cfg(ctx, dut, 1) == (CfgStatus.OK, 0xFF800)
        assert await cfg(ctx, dut, 0, True, 1 << 2) == (CfgStatus.INVALID, TME_EN6 | 1)  # INVALID first
        assert await cfg(ctx, dut, 3, True, 1 << 23) == (CfgStatus.OK, 1 << 23)
        assert await cfg(ctx, dut, 4, True, 1) == (CfgStatus.OK, 1)
        assert await cfg(ctx, dut, 6, True, 1) == (CfgStatus.OK, 1)
        assert ctx.get(dut.config.mem_enc_en) == 1 and ctx.get(dut.config.tsme) == 1
        assert ctx.get(dut.config.kt_lock) == 1
        assert ctx.get(dut.config.mode) == Mode.INTEL

    run_sim(dut, tb)


def test_key_program_status_order_and_storage():
    dut = KeyTable()

    async def tb(ctx):
        await scrub(ctx, dut)
        # TME disabled (k = 0): no KeyID is valid; a bad command wins over a bad KeyID.
        assert await kp(ctx, dut, 0, command=4, enc_alg=0) == S.INVALID_PROG_CMD
        assert await kp(ctx, dut, 1) == S.INVALID_KEYID
        ctx.set(dut.entropy.valid, 1)
        ctx.set(dut.entropy.payload, ENTROPY)
        assert (await cfg(ctx, dut, 0, True, (1 << 1) | (2 << 32) | (1 << 48)))[0] == CfgStatus.OK
        ctx.set(dut.entropy.valid, 0)
        assert await kp(ctx, dut, 0) == S.INVALID_KEYID
        assert await kp(ctx, dut, 4) == S.INVALID_KEYID            # > 2^2 - 1
        assert await kp(ctx, dut, 3, enc_alg=4) == S.INVALID_ENC_ALG    # XTS-256 unsupported
        assert await kp(ctx, dut, 3, enc_alg=3) == S.INVALID_ENC_ALG    # not one-hot
        assert await kp(ctx, dut, 3, command=2, enc_alg=0) == S.INVALID_ENC_ALG   # CLEAR checked too
        assert await kp(ctx, dut, 3, command=1) == S.ENTROPY_ERROR
        assert ctx.get(dut.slot_states[3]) == SlotState.EMPTY
        assert await kp(ctx, dut, 3, key1=0x11, key2=0x22) == S.PROG_SUCCESS
        assert ctx.get(dut.slot_states[3]) == SlotState.KEY
        assert await read_key(ctx, dut, 3) == (0x11, last_round_key(0x11), 0x22)
        ctx.set(dut.entropy.valid, 1)
        assert await kp(ctx, dut, 2, command=1, key1=0x5, key2=0x7) == S.PROG_SUCCESS
        ctx.set(dut.entropy.valid, 0)
        k1, k2 = 0x5 ^ (ENTROPY & (2**128 - 1)), 0x7 ^ (ENTROPY >> 128)
        assert await read_key(ctx, dut, 2) == (k1, last_round_key(k1), k2)
        assert await kp(ctx, dut, 1, command=3) == S.PROG_SUCCESS
        assert ctx.get(dut.slot_states[1]) == SlotState.NO_ENCRYPT
        assert await kp(ctx, dut, 3, command=2) == S.PROG_SUCCESS
        assert ctx.get(dut.slot_states[3]) == SlotState.EMPTY
        assert (await read_key(ctx, dut, 3))[0::2] == (0, 0)        # cleared rows hold no key
        # Intel: ENC_ALG must also be allowed by TME_ACTIVATE.ALGS; AMD ignores ALGS and k.
        ctx.set(dut.entropy.valid, 1)
        assert (await cfg(ctx, dut, 0, True, (1 << 1) | (2 << 32) | (4 << 48)))[0] == CfgStatus.OK
        ctx.set(dut.entropy.valid, 0)
        assert await kp(ctx, dut, 3) == S.INVALID_ENC_ALG
        assert (await cfg(ctx, dut, 5, True, 1))[0] == CfgStatus.OK
        assert await kp(ctx, dut, 63) == S.PROG_SUCCESS
        assert await kp(ctx, dut, 64) == S.INVALID_KEYID
        # KT_LOCK: DEVICE_BUSY, but only after the earlier checks; sticky until reset.
        assert (await cfg(ctx, dut, 6, True, 1))[0] == CfgStatus.OK
        assert await kp(ctx, dut, 3, enc_alg=4) == S.INVALID_ENC_ALG
        assert await kp(ctx, dut, 3, command=1) == S.DEVICE_BUSY
        assert await cfg(ctx, dut, 6, True, 0) == (CfgStatus.LOCKED, 1)
        assert ctx.get(dut.config.kt_lock) == 1
        assert await kp(ctx, dut, 3) == S.DEVICE_BUSY

    run_sim(dut, tb)


def test_reset_zeroizes_and_atomic_commit_cycle():
    dut = KeyTable()
    rst = Signal()

    async def tb(ctx):
        await scrub(ctx, dut)
        ctx.set(dut.entropy.valid, 1)
        assert (await cfg(ctx, dut, 0, True, TME_EN6))[0] == CfgStatus.OK
        ctx.set(dut.entropy.valid, 0)
        assert await kp(ctx, dut, 5, key1=0xA1, key2=0xA2) == S.PROG_SUCCESS
        # Reprogram slot 5 and watch the read port in the handshake cycle and after it.
        await stream_put(ctx, dut.kp_req, kp_cmd(5, key1=0xB1, key2=0xB2))
        await ctx.tick().until(dut.kp_rsp.valid)
        ctx.set(dut.kp_rsp.ready, 1)
        ctx.set(dut.key_addr, 5)
        ctx.set(dut.key_en, 1)
        assert ctx.get(dut.slot_states[5]) == SlotState.KEY
        await ctx.tick()               # handshake edge: a read issued in this cycle sees old keys
        assert ctx.get(dut.key_data.k1) == 0xA1
        ctx.set(dut.kp_rsp.ready, 0)
        await ctx.tick()               # the next cycle's read sees the new keys
        assert ctx.get(dut.key_data.k1) == 0xB1
        # Clear in the handshake cycle: the state is still KEY during that cycle.
        await stream_put(ctx, dut.kp_req, kp_cmd(5, command=2))
        await ctx.tick().until(dut.kp_rsp.valid)
        assert ctx.get(dut.slot_states[5]) == SlotState.KEY
        ctx.set(dut.kp_rsp.ready, 1)
        await ctx.tick()
        ctx.set(dut.kp_rsp.ready, 0)
        assert ctx.get(dut.slot_states[5]) == SlotState.EMPTY
        # Reset: slots EMPTY at once, key rows scrubbed, registers 0.
        assert await kp(ctx, dut, 6, key1=0xC1, key2=0xC2) == S.PROG_SUCCESS
        ctx.set(rst, 1)
        await ctx.tick()
        ctx.set(rst, 0)
        assert ctx.get(dut.slot_states[6]) == SlotState.EMPTY
        assert ctx.get(dut.config.tme_enable) == 0
        assert ctx.get(dut.kp_req.ready) == 0          # scrubbing
        await scrub(ctx, dut)
        assert await read_key(ctx, dut, 6) == (0, 0, 0)
        assert await read_key(ctx, dut, 0) == (0, 0, 0)

    run_sim(ResetInserter({"sync": rst})(dut), tb)


def test_no_handshake_during_reset():
    """While the reset is asserted no port of the table may complete a handshake: a command
    taken or a status given in that cycle would be lost with the state it changes."""
    dut = KeyTable(slots=4)
    m = Module()
    m.domains.sync = cd = ClockDomain()
    m.submodules.dut = dut

    async def tb(ctx):
        await scrub(ctx, dut)
        # A command waiting in IDLE, one stalled in RSP: each port offered in the reset cycle.
        ctx.set(dut.kp_req.valid, 1)
        ctx.set(dut.kp_req.payload, kp_cmd(3, command=4))
        ctx.set(dut.entropy.valid, 1)
        ctx.set(cd.rst, 1)
        assert ctx.get(dut.kp_req.ready) == 0
        await ctx.tick()
        ctx.set(cd.rst, 0)
        await scrub(ctx, dut)
        await ctx.tick()                                   # the command is taken now
        ctx.set(dut.kp_req.valid, 0)
        await ctx.tick().until(dut.kp_rsp.valid)
        ctx.set(cd.rst, 1)
        assert ctx.get(dut.kp_rsp.valid) == 0
        assert ctx.get(dut.cfg_req.ready) == 0 and ctx.get(dut.entropy.ready) == 0
        await ctx.tick()
        ctx.set(cd.rst, 0)
        assert ctx.get(dut.kp_rsp.valid) == 0              # the aborted status is gone

    run_sim(m, tb)
