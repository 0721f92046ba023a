"""Shared helpers for the engine's Amaranth-simulator unit tests (Glasgow-style stream helpers)."""

from amaranth.sim import Simulator

__all__ = ["run_sim", "stream_put", "stream_get", "cfg_fields", "xts_line_encrypt", "alpha"]


def run_sim(dut, testbench, *, clocked=True, vcd=None, deadline=None):
    """Run one async testbench against ``dut`` (1 MHz clock when ``clocked``)."""
    sim = Simulator(dut)
    if clocked:
        sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run_until(deadline) if deadline else sim.run()
    else:
        sim.run_until(deadline) if deadline else sim.run()


async def stream_put(ctx, stream, payload):
    """Offer ``payload`` on ``stream`` and wait for the transfer (valid dropped afterwards)."""
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload, payload)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def stream_get(ctx, stream):
    """Accept one transfer from ``stream`` and return its payload."""
    ctx.set(stream.ready, 1)
    (payload,) = await ctx.tick().sample(stream.payload).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload


def cfg_fields(regs, pa_width=48):
    """The ``config_layout`` value of raw register values ``{addr: value}`` (architecture §6)."""
    tme = regs.get(0, 0)
    page = ((1 << pa_width) - 1) & ~0xFFF
    return {
        "mode": regs.get(5, 0) & 1,
        "tme_lock": tme & 1,
        "tme_enable": (tme >> 1) & 1,
        "tme_bypass": (tme >> 31) & 1,
        "keyid_bits": (tme >> 32) & 0xF,
        "algs": (tme >> 48) & 0xFFFF,
        "excl_enable": (regs.get(1, 0) >> 11) & 1,
        "excl_mask": regs.get(1, 0) & page,
        "excl_base": regs.get(2, 0) & page,
        "mem_enc_en": (regs.get(3, 0) >> 23) & 1,
        "tsme": regs.get(4, 0) & 1,
        "kt_lock": regs.get(6, 0) & 1,
    }


def alpha(t):
    """Multiply a 128-bit little-endian XTS tweak by alpha (docs/architecture.md §2)."""
    t <<= 1
    if t >> 128:
        t = (t ^ 0x87) & ((1 << 128) - 1)
    return t


def _aes_ecb(key, block, decrypt=False):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    c = Cipher(algorithms.AES(key.to_bytes(16, "little")), modes.ECB())
    op = c.decryptor() if decrypt else c.encryptor()
    out = op.update(block.to_bytes(16, "little")) + op.finalize()
    return int.from_bytes(out, "little")


def xts_tweak(k2, i):
    """T_0 = AES_K2(i) as a little-endian integer."""
    return _aes_ecb(k2, i)


def xts_line_encrypt(k1, k2, i, line, decrypt=False):
    """XTS-AES-128 of one 512-bit line built from ECB (any key pair, K1 == K2 included)."""
    t = xts_tweak(k2, i)
    out = 0
    for j in range(4):
        p = (line >> (128 * j)) & ((1 << 128) - 1)
        c = _aes_ecb(k1, p ^ t, decrypt) ^ t
        out |= c << (128 * j)
        t = alpha(t)
    return out
