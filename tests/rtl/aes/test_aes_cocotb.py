"""cocotb runs of the AES pipelines on Icarus and Verilator (verif/aes/cocotb_aes.py).

Each run drives FIPS-197 B and C.1, 10,000 random back-to-back blocks (2,000 for the
block-RAM style) with a new random key on
every cycle, and 2,000 blocks with bubbles, all checked against ``cryptography``. A last test
corrupts the reference on purpose and requires the run to fail.
"""

import os

import pytest

from rtl.aes.pipeline import pipeline_latency
from sim.runner import run

SIMS = ["icarus", "verilator"]
TAG_WIDTH = 8
DESIGNS = {
    "encrypt": ("rtl.aes.pipeline:AESEncryptPipeline", "aes_encrypt_pipeline"),
    "decrypt": ("rtl.aes.pipeline:AESDecryptPipeline", "aes_decrypt_pipeline"),
}


def _run(sim, direction, regs_per_round=1, **kwargs):
    spec, name = DESIGNS[direction]
    # Each simulator's S-box style by default (sim.runner.SIMULATOR_DEFAULTS: table on Icarus,
    # the synthesized composite style on Verilator); AES_COCOTB_SBOX=composite|table forces one.
    params = {"tag_width": TAG_WIDTH, "regs_per_round": regs_per_round}
    if os.environ.get("AES_COCOTB_SBOX"):
        params["sbox"] = os.environ["AES_COCOTB_SBOX"]
    params.update(kwargs.pop("params", {}))
    env = {"AES_DIRECTION": direction, "AES_LATENCY": pipeline_latency(regs_per_round),
           "AES_TAG_WIDTH": TAG_WIDTH, **kwargs.pop("extra_env", {})}
    return run(spec, "verif.aes.cocotb_aes", sim=sim, params=params, name=name, extra_env=env,
               **kwargs)


@pytest.mark.sim
@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
@pytest.mark.parametrize("sim", SIMS)
def test_pipeline(sim, direction):
    result = _run(sim, direction, extra_env={"AES_BLOCKS": 10_000})
    assert result.tests == 3 and result.failures == 0


@pytest.mark.sim
@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
@pytest.mark.parametrize("sim", SIMS)
def test_pipeline_block_ram_sboxes(sim, direction):
    """The FPGA style (block-RAM S-boxes, two registers per round) on both simulators."""
    result = _run(sim, direction, regs_per_round=2, params={"sbox": "ebr"},
                  extra_env={"AES_BLOCKS": 2_000})
    assert result.tests == 3 and result.failures == 0


@pytest.mark.sim
@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
@pytest.mark.parametrize("sim", SIMS)
def test_corrupted_reference_is_caught(sim, direction):
    result = _run(sim, direction, testcase="random_back_to_back", check=False,
                  extra_env={"AES_BLOCKS": 300, "CORRUPT_REFERENCE": 1})
    assert result.tests == 1 and result.failures == 1
