"""The inline memory-encryption engine (docs/architecture.md, docs/integration.md).

- :mod:`.layouts`: stream payload layouts and code enums;
- :mod:`.decode`: address decode (Intel KeyID / AMD C-bit + ASID);
- :mod:`.config`: configuration registers (MSR mirror) and lock rules;
- :mod:`.keytable`: key slots, key-program and configuration command sequencer;
- :mod:`.tweak`: XTS tweak unit and alpha multiply;
- :mod:`.acceptance`: request acceptance (decode, queue entries, key read, tweak start);
- :mod:`.write_queue`: writes and errored requests in order, with the same-line probe;
- :mod:`.stream_queue`: a FIFO with ``lib.stream`` ports (the read queue and the others);
- :mod:`.read_tags`: DRAM tags and read contexts;
- :mod:`.write_path`: the encrypt pipelines and their queues;
- :mod:`.dram_issue`: hazard-aware DRAM issue, completions, error responses;
- :mod:`.read_path`: DRAM responses and the decrypt pipelines;
- :mod:`.response_arbiter`: upstream responses;
- :mod:`.lanes`: how a line is spread over ``lanes`` pipelines;
- :mod:`.engine`: the core with ``lib.stream`` ports (:class:`MEEngine`), wiring the above;
- :mod:`.top`: :class:`MEEngineTop`, the flat Verilog port list (``mee_engine``).
"""
