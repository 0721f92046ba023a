"""Verification-only HDL generated with the DUT (the burst transport of the pyuvm env)."""
