"""The two SEV demos (run through the registry and the CLI) and the firmware's coherence with
the CPU model's cache."""

import io
import subprocess
import sys

from golden_model.cpu import Cpu
from golden_model.demos import get_demo
from golden_model.demos.asid_reuse import SECRET_A
from golden_model.demos.sev_guest_dump import SECRET, SHARED_MESSAGE
from golden_model.engine import Engine
from golden_model.entropy import EntropySource
from golden_model.sev import GuestOwner, SecureProcessor, SevStatus, launch_digest

from . import start


def _run(name: str) -> tuple[bool, str]:
    out = io.StringIO()
    return get_demo(name).run(out), out.getvalue()


def test_sev_guest_dump_demo():
    ok, text = _run("sev-guest-dump")
    assert ok, text
    assert "guest secret        absent (ciphertext)" in text
    assert "shared buffer       visible" in text
    assert "guest secret        VISIBLE" in text  # the run without SEV
    assert SECRET.decode() in text and SHARED_MESSAGE.decode() in text


def test_asid_reuse_demo():
    ok, text = _run("asid-reuse")
    assert ok, text
    assert repr(SECRET_A) in text  # the hazard, shown before the rule
    rows = {" ".join(line.split()) for line in text.splitlines()}
    assert "ACTIVATE(B, 1) without WBINVD+DF_FLUSH -> DFFLUSH_REQUIRED" in rows
    assert "DF_FLUSH without WBINVD -> WBINVD_REQUIRED" in rows
    assert "ACTIVATE(B, 1) -> SUCCESS" in rows
    assert "expected" not in text


def test_demos_through_the_cli():
    for name in ("sev-guest-dump", "asid-reuse"):
        proc = subprocess.run([sys.executable, "-m", "golden_model", "demo", name],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_update_data_sees_data_still_in_the_cpu_cache():
    # The hypervisor's copy of the image may still be dirty in the CPU cache; the firmware
    # writes it back first (read-sized write-back-invalidate) or it would measure stale DRAM.
    engine = Engine(entropy=EntropySource(seed=1))
    cpu = Cpu(engine)
    sp = SecureProcessor(engine, cpu=cpu, seed=7)
    assert sp.init() == SevStatus.SUCCESS
    sp.wbinvd()
    assert sp.df_flush() == SevStatus.SUCCESS
    owner = GuestOwner(0, seed=1)
    h = start(sp, owner)
    assert sp.activate(h, 1) == SevStatus.SUCCESS
    image = b"kernel".ljust(128, b"!")
    pa = cpu.alloc_frame()
    cpu.write_phys(pa, image)
    assert cpu.cache.is_dirty(pa)
    assert sp.launch_update_data(h, pa, len(image)) == SevStatus.SUCCESS
    assert not cpu.cache.contains(pa)  # no stale plaintext alias left behind
    m = sp.launch_measure(h).measurement
    st = sp.platform_status()
    assert owner.verify_measurement(m, launch_digest(image), api_major=st.api_major,
                                    api_minor=st.api_minor, build=st.build)
    assert cpu.read_phys(pa | cpu.c_bit, len(image), asid=1) == image
    assert cpu.read_phys(pa, len(image)) != image
