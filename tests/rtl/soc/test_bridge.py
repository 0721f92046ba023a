"""MEEBridge in its bypass build, in Migen's simulator: one L2 line access = one DRAM access.

The engine build instantiates the engine's Verilog, which Migen cannot simulate; it is covered
end to end by test_soc_sim.py. Here the bridge's own protocol is checked: the KeyID bits of the
window are dropped, writes and reads reach the DRAM side with the right address and data, and
every upstream access is acknowledged exactly once.
"""

from litex.soc.interconnect import wishbone
from migen.sim import run_simulation

from rtl.soc.bridge import MEEBridge
from rtl.soc.engine import engine_params

RAM_BITS, KEYID_BITS = 16, 4
ORIGIN = 0x4000_0000


def _bridge():
    up = wishbone.Interface(data_width=512, address_width=32, addressing="word")
    down = wishbone.Interface(data_width=512, address_width=32, addressing="word")
    dut = MEEBridge(up, down, window_origin=ORIGIN, ram_bits=RAM_BITS, keyid_bits=KEYID_BITS,
                    engine_params=engine_params(ram_bits=RAM_BITS, keyid_bits=KEYID_BITS), bypass=True)
    return dut, up, down


def _line(n):
    return int.from_bytes(bytes((n + i) & 0xFF for i in range(64)), "little")


def test_bypass_drops_the_keyid_and_moves_whole_lines():
    dut, up, down = _bridge()
    dram = {}
    log = []
    # (keyid, line index, write?) through the window; keyid bits sit above the RAM bits.
    accesses = [(1, 5, True), (3, 5, False), (0, 7, True), (15, 7, False), (2, 9, False)]
    results = []

    def l2():
        for keyid, line, write in accesses:
            adr = (ORIGIN + (keyid << RAM_BITS) + line * 64) >> 6
            yield up.adr.eq(adr)
            yield up.we.eq(write)
            yield up.dat_w.eq(_line(line + keyid))
            yield up.cyc.eq(1)
            yield up.stb.eq(1)
            acks = 0
            for _ in range(50):
                yield
                if (yield up.ack):
                    acks += 1
                    results.append((yield up.dat_r))
                    break
            assert acks == 1, f"access {keyid, line, write} not acknowledged"
            yield up.cyc.eq(0)
            yield up.stb.eq(0)
            yield
            yield  # one idle cycle: an ack must not repeat
            assert not (yield up.ack)

    def dram_side():
        for _ in range(600):
            if (yield down.cyc) and (yield down.stb) and not (yield down.ack):
                adr, we = (yield down.adr), (yield down.we)
                log.append((adr, we))
                if we:
                    dram[adr] = (yield down.dat_w)
                else:
                    yield down.dat_r.eq(dram.get(adr, 0))
                yield down.ack.eq(1)
                yield
                yield down.ack.eq(0)
            yield

    run_simulation(dut, [l2(), dram_side()])
    # The DRAM sees line indices with the KeyID bits gone, one access per upstream access.
    assert log == [(5, 1), (5, 0), (7, 1), (7, 0), (9, 0)]
    # Reads return what was written through another KeyID (bypass: no encryption at all).
    assert results[1] == _line(5 + 1)
    assert results[3] == _line(7 + 0)
    assert results[4] == 0
