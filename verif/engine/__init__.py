"""Engine-level cocotb tests and helpers."""
