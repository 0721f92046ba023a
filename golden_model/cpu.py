"""The CPU side: page tables with C-bit / KeyID bits, a write-back cache, SEV nested paging.

The engine only sees line requests with an address (carrying the C-bit or KeyID) and an ASID.
Which address and ASID a load or store produces is the CPU's business, and that is where the
interesting failures live: aliases that are not coherent, stale dirty lines, private versus
shared guest pages. This module models exactly that much of an x86-64 CPU:

* :class:`Cache`: write-back, write-allocate, keyed by ``(asid, full PA)`` including the tag bits,
  so aliases of one DRAM line are separate lines (facts §1.6, §3.10); CLFLUSH and WBINVD.
* :class:`PageTables`: x86-64 four-level tables with 4 KiB pages, stored in memory through the
  cache (so they are encrypted like any other data); the PA field of every entry carries the
  C-bit or KeyID bits, as on real hardware.
* :class:`Cpu`: host accesses, ``set_memory_encrypted`` / ``set_memory_decrypted``.
* :class:`Guest`: an SEV guest, with nested page tables and the private/shared routing rules.

On an AMD platform (:mod:`golden_model.platform`) the CPU knows its usable physical-address
width: an address with a bit set between that width and the PA width (other than the C-bit)
is a reserved-bit #PF in a page walk and a :class:`PhysicalAddressFault` on a physical
access, as is an access beyond the end of DRAM (facts §1.1: reduced PA bits behave like
reserved bits). A guest's private access through an ASID that has no key in the engine (the
firmware never ACTIVATEd it) raises :class:`GuestFault` at once, rather than caching stores
that could never be written back.

The API is described in ``docs/golden_model.md`` ("CPU side").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from .config import Mode
from .engine import Engine, ErrorCode, Request

__all__ = [
    "PAGE_SIZE",
    "PTE_PRESENT",
    "PTE_WRITABLE",
    "PTE_USER",
    "PTE_NX",
    "PageFault",
    "PhysicalAddressFault",
    "GuestFault",
    "Cache",
    "MemoryPort",
    "PageTables",
    "Cpu",
    "Guest",
]

PAGE_SIZE = 4096
_LINE = 64
PTE_PRESENT = 1 << 0
PTE_WRITABLE = 1 << 1
PTE_USER = 1 << 2
PTE_NX = 1 << 63


class PageFault(Exception):
    """#PF: the translation of ``va`` failed (``reason`` says why)."""

    def __init__(self, va: int, reason: str) -> None:
        super().__init__(f"#PF at {va:#x}: {reason}")
        self.va = va
        self.reason = reason


class PhysicalAddressFault(Exception):
    """A physical access to an address that does not exist: a reserved (reduced) PA bit set,
    or beyond the end of DRAM."""


class GuestFault(Exception):
    """An SEV guest access the hardware cannot perform (its ASID has no key: never activated)."""


def _chunks(addr: int, n: int, size: int) -> Iterator[tuple[int, int, int]]:
    # (address, offset into the caller's buffer, length) pieces that do not cross a `size` boundary
    done = 0
    while done < n:
        take = min(n - done, size - (addr + done) % size)
        yield addr + done, done, take
        done += take


class Cache:
    """A write-back, write-allocate cache of 64-byte lines in front of an :class:`Engine`.

    Lines are keyed by ``(asid, line address)`` where the address is the full PA including the
    C-bit / KeyID bits. Capacity is unlimited: lines leave only by :meth:`clflush`,
    :meth:`wbinvd` or :meth:`evict`, so a demo decides exactly when a stale line is written back.

    Attributes
    ----------
    errors : list of (int, int, ErrorCode)
        ``(addr, asid, error)`` of every fill or write-back the engine refused.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lines: dict[tuple[int, int], list] = {}  # key -> [bytearray data, dirty]
        self.errors: list[tuple[int, int, ErrorCode]] = []

    def __repr__(self) -> str:
        return f"<Cache {len(self._lines)} lines, {sum(e[1] for e in self._lines.values())} dirty>"

    def _line(self, addr: int, asid: int, fill: bool = True) -> list:
        key = (asid, addr)
        entry = self._lines.get(key)
        if entry is None:
            data = bytes(_LINE)
            if fill:
                resp = self.engine.request(Request(addr, False, asid))
                if resp.error:
                    self.errors.append((addr, asid, resp.error))
                data = resp.data
            entry = self._lines[key] = [bytearray(data), False]
        return entry

    def read(self, pa: int, n: int, asid: int = 0) -> bytes:
        """``n`` bytes at full PA ``pa`` (any alignment); misses fill from the engine."""
        out = bytearray(n)
        for addr, off, take in _chunks(pa, n, _LINE):
            line = self._line(addr & ~(_LINE - 1), asid)[0]
            out[off:off + take] = line[addr % _LINE:addr % _LINE + take]
        return bytes(out)

    def write(self, pa: int, data: bytes, asid: int = 0) -> None:
        """Store ``data`` at full PA ``pa``; the lines become dirty (a whole-line store skips the fill)."""
        for addr, off, take in _chunks(pa, len(data), _LINE):
            entry = self._line(addr & ~(_LINE - 1), asid, fill=take != _LINE)
            entry[0][addr % _LINE:addr % _LINE + take] = data[off:off + take]
            entry[1] = True

    def contains(self, pa: int, asid: int = 0) -> bool:
        """Whether the line holding ``pa`` is cached under ``asid``."""
        return (asid, pa & ~(_LINE - 1)) in self._lines

    def is_dirty(self, pa: int, asid: int = 0) -> bool:
        entry = self._lines.get((asid, pa & ~(_LINE - 1)))
        return bool(entry and entry[1])

    def _write_back(self, key: tuple[int, int], entry: list) -> None:
        if entry[1]:
            asid, addr = key
            resp = self.engine.request(Request(addr, True, asid, bytes(entry[0])))
            if resp.error:
                self.errors.append((addr, asid, resp.error))

    def evict(self, pa: int, asid: int = 0) -> None:
        """Write back (if dirty) and drop the one line ``(asid, pa)``, as a capacity eviction would."""
        key = (asid, pa & ~(_LINE - 1))
        entry = self._lines.pop(key, None)
        if entry is not None:
            self._write_back(key, entry)

    clflush = evict  # CLFLUSH acts on exactly the line of that address (and ASID), no alias

    def wbinvd(self) -> None:
        """Write back every dirty line (in insertion order) and invalidate the whole cache."""
        lines, self._lines = self._lines, {}
        for key, entry in lines.items():
            self._write_back(key, entry)


class MemoryPort(Protocol):
    """Where a set of page tables lives: 8-byte reads and writes in its own address space."""

    def read_u64(self, addr: int) -> int: ...

    def write_u64(self, addr: int, value: int) -> None: ...


class _HostPort:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def read_u64(self, addr: int) -> int:
        return int.from_bytes(self.cache.read(addr, 8, 0), "little")

    def write_u64(self, addr: int, value: int) -> None:
        self.cache.write(addr, value.to_bytes(8, "little"), 0)


class PageTables:
    """x86-64 four-level page tables (PML4, PDPT, PD, PT), 4 KiB pages, 48-bit VAs.

    Parameters
    ----------
    port : MemoryPort
        Memory holding the tables (host physical memory, or guest memory for a guest's tables).
    alloc : callable
        Returns a fresh zeroed 4 KiB frame address (untagged) in ``port``'s address space.
    pa_width : int
        Entries hold the next address in bits [pa_width-1:12], tag bits included.
    table_tag : int
        C-bit / KeyID bits put into CR3 and every non-leaf entry (the tables' own encryption).
    tag_mask : int
        The bits that are tag (C-bit or KeyID) in an entry, for :meth:`set_leaf_tag`.
    reserved_mask : int
        Address bits that must be zero in every entry (above the reduced PA width); a walk
        that meets one raises a reserved-bit :class:`PageFault`.

    Attributes
    ----------
    root : int
        The CR3 value: PML4 address including ``table_tag``.
    """

    def __init__(self, port: MemoryPort, alloc, pa_width: int, table_tag: int = 0, tag_mask: int = 0,
                 reserved_mask: int = 0) -> None:
        self.port = port
        self.reserved_mask = reserved_mask
        self._alloc = alloc
        self.addr_mask = ((1 << pa_width) - 1) & ~(PAGE_SIZE - 1)
        self.table_tag = table_tag
        self.tag_mask = tag_mask
        self.root = self._new_table()

    def __repr__(self) -> str:
        return f"<PageTables root={self.root:#x}>"

    def _new_table(self) -> int:
        frame = self._alloc() | self.table_tag
        for off in range(0, PAGE_SIZE, 8):  # a fresh table must read as not-present everywhere
            self.port.write_u64(frame + off, 0)
        return frame

    @staticmethod
    def _indices(va: int) -> list[int]:
        if va >> 47 not in (0, (1 << 17) - 1):
            raise PageFault(va, "non-canonical address")
        return [(va >> (12 + 9 * level)) & 0x1FF for level in (3, 2, 1, 0)]

    def _leaf_entry_addr(self, va: int, create: bool) -> int | None:
        table = self.root
        idx = self._indices(va)
        for i in idx[:3]:
            entry_addr = (table & self.addr_mask) + 8 * i
            entry = self.port.read_u64(entry_addr)
            if not entry & PTE_PRESENT:
                if not create:
                    return None
                entry = self._new_table() | PTE_PRESENT | PTE_WRITABLE | PTE_USER
                self.port.write_u64(entry_addr, entry)
            if entry & self.addr_mask & self.reserved_mask:
                raise PageFault(va, f"reserved bit set in a table entry ({entry:#x})")
            table = entry
        return (table & self.addr_mask) + 8 * idx[3]

    def map(self, va: int, pa: int, *, writable: bool = True, nx: bool = False) -> None:
        """Map the 4 KiB page at ``va`` to ``pa`` (full PA: set the C-bit / KeyID here)."""
        if va % PAGE_SIZE or pa % PAGE_SIZE:
            raise ValueError("map() takes 4 KiB-aligned addresses")
        entry = (pa & self.addr_mask) | PTE_PRESENT | PTE_USER
        entry |= PTE_WRITABLE if writable else 0
        entry |= PTE_NX if nx else 0
        self.port.write_u64(self._leaf_entry_addr(va, create=True), entry)

    def unmap(self, va: int) -> None:
        """Remove the mapping of the page at ``va`` (no-op if unmapped)."""
        addr = self._leaf_entry_addr(va, create=False)
        if addr is not None:
            self.port.write_u64(addr, 0)

    def pte(self, va: int) -> int | None:
        """The leaf entry of ``va`` (``None`` if a level is not present)."""
        addr = self._leaf_entry_addr(va, create=False)
        if addr is None:
            return None
        entry = self.port.read_u64(addr)
        return entry if entry & PTE_PRESENT else None

    def set_leaf_tag(self, va: int, tag: int) -> None:
        """Replace the tag bits (C-bit / KeyID) of the leaf entry of ``va``."""
        addr = self._leaf_entry_addr(va, create=False)
        if addr is None:
            raise PageFault(va, "not mapped")
        entry = self.port.read_u64(addr)
        self.port.write_u64(addr, (entry & ~self.tag_mask) | (tag & self.tag_mask))

    def translate(self, va: int, *, write: bool = False, fetch: bool = False) -> int:
        """The full PA (tag bits included) of ``va``; raises :class:`PageFault`."""
        entry = self.pte(va)
        if entry is None:
            raise PageFault(va, "not present")
        if write and not entry & PTE_WRITABLE:
            raise PageFault(va, "write to a read-only page")
        if fetch and entry & PTE_NX:
            raise PageFault(va, "instruction fetch from an NX page")
        if entry & self.addr_mask & self.reserved_mask:
            raise PageFault(va, f"reserved bit set in the PTE ({entry:#x}): "
                                "beyond the physical-address width")
        return (entry & self.addr_mask) | (va & (PAGE_SIZE - 1))


class Cpu:
    """One CPU (all cores share the cache) in front of an :class:`Engine`.

    Parameters
    ----------
    engine : Engine
        The memory-encryption engine (and through it, DRAM).
    first_frame : int
        First physical frame handed out by :meth:`alloc_frame`.
    phys_addr_bits : int or None
        Usable system physical-address width (AMD: PA width minus CPUID Fn8000_001F
        EBX[11:6]). Bits from it up to the PA width, the C-bit excepted, are reserved.
        ``None``: no reduction.

    Attributes
    ----------
    cache : Cache
    reserved_pa_mask : int
        The reserved physical-address bits.
    """

    def __init__(self, engine: Engine, *, first_frame: int = 0x10_0000,
                 phys_addr_bits: int | None = None) -> None:
        self.engine = engine
        self.cache = Cache(engine)
        self._next_frame = first_frame
        self._host_port = _HostPort(self.cache)
        p = engine.params
        reserved = 0
        if phys_addr_bits is not None:
            if not 12 < phys_addr_bits <= p.pa_width:
                raise ValueError(f"phys_addr_bits must be in 13..{p.pa_width}, not {phys_addr_bits}")
            reserved = ((1 << p.pa_width) - 1) & ~((1 << phys_addr_bits) - 1) & ~(1 << p.c_bit_pos)
        self.reserved_pa_mask = reserved

    def __repr__(self) -> str:
        return f"<Cpu {self.cache!r}>"

    # Tags --------------------------------------------------------------------------------------

    @property
    def c_bit(self) -> int:
        """The AMD C-bit as an address mask."""
        return 1 << self.engine.params.c_bit_pos

    def _keyid_bits(self) -> int:
        from .config import ConfigReg, keyid_bits_field

        return keyid_bits_field(self.engine.config_read(ConfigReg.TME_ACTIVATE))

    def keyid_tag(self, keyid: int) -> int:
        """``keyid`` placed in the top KEYID_BITS of the PA (Intel)."""
        k = self._keyid_bits()
        if keyid >> k:
            raise ValueError(f"KeyID {keyid} does not fit KEYID_BITS={k}")
        return keyid << (self.engine.params.pa_width - k) if k else 0

    @property
    def tag_mask(self) -> int:
        """The PA bits that are tag in the engine's current mode."""
        if self.engine.mode is Mode.AMD:
            return self.c_bit
        k = self._keyid_bits()
        return ((1 << k) - 1) << (self.engine.params.pa_width - k)

    def alloc_frame(self) -> int:
        """A fresh 4 KiB frame (untagged PA)."""
        frame = self._next_frame
        size = self.engine.dram.size
        if size is not None and frame + PAGE_SIZE > size:
            raise PhysicalAddressFault(f"out of memory: no 4 KiB frame left below {size:#x}")
        self._next_frame += PAGE_SIZE
        return frame

    # Physical access ---------------------------------------------------------------------------

    def check_pa(self, pa: int, n: int = 1) -> int:
        """Return ``pa`` if ``n`` bytes there exist; else raise :class:`PhysicalAddressFault`."""
        if pa < 0 or pa & self.reserved_pa_mask:
            raise PhysicalAddressFault(f"PA {pa:#x} sets a reserved bit (mask {self.reserved_pa_mask:#x}): "
                                       "beyond the physical-address width")
        size = self.engine.dram.size
        if size is not None:
            end = (pa & ~self.tag_mask) + max(n, 1)
            if end > size:
                raise PhysicalAddressFault(f"PA {pa:#x} (+{n}) is beyond the end of DRAM ({size:#x})")
        return pa

    def read_phys(self, pa: int, n: int, *, asid: int = 0) -> bytes:
        """``n`` bytes at full PA ``pa`` through the cache."""
        return self.cache.read(self.check_pa(pa, n), n, asid)

    def write_phys(self, pa: int, data: bytes, *, asid: int = 0) -> None:
        """Store ``data`` at full PA ``pa`` through the cache."""
        self.cache.write(self.check_pa(pa, len(data)), data, asid)

    def clflush(self, pa: int, *, asid: int = 0) -> None:
        """CLFLUSH the line of full PA ``pa`` (only that alias, only that ASID)."""
        self.cache.clflush(self.check_pa(pa), asid)

    def wbinvd(self) -> None:
        """WBINVD: write back and invalidate every line."""
        self.cache.wbinvd()

    # Virtual access ----------------------------------------------------------------------------

    def new_page_tables(self, *, tag: int = 0) -> PageTables:
        """Empty host page tables whose table frames carry ``tag`` (CR3 and upper-level C-bit/KeyID)."""
        return PageTables(self._host_port, self.alloc_frame, self.engine.params.pa_width, tag, self.tag_mask,
                          self.reserved_pa_mask)

    def _access(self, pt: PageTables, va: int, n: int, *, write: bool, fetch: bool = False):
        for page_va, off, take in _chunks(va, n, PAGE_SIZE):
            yield self.check_pa(pt.translate(page_va, write=write, fetch=fetch), take), off, take

    def read(self, pt: PageTables, va: int, n: int) -> bytes:
        """Load ``n`` bytes at ``va`` through ``pt``."""
        return b"".join(self.cache.read(pa, take) for pa, _, take in self._access(pt, va, n, write=False))

    def fetch(self, pt: PageTables, va: int, n: int) -> bytes:
        """Instruction fetch of ``n`` bytes at ``va`` (NX is checked)."""
        return b"".join(self.cache.read(pa, take)
                        for pa, _, take in self._access(pt, va, n, write=False, fetch=True))

    def write(self, pt: PageTables, va: int, data: bytes) -> None:
        """Store ``data`` at ``va`` through ``pt``."""
        for pa, off, take in self._access(pt, va, len(data), write=True):
            self.cache.write(pa, data[off:off + take])

    def _set_c_bit(self, pt: PageTables, va: int, npages: int, c: bool) -> None:
        for page in range(va, va + npages * PAGE_SIZE, PAGE_SIZE):
            pa = pt.translate(page)
            # Linux prepare_pte_enc(): flush the page through its current mapping first, because the
            # new alias is a different cache line and the hardware will not keep the two coherent.
            for line in range(pa & ~(PAGE_SIZE - 1), (pa & ~(PAGE_SIZE - 1)) + PAGE_SIZE, _LINE):
                self.cache.clflush(line)
            entry = pt.pte(page)
            pt.set_leaf_tag(page, (entry | self.c_bit) if c else (entry & ~self.c_bit))

    def set_memory_encrypted(self, pt: PageTables, va: int, npages: int = 1) -> None:
        """Flush the pages, then set the C-bit in their PTEs (AMD). Contents are not converted."""
        saved, pt.tag_mask = pt.tag_mask, self.c_bit
        try:
            self._set_c_bit(pt, va, npages, True)
        finally:
            pt.tag_mask = saved

    def set_memory_decrypted(self, pt: PageTables, va: int, npages: int = 1) -> None:
        """Flush the pages, then clear the C-bit in their PTEs (AMD). Contents are not converted."""
        saved, pt.tag_mask = pt.tag_mask, self.c_bit
        try:
            self._set_c_bit(pt, va, npages, False)
        finally:
            pt.tag_mask = saved

    # SEV ---------------------------------------------------------------------------------------

    def new_guest(self, asid: int, *, npt_tag: int = 0, es: bool = False) -> Guest:
        """An SEV (``es``: SEV-ES) guest with ASID ``asid``; its nested tables' frames carry ``npt_tag``."""
        return Guest(self, asid, npt_tag=npt_tag, es=es)


class _GuestPrivatePort:
    # Guest page-table walks are always private (guest key), whatever the C-bits say.
    def __init__(self, guest: Guest) -> None:
        self.guest = guest

    def read_u64(self, gpa: int) -> int:
        addr, asid = self.guest.route(gpa, private=True)
        return int.from_bytes(self.guest.cpu.cache.read(addr, 8, asid), "little")

    def write_u64(self, gpa: int, value: int) -> None:
        addr, asid = self.guest.route(gpa, private=True)
        self.guest.cpu.cache.write(addr, value.to_bytes(8, "little"), asid)


class Guest:
    """An SEV guest: ASID, nested page tables (GPA → host PA) and its own page tables.

    Parameters
    ----------
    cpu : Cpu
    asid : int
        The guest's ASID (its key slot).
    npt_tag : int
        C-bit for the nested tables' own frames (host memory; 0 = plaintext).
    es : bool
        The guest runs with SEV-ES (its SEV_STATUS reads bit 1 set).

    Attributes
    ----------
    npt : PageTables
        Nested page tables, in host memory, indexed by GPA.
    gpt : PageTables
        The guest's page tables, in guest-private memory, indexed by guest VA, entries hold GPAs.
    """

    def __init__(self, cpu: Cpu, asid: int, *, npt_tag: int = 0, first_gpa: int = 0x10_0000,
                 es: bool = False) -> None:
        if asid == 0:
            raise ValueError("ASID 0 is the host")
        self.cpu = cpu
        self.asid = asid
        self.es = es
        self._c = cpu.c_bit
        self._next_gpa = first_gpa
        self.npt = PageTables(cpu._host_port, cpu.alloc_frame, cpu.engine.params.pa_width, npt_tag, self._c,
                              cpu.reserved_pa_mask)
        self._gpt: PageTables | None = None

    def __repr__(self) -> str:
        return f"<Guest asid={self.asid}>"

    @property
    def gpt(self) -> PageTables:
        """The guest's page tables, built in guest-private memory on first use (that first
        private access is where an ASID without a key faults)."""
        if self._gpt is None:
            width = self.cpu.engine.params.pa_width
            self._gpt = PageTables(_GuestPrivatePort(self), self.alloc_gpa_frame, width,
                                   self._c, self._c)
        return self._gpt

    def alloc_gpa_frame(self) -> int:
        """A fresh guest-physical frame, backed by a fresh host frame in the NPT."""
        gpa = self._next_gpa
        self._next_gpa += PAGE_SIZE
        self.map_gpa(gpa, self.cpu.alloc_frame())
        return gpa

    def map_gpa(self, gpa: int, hpa: int, *, c: bool = False) -> None:
        """NPT entry: GPA page → untagged host PA, with nested C-bit ``c``."""
        self.npt.map(gpa & ~self._c, (hpa & ~self._c) | (self._c if c else 0))

    def map(self, va: int, gpa: int, *, c: bool = True, writable: bool = True, nx: bool = False) -> None:
        """Guest PTE: VA page → GPA, with guest C-bit ``c`` (1 = private)."""
        self.gpt.map(va, (gpa & ~self._c) | (self._c if c else 0), writable=writable, nx=nx)

    def hpa(self, gpa: int) -> int:
        """Untagged host PA behind ``gpa`` (nested walk, host memory)."""
        return self.npt.translate(gpa & ~self._c) & ~self._c

    def route(self, gpa: int, *, private: bool) -> tuple[int, int]:
        """``(engine address, asid)`` of an access to ``gpa`` (APM §15.34.5).

        Private: guest key, i.e. host PA with the C-bit set and the guest's ASID. Shared: ASID 0
        and the nested page table's C-bit (1 = host SME key, 0 = plaintext).
        """
        npa = self.cpu.check_pa(self.npt.translate(gpa & ~self._c))
        if private:
            addr = (npa & ~self._c) | self._c
            error = self.cpu.engine.decode(addr & ~(_LINE - 1), self.asid).error
            if error:
                raise GuestFault(f"guest ASID {self.asid}: private access to GPA {gpa:#x} refused by the "
                                 f"engine ({error.name}): the ASID has no key (never ACTIVATEd?)")
            return addr, self.asid
        return npa, 0

    def rdmsr(self, msr: int) -> int:
        """RDMSR inside the guest: SEV_STATUS (bit 0 SEV, bit 1 SEV-ES); the hypervisor cannot
        intercept it. Any other MSR is #GP (the model has no hypervisor to emulate it)."""
        from .amd import MSR_SEV_STATUS, SEV_STATUS_SEV, SEV_STATUS_SEV_ES
        from .mktme import GeneralProtectionFault

        if msr != MSR_SEV_STATUS:
            raise GeneralProtectionFault(f"guest RDMSR {msr:#x} is not modelled")
        return SEV_STATUS_SEV | (SEV_STATUS_SEV_ES if self.es else 0)

    def _pieces(self, va: int, n: int, *, write: bool, fetch: bool):
        for page_va, off, take in _chunks(va, n, PAGE_SIZE):
            gpa = self.gpt.translate(page_va, write=write, fetch=fetch)
            # Instruction fetches are always private, whatever the guest PTE's C-bit says.
            addr, asid = self.route(gpa, private=fetch or bool(gpa & self._c))
            yield addr, asid, off, take

    def read(self, va: int, n: int, *, fetch: bool = False) -> bytes:
        """Guest load (or instruction fetch) of ``n`` bytes at guest VA ``va``."""
        return b"".join(self.cpu.cache.read(addr, take, asid)
                        for addr, asid, _, take in self._pieces(va, n, write=False, fetch=fetch))

    def write(self, va: int, data: bytes) -> None:
        """Guest store at guest VA ``va``."""
        for addr, asid, off, take in self._pieces(va, len(data), write=True, fetch=False):
            self.cpu.cache.write(addr, data[off:off + take], asid)

    def read_gpa(self, gpa: int, n: int, *, private: bool = True) -> bytes:
        """Guest-physical load (paging off or identity-mapped), private or shared."""
        out = bytearray()
        for a, _, take in _chunks(gpa, n, PAGE_SIZE):
            addr, asid = self.route(a, private=private)
            out += self.cpu.cache.read(addr, take, asid)
        return bytes(out)

    def write_gpa(self, gpa: int, data: bytes, *, private: bool = True) -> None:
        """Guest-physical store, private or shared."""
        for a, off, take in _chunks(gpa, len(data), PAGE_SIZE):
            addr, asid = self.route(a, private=private)
            self.cpu.cache.write(addr, data[off:off + take], asid)
