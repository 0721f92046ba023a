"""Functional coverage of the engine (DESIGN §8), sampled by a ``uvm_subscriber``.

Covergroups (cocotb-coverage, names under ``mee.``):

- ``mee.req``: read/write x plaintext/encrypted/error, error code x read/write, Intel KeyID
  class (KeyID 0, programmed key, NO_ENCRYPT, EMPTY slot, TME off), back-to-back same-line
  hazards (RAW, WAW, WAR, RAR with the earlier request still in flight);
- ``mee.mode``: mode x C-bit x ASID class (host, guest, out of range);
- ``mee.kp``: key-program command x status (impossible pairs ignored);
- ``mee.cfg``: configuration register x write status (impossible pairs ignored);
- ``mee.inflight``: command kind x requests in flight when it took effect (key change in
  flight);
- ``mee.bp``: ports that actually stalled (pause generator returned 1 at least once);
- ``mee.reset``: reset while idle / with requests in flight;
- ``mee.platform``: platform events (SEV firmware commands that succeeded on the RTL, TME-MK
  alias access).

The collector exports ``coverage.xml`` and ``coverage.yml`` into the run directory at the end
of every test (the database is process-global, so these files hold the whole run);
:mod:`verif.coverage` merges them across runs.
"""

from __future__ import annotations

from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db
from pyuvm import uvm_subscriber

__all__ = ["CoverageCollector", "counting_pause", "sample_backpressure", "sample_reset",
           "sample_platform", "export", "summary", "PORTS", "PLATFORM_EVENTS"]

PORTS = ["up_req", "up_rsp", "dram_req", "dram_rsp", "kp_rsp", "cfg_rsp"]
PLATFORM_EVENTS = ["sev_init", "sev_launch_start", "sev_activate", "sev_launch_update_data",
                   "sev_launch_measure", "sev_launch_secret", "sev_launch_finish",
                   "sev_guest_traffic", "mktme_vm_traffic", "mktme_alias"]
_KP_IGNORE = ([("bad", s) for s in (0, 2, 3, 4, 5)] + [(c, 1) for c in (0, 1, 2, 3)]
              + [(c, 2) for c in (0, 2, 3)])
_CFG_IGNORE = ([("bad", s) for s in (0, 1, 3)] + [(r, 1) for r in (3, 4, 6)]
               + [(r, 3) for r in range(1, 7)])


def _enc(p):
    return "error" if p.error else ("encrypted" if p.encrypted else "plain")


def _keyid_class(p):
    if p.mode != 0:
        return None
    if not p.tme:
        return "tme_off"
    if p.keyid == 0:
        return "keyid0"
    return {0: "empty", 1: "key", 2: "no_encrypt"}.get(p.slot_state)


def _hazard(p):
    if p.same_line_prev is None:
        return None
    return ("W" if p.write else "R") + "A" + p.same_line_prev  # e.g. "RAW": read after write


def _asid_class(p):
    return "host" if p.asid == 0 else ("guest" if p.asid < 63 else "bad")


@CoverPoint("mee.req.rw", xf=lambda p: "W" if p.write else "R", bins=["R", "W"])
@CoverPoint("mee.req.enc", xf=_enc, bins=["plain", "encrypted", "error"])
@CoverPoint("mee.req.error", xf=lambda p: p.error, bins=[0, 1, 2, 3])
@CoverPoint("mee.req.keyid_class", xf=_keyid_class,
            bins=["tme_off", "keyid0", "key", "no_encrypt", "empty"])
@CoverPoint("mee.req.same_line", xf=_hazard, bins=["RAW", "WAW", "WAR", "RAR"])
@CoverPoint("mee.mode.mode", xf=lambda p: p.mode, bins=[0, 1])
@CoverPoint("mee.mode.c_bit", xf=lambda p: p.c_bit, bins=[0, 1])
@CoverPoint("mee.mode.asid", xf=_asid_class, bins=["host", "guest", "bad"])
@CoverCross("mee.req.rw_x_enc", items=["mee.req.rw", "mee.req.enc"])
@CoverCross("mee.req.rw_x_error", items=["mee.req.rw", "mee.req.error"])
@CoverCross("mee.mode.mode_x_cbit_x_asid", items=["mee.mode.mode", "mee.mode.c_bit",
                                                  "mee.mode.asid"])
def sample_request(p):
    """Sample one :class:`~verif.uvm.env.Prediction`."""


def _kp_cmd(c):
    return c if c <= 3 else "bad"


def _inflight(n):
    return "0" if n == 0 else ("1-3" if n <= 3 else "4+")


@CoverPoint("mee.kp.command", xf=lambda ev, got, n: _kp_cmd(ev.args["command"]),
            bins=[0, 1, 2, 3, "bad"])
@CoverPoint("mee.kp.status", xf=lambda ev, got, n: got, bins=[0, 1, 2, 3, 4, 5])
@CoverCross("mee.kp.command_x_status", items=["mee.kp.command", "mee.kp.status"],
            ign_bins=_KP_IGNORE)
def sample_kp(ev, got, n):
    """Sample one key-program command and its status."""


@CoverPoint("mee.cfg.reg", xf=lambda ev, got, n: ev.args["addr"] if ev.args["addr"] <= 6
            else "bad", bins=[0, 1, 2, 3, 4, 5, 6, "bad"])
@CoverPoint("mee.cfg.status", xf=lambda ev, got, n: got[0], bins=[0, 1, 2, 3])
@CoverCross("mee.cfg.reg_x_status", items=["mee.cfg.reg", "mee.cfg.status"],
            ign_bins=_CFG_IGNORE)
def sample_cfg_write(ev, got, n):
    """Sample one configuration write and its status."""


@CoverPoint("mee.inflight.kind", xf=lambda kind, n: kind, bins=["kp", "cfg"])
@CoverPoint("mee.inflight.requests", xf=lambda kind, n: _inflight(n), bins=["0", "1-3", "4+"])
@CoverCross("mee.inflight.kind_x_requests", items=["mee.inflight.kind", "mee.inflight.requests"])
def sample_inflight(kind, n):
    """Sample a command that took effect with *n* requests in flight."""


@CoverPoint("mee.bp.port", xf=lambda port: port, bins=PORTS)
def sample_backpressure(port):
    """Sample a port that stalled at least once."""


@CoverPoint("mee.reset.in_flight", xf=lambda n: "busy" if n else "idle", bins=["idle", "busy"])
def sample_reset(n):
    """Sample a reset with *n* requests in flight."""


@CoverPoint("mee.platform.event", xf=lambda e: e, bins=PLATFORM_EVENTS)
def sample_platform(event):
    """Sample a platform-scenario event."""


def counting_pause(generator, port, counts):
    """Wrap a pause generator: count the cycles it paused in ``counts[port]``."""
    for value in generator:
        if value:
            counts[port] = counts.get(port, 0) + 1
        yield value


def export(prefix="coverage"):
    """Write ``<prefix>.xml`` and ``<prefix>.yml`` (the whole coverage database)."""
    coverage_db.export_to_xml(f"{prefix}.xml")
    coverage_db.export_to_yaml(f"{prefix}.yml")


def summary():
    """``{covergroup: (covered, size, percent)}`` for the top-level groups under ``mee``."""
    out = {}
    for name in sorted(coverage_db):
        if name.count(".") == 1 and name.startswith("mee."):
            item = coverage_db[name]
            out[name] = (item.coverage, item.size, round(item.cover_percentage, 1))
    return out


class CoverageCollector(uvm_subscriber):
    """Samples the covergroups from the scoreboard's predictions and command events."""

    def build_phase(self):
        from .env import _Sub

        self.cmd_sub = _Sub("cmd_sub", self, self._on_cmd)
        self.samples = 0

    def write(self, tt):
        sample_request(tt)
        self.samples += 1

    def _on_cmd(self, item):
        ev, got, n = item
        if ev.kind == "kp":
            sample_kp(ev, got, n)
        elif ev.args["write"]:
            sample_cfg_write(ev, got, n)
        if ev.kind == "kp" or ev.args["write"]:
            sample_inflight(ev.kind, n)
