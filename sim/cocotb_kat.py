"""cocotb side of ``python -m sim.kat`` (not collected by pytest).

Reads ``$KAT_VECTORS`` (written by :func:`sim.kat.run_vectors`), runs every vector through the
engine and writes one result per vector to ``$KAT_RESULTS``. The cocotb test itself fails when
any vector fails, so a plain runner call reports it too.
"""

import json
import os

import cocotb

from verif.engine_tb import EngineTB

PA_WIDTH = 48
TME_ENABLE = 1 << 1
ALG_XTS128 = 1


@cocotb.test()
async def kat(dut):
    """Program, write (check DRAM ciphertext), read back (check plaintext) for each vector."""
    spec = json.loads(open(os.environ["KAT_VECTORS"]).read())
    k = spec["keyid_bits"]
    results = []
    tb = EngineTB(dut, dram_latency=(2, 6))
    await tb.reset()
    status, _ = await tb.config_write(0, TME_ENABLE | (k << 32) | (ALG_XTS128 << 48))
    assert status == 0, f"TME_ACTIVATE write answered status {status}"
    try:
        for i, v in enumerate(spec["vectors"]):
            keyid = 1 + i % ((1 << k) - 1)
            pa = int(v["pa"], 16)
            full = (keyid << (PA_WIDTH - k)) | pa
            pt = bytes.fromhex(v["plaintext"])
            ct = bytes.fromhex(v["ciphertext"])
            problems = []
            status = await tb.program_key(keyid, 0, bytes.fromhex(v["key1"]),
                                          bytes.fromhex(v["key2"]))
            if status != 0:
                problems.append(f"SET_KEY_DIRECT on KeyID {keyid} answered status {status}")
            before = len(tb.dram.writes)
            rsp = await tb.write_line(full, pt)
            writes = tb.dram.writes[before:]
            if rsp.error:
                problems.append(f"write answered error {rsp.error}")
            elif len(writes) != 1:
                problems.append(f"write produced {len(writes)} DRAM writes")
            else:
                got = writes[0].data.to_bytes(64, "little")
                if writes[0].addr != pa:
                    problems.append(f"DRAM address {writes[0].addr:#x}, expected {pa:#x}")
                if got != ct:
                    problems.append(f"DRAM ciphertext {got.hex()}, expected {ct.hex()}")
            rsp = await tb.read_line(full)
            back = rsp.data.to_bytes(64, "little")
            if rsp.error or back != pt:
                problems.append(f"read back error {rsp.error} data {back.hex()}, "
                                f"expected {pt.hex()}")
            results.append({"line": v["line"], "ok": not problems, "message": "; ".join(problems)})
    finally:
        with open(os.environ["KAT_RESULTS"], "w") as f:
            json.dump(results, f)
    bad = [r for r in results if not r["ok"]]
    assert not bad, f"{len(bad)} vectors failed, first: line {bad[0]['line']}: {bad[0]['message']}"
