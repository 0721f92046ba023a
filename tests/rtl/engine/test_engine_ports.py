"""No combinational path from an input port of the engine's datapath to an output port
(issue 9: such paths limit the clock of whatever surrounds the engine).

Random traffic, random DRAM responses (stray tags included) and random backpressure drive the
engine through many states; in every cycle the inputs are set to several random values in
turn and every output is read back: the outputs must not change within the cycle."""

import random

from amaranth.sim import Simulator

from rtl.engine.engine import MEEngine
from rtl.engine.layouts import CfgStatus, KeyProgramStatus

from ._util import stream_get, stream_put

INPUTS = ("up_req.valid", "up_req.payload", "dram_rsp.valid", "dram_rsp.payload",
          "up_rsp.ready", "dram_req.ready")
OUTPUTS = ("up_req.ready", "up_rsp.valid", "up_rsp.payload", "dram_req.valid",
           "dram_req.payload", "dram_rsp.ready", "err_dram_rsp_tag")


def _member(dut, path):
    port, _, field = path.partition(".")
    value = getattr(dut, port)
    return getattr(value, field) if field else value


def _random_inputs(rng, dut, issued_tags):
    keyid = rng.randrange(4)
    return {
        "up_req.valid": rng.randrange(2),
        "up_req.payload": {"addr": (keyid << 42) | (64 * rng.randrange(8)),
                           "write": rng.randrange(2), "asid": 0, "tag": rng.randrange(256),
                           "data": rng.randrange(1 << 512)},
        "dram_rsp.valid": rng.randrange(2),
        "dram_rsp.payload": {"tag": rng.choice(issued_tags or [0]) if rng.random() < 0.8
                             else rng.randrange(32), "data": rng.randrange(1 << 512)},
        "up_rsp.ready": rng.randrange(2),
        "dram_req.ready": rng.randrange(2),
    }


def test_no_input_to_output_combinational_path():
    dut = MEEngine(sbox="table")
    rng = random.Random(12)

    async def tb(ctx):
        await ctx.tick().until(dut.kp_req.ready)
        ctx.set(dut.entropy.valid, 1)
        ctx.set(dut.entropy.payload, 1)
        await stream_put(ctx, dut.cfg_req, {"addr": 0, "write": 1,
                                            "data": (1 << 1) | (6 << 32) | (1 << 48)})
        assert (await stream_get(ctx, dut.cfg_rsp)).status == CfgStatus.OK
        await stream_put(ctx, dut.kp_req, {"keyid": 1, "command": 0, "enc_alg": 1,
                                           "key1": 5, "key2": 6})
        assert (await stream_get(ctx, dut.kp_rsp)).status == KeyProgramStatus.PROG_SUCCESS
        issued = []
        for _cycle in range(300):
            outputs = None
            for _trial in range(4):
                for name, value in _random_inputs(rng, dut, issued).items():
                    ctx.set(_member(dut, name), value)
                now = [ctx.get(_member(dut, name)) for name in OUTPUTS]
                assert outputs is None or now == outputs, "an output follows an input"
                outputs = now
            if ctx.get(dut.dram_req.valid) and ctx.get(dut.dram_req.ready):
                request = ctx.get(dut.dram_req.payload)
                if not request.write:
                    issued.append(request.tag)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
