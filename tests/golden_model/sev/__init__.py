"""Tests of the SEV firmware model; the helpers below build a booted platform and drive the
hypervisor's side of a launch."""

from golden_model.engine import Engine, EngineParams
from golden_model.entropy import EntropySource
from golden_model.sev import GuestOwner, SecureProcessor, SevStatus

C_BIT = 1 << 47
IMAGE_PA = 0x10_0000


def make_platform(*, slots: int = 64, seed: int = 7, **kwargs) -> tuple[Engine, SecureProcessor]:
    """A freshly booted engine + Secure Processor, platform UNINIT."""
    engine = Engine(params=EngineParams(slots=slots), entropy=EntropySource(seed=1))
    return engine, SecureProcessor(engine, seed=seed, **kwargs)


def ready_platform(**kwargs) -> tuple[Engine, SecureProcessor]:
    """INIT, then WBINVD + DF_FLUSH as the host driver does, so ASIDs are clean."""
    engine, sp = make_platform(**kwargs)
    assert sp.init() == SevStatus.SUCCESS
    sp.wbinvd()
    assert sp.df_flush() == SevStatus.SUCCESS
    return engine, sp


def start(sp: SecureProcessor, owner: GuestOwner, handle: int = 0) -> int:
    """LAUNCH_START with the owner's session; returns the new handle."""
    bundle = owner.build_session(sp.pdh_public)
    result = sp.launch_start(bundle.policy, bundle.dh_cert, bundle.session, handle)
    assert result.status == SevStatus.SUCCESS, result
    return result.handle


def host_write(engine: Engine, pa: int, data: bytes) -> None:
    """The hypervisor writes plaintext with C = 0 (data padded to whole lines)."""
    data = data + bytes(-len(data) % 64)
    for off in range(0, len(data), 64):
        assert engine.write(pa + off, data[off : off + 64]).error == 0


def host_read(engine: Engine, pa: int, n: int) -> bytes:
    """The hypervisor reads with ASID 0 and C = 0: DRAM as it is."""
    first = pa - pa % 64
    out = b"".join(engine.read(line).data for line in range(first, pa + n, 64))
    return out[pa - first : pa - first + n]


def guest_read(engine: Engine, pa: int, n: int, asid: int) -> bytes:
    """The guest reads private memory: its ASID and C = 1."""
    first = pa - pa % 64
    out = b""
    for line in range(first, pa + n, 64):
        resp = engine.read(line | C_BIT, asid)
        assert resp.error == 0, resp.error
        out += resp.data
    return out[pa - first : pa - first + n]


def launch_running(sp: SecureProcessor, engine: Engine, owner: GuestOwner, asid: int,
                   image: bytes = b"guest firmware image".ljust(64, b".")) -> int:
    """A full launch to RUNNING on ``asid``: START, ACTIVATE, UPDATE_DATA, MEASURE, FINISH."""
    handle = start(sp, owner)
    assert sp.activate(handle, asid) == SevStatus.SUCCESS
    host_write(engine, IMAGE_PA, image)
    assert sp.launch_update_data(handle, IMAGE_PA, len(image)) == SevStatus.SUCCESS
    assert sp.launch_measure(handle).status == SevStatus.SUCCESS
    assert sp.launch_finish(handle) == SevStatus.SUCCESS
    return handle
