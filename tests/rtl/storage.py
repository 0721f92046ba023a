"""Every storage element of an elaborated design, found by walking its fragments (for the
zeroization tests: the design says what it stores, the tests do not hand-list it).

A storage element is a signal assigned in a clocked domain (a register), the words of a
writable memory, or the data register of a memory's synchronous read port (ROMs included: the
register holds what was looked up).
"""

from dataclasses import dataclass, field

from amaranth.hdl import ClockDomain, Fragment, Module
from amaranth.hdl._mem import MemoryInstance

__all__ = ["Storage", "storage_of"]


@dataclass
class Storage:
    """The elaborated design and what it stores.

    Attributes
    ----------
    fragment : Fragment
        Simulate this (``Simulator(storage.fragment)``): it holds the signals listed here.
    domain : ClockDomain
        The ``sync`` domain: drive ``domain.rst`` to reset the design.
    registers : dict
        ``"path/name"`` -> Signal, every signal assigned in a clocked domain.
    memories : dict
        ``"path"`` -> MemoryData.
    read_registers : dict
        ``"path/read_portN.data"`` (also in :attr:`registers`) -> the MemoryData it reads.
    """

    fragment: Fragment
    domain: ClockDomain
    registers: dict = field(default_factory=dict)
    memories: dict = field(default_factory=dict)
    read_registers: dict = field(default_factory=dict)


def storage_of(dut):
    """Elaborate *dut* under an explicit ``sync`` domain and list its storage elements."""
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    storage = Storage(Fragment.get(top, None), domain)

    def walk(fragment, path):
        if isinstance(fragment, MemoryInstance):
            if fragment._write_ports:
                # (A memory without a write port is a ROM: constants, nothing it could keep.)
                storage.memories[path] = fragment._data
            for n, port in enumerate(fragment._read_ports):
                if port._domain != "comb":
                    storage.registers[f"{path}/read_port{n}.data"] = port._data
                    storage.read_registers[f"{path}/read_port{n}.data"] = fragment._data
        for domain_name, statements in fragment.statements.items():
            if domain_name == "comb":
                continue
            for statement in statements:
                for signal in statement._lhs_signals():
                    storage.registers[f"{path}/{signal.name}"] = signal
        for sub, name, _ in fragment.subfragments:
            walk(sub, f"{path}/{name}" if path else str(name))

    walk(storage.fragment, "")
    return storage
