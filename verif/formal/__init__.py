"""Formal properties (SymbiYosys from PyPI): harnesses, property helpers and the job list.

``python -m sim.formal`` runs the jobs of :mod:`verif.formal.jobs`; docs/security.md says which
guarantee each one checks.
"""
