"""FPGA-only wrappers: harnesses that put a wide-port datapath on a real package's pins."""

from .lfsr_wrapper import Lfsr, PipelineHarness, xor_fold

__all__ = ["Lfsr", "PipelineHarness", "xor_fold"]
