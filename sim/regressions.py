"""The regression list: every cocotb job ``make sim`` knows, as data.

A job names a design (``"package.module:Callable"`` and parameters), a cocotb test module and
optionally the cocotb tests to run, plus knobs passed as environment variables. ``smoke`` jobs
form the shortened regression that ``make test`` runs on both simulators; ``make sim`` runs
all jobs; ``make regress`` runs them with many seeds.
"""

import dataclasses

__all__ = ["SimJob", "REGRESSION"]


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
    testcase : tuple of str or None
        cocotb tests to run (all when None).
    env : dict
        Knobs passed to the test as environment variables.
    smoke : bool
        Part of the short regression that CI runs.
    """

    name: str
    design: str
    module: str
    verilog_name: str
    params: dict = dataclasses.field(default_factory=dict)
    testcase: tuple | None = None
    env: dict = dataclasses.field(default_factory=dict)
    smoke: bool = True


REGRESSION = [
    SimJob("aes_encrypt_random", "rtl.aes.pipeline:AESEncryptPipeline", "verif.aes.cocotb_aes",
           "aes_encrypt_pipeline", {"tag_width": 8}, ("encrypt_random_keys",)),
    SimJob("aes_decrypt_random", "rtl.aes.pipeline:AESDecryptPipeline", "verif.aes.cocotb_aes",
           "aes_decrypt_pipeline", {"tag_width": 8}, ("decrypt_random_keys",)),
]
