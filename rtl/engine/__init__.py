"""The inline memory-encryption engine (docs/architecture.md, docs/integration.md).

- :mod:`.layouts`: stream payload layouts and code enums;
- :mod:`.decode`: address decode (Intel KeyID / AMD C-bit + ASID);
- :mod:`.config`: configuration registers (MSR mirror) and lock rules;
- :mod:`.keytable`: key slots, key-program and configuration command sequencer;
- :mod:`.tweak`: XTS tweak unit and alpha multiply;
- :mod:`.engine`: the core with ``lib.stream`` ports (:class:`MEEngine`);
- :mod:`.top`: :class:`MEEngineTop`, the flat Verilog port list (``mee_engine``).
"""
