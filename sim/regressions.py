"""The regression list: every cocotb job ``make sim`` knows, as data.

A job names a design (``"package.module:Callable"`` and parameters), a cocotb test module and
optionally the cocotb tests to run, plus knobs passed as environment variables. ``smoke`` jobs
form the shortened regression that ``make test`` runs on both simulators (the pytest wrappers
in ``tests/sim/test_regression.py`` are generated from this list, with each job's ``ci_env``
knobs); ``make sim`` runs all jobs; ``make regress`` runs them with many seeds; ``make
coverage`` reseeds them until functional coverage closes.
"""

import dataclasses

from rtl.aes.pipeline import pipeline_latency

__all__ = ["SimJob", "REGRESSION", "ci_job", "SAMPLING_MODULES"]

#: cocotb test modules whose runs export functional coverage (``fcov.json``).
SAMPLING_MODULES = frozenset({"verif.uvm.cocotb_uvm"})


@dataclasses.dataclass(frozen=True)
class SimJob:
    """One regression entry.

    Parameters
    ----------
    name : str
        Unique test name shown in reports and accepted by ``TESTS=``.
    design : str
        ``"package.module:Callable"`` of the top-level component.
    module : str
        cocotb test module.
    verilog_name : str
        Verilog module name for the design.
    params : dict
        Keyword arguments of the design (part of the build key).
    tests : str or None
        Regular expression selecting the module's cocotb tests (all when None).
    env : dict
        Knobs passed to the test as environment variables.
    smoke : bool
        Part of the short regression that CI runs.
    ci_env : dict
        Per simulator (``{"icarus": {...}}``), knobs that replace ``env`` entries in CI.
    expect_error : str or None
        The job is meant to fail: a regular expression its log must match (the declared
        reason), and the run must fail or report an ``expect_fail`` test as failed as
        expected. A failure for another reason fails the job.
    """

    name: str
    design: str
    module: str
    verilog_name: str
    params: dict = dataclasses.field(default_factory=dict)
    tests: str | None = None
    env: dict = dataclasses.field(default_factory=dict)
    smoke: bool = True
    ci_env: dict = dataclasses.field(default_factory=dict)
    expect_error: str | None = None

    @property
    def samples_coverage(self):
        """Whether this job's runs export functional coverage (:data:`SAMPLING_MODULES`)."""
        return self.module in SAMPLING_MODULES


def ci_job(job, sim):
    """*job* with its CI knobs for *sim* applied (what ``make test`` runs)."""
    return dataclasses.replace(job, env={**job.env, **job.ci_env.get(sim, {})})


_ENGINE = dict(design="rtl.engine.top:MEEngineTop", verilog_name="mee_engine")
# CI lengths: Icarus evaluates the three AES pipelines every active cycle (~10-20 engine cycles
# per CPU second), so its CI variants are short.
_DIRECTED = dict(module="verif.engine.cocotb_engine", ci_env={"icarus": {"N_OPS": 24}}, **_ENGINE)
_UVM_CI = {"icarus": {"UVM_N": 0.5, "UVM_BURSTS": 2, "UVM_BURST_LEN": 15},
           "verilator": {"UVM_N": 1, "UVM_BURSTS": 4, "UVM_BURST_LEN": 40}}
# The uvm jobs drive the bare engine: the burst transport (verif/harness, design
# "verif.harness.burst:BurstHarness", Verilog "mee_burst") works with the same tests but its
# Verilator build takes about 25 minutes, too long for make test (issue 13 is still open).
_UVM = dict(module="verif.uvm.cocotb_uvm", ci_env=_UVM_CI, **_ENGINE)
# Icarus runs the composite S-boxes gate by gate (10,000 decryptions take about 8 minutes):
# its CI variants check fewer random blocks.
_AES_ICARUS_CI = {"icarus": {"AES_BLOCKS": 1000}}
_AES_ENC = dict(design="rtl.aes.pipeline:AESEncryptPipeline", module="verif.aes.cocotb_aes",
                verilog_name="aes_encrypt_pipeline", params={"tag_width": 8},
                ci_env=_AES_ICARUS_CI)
_AES_DEC = dict(design="rtl.aes.pipeline:AESDecryptPipeline", module="verif.aes.cocotb_aes",
                verilog_name="aes_decrypt_pipeline", params={"tag_width": 8},
                ci_env=_AES_ICARUS_CI)
_AES_WRONG = r"block \d+ \(cycle \d+\): got [0-9a-f]+, expected [0-9a-f]+"

REGRESSION = [
    # AES pipelines: FIPS-197 vectors and random blocks with a new key every cycle.
    SimJob("aes_encrypt", env={"AES_DIRECTION": "encrypt", "AES_LATENCY": pipeline_latency(1),
                               "AES_TAG_WIDTH": 8, "AES_BLOCKS": 10_000}, **_AES_ENC),
    SimJob("aes_decrypt", env={"AES_DIRECTION": "decrypt", "AES_LATENCY": pipeline_latency(1),
                               "AES_TAG_WIDTH": 8, "AES_BLOCKS": 10_000}, **_AES_DEC),
    # The FPGA style: block-RAM S-boxes, two registers per round (rtl/aes/sbox_rom.py).
    SimJob("aes_encrypt_block_ram", env={"AES_DIRECTION": "encrypt", "AES_TAG_WIDTH": 8,
                                         "AES_LATENCY": pipeline_latency(2), "AES_BLOCKS": 2_000},
           **{**_AES_ENC, "params": {"tag_width": 8, "regs_per_round": 2, "sbox": "ebr"}}),
    SimJob("aes_decrypt_block_ram", env={"AES_DIRECTION": "decrypt", "AES_TAG_WIDTH": 8,
                                         "AES_LATENCY": pipeline_latency(2), "AES_BLOCKS": 2_000},
           **{**_AES_DEC, "params": {"tag_width": 8, "regs_per_round": 2, "sbox": "ebr"}}),
    # The AES checker can fail: one expected block corrupted, the run must fail on that block.
    SimJob("aes_encrypt_checker_fails", tests="random_back_to_back", expect_error=_AES_WRONG,
           env={"AES_DIRECTION": "encrypt", "AES_LATENCY": pipeline_latency(1), "AES_TAG_WIDTH": 8,
                "AES_BLOCKS": 300, "CORRUPT_REFERENCE": 1}, **{**_AES_ENC, "ci_env": {}}),
    SimJob("aes_decrypt_checker_fails", tests="random_back_to_back", expect_error=_AES_WRONG,
           env={"AES_DIRECTION": "decrypt", "AES_LATENCY": pipeline_latency(1), "AES_TAG_WIDTH": 8,
                "AES_BLOCKS": 300, "CORRUPT_REFERENCE": 1}, **{**_AES_DEC, "ci_env": {}}),
    # Engine, directed (each checks DRAM contents and responses against the golden model).
    SimJob("engine_modes", tests="encrypt_decrypt_|bypass_and_exclusion", **_DIRECTED),
    SimJob("engine_key_program", tests="key_program_statuses", **_DIRECTED),
    SimJob("engine_config", tests="config_statuses", **_DIRECTED),
    SimJob("engine_errors", tests="error_responses", **_DIRECTED),
    SimJob("engine_random", tests="random_traffic", **_DIRECTED),
    SimJob("engine_backpressure", tests="backpressure", **_DIRECTED),
    SimJob("engine_key_change", tests="key_change_with_traffic", **_DIRECTED),
    SimJob("engine_cycle_rule", tests="cycle_rule_boundary", **_DIRECTED),
    SimJob("engine_dram_protocol", tests="stray_dram_response", **_DIRECTED),
    # Wider datapaths (lanes 2 and 4 AES pipelines per direction): the same model-checked
    # random traffic, with and without backpressure.
    SimJob("engine_lanes2_random", tests="random_traffic|backpressure", params={"lanes": 2},
           smoke=False, **_DIRECTED),
    SimJob("engine_lanes4_random", tests="random_traffic|backpressure", params={"lanes": 4},
           smoke=False, **_DIRECTED),
    SimJob("engine_scoreboard_selfcheck", tests="mirror_catches",
           expect_error="DRAM writes to 0x[0-9a-f]+ differ from the model", **_DIRECTED),
    # pyuvm environment (verif/uvm): every request, DRAM line and command status checked
    # against the golden model by a cycle-ordered scoreboard; full-length knobs here, the
    # shortened variants run in tests/verif/test_uvm.py.
    SimJob("uvm_smoke", tests="SmokeTest$", **_UVM),
    SimJob("uvm_random", tests="RandomMultiKeyTest$",
           env={"UVM_BURSTS": 8, "UVM_BURST_LEN": 60}, **_UVM),
    SimJob("uvm_stress_backpressure", tests="RandomMultiKeyBackpressureTest",
           env={"UVM_BURSTS": 6, "UVM_BURST_LEN": 50}, **_UVM),
    SimJob("uvm_key_churn", tests="KeyChurnTest", env={"UVM_N": 4}, **_UVM),
    SimJob("uvm_errors", tests="ErrorsTest", env={"UVM_N": 2}, **_UVM),
    SimJob("uvm_config", tests="ConfigTest", env={"UVM_N": 2}, **_UVM),
    SimJob("uvm_reset", tests="ResetTest", env={"UVM_N": 2}, **_UVM),
    SimJob("uvm_sev_guest", tests="SevGuestTest", env={"UVM_N": 2}, **_UVM),
    SimJob("uvm_mktme_vms", tests="MktmeVmsTest", env={"UVM_N": 3}, **_UVM),
    SimJob("uvm_kat", tests="KatTest", **_UVM),
    SimJob("uvm_dram_protocol", tests="DramProtocolTest", **_UVM),
    SimJob("uvm_expected_failure", tests="CorruptedPredictionTest",
           expect_error="scoreboard errors, first: DRAM write 0x[0-9a-f]+ at cycle", **_UVM),
    SimJob("uvm_stress_backpressure_lanes4", tests="RandomMultiKeyBackpressureTest",
           params={"lanes": 4}, env={"UVM_BURSTS": 4, "UVM_BURST_LEN": 50}, smoke=False,
           **_UVM),
]
