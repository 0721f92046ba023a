"""The pyuvm scoreboard's cycle ordering and checks, without a simulator.

Events are fed in the order a simulator might report them; the scoreboard must apply the
cycle rule (a request accepted in the cycle of a command's response handshake sees the old
state) and must flag a wrong DRAM line, a wrong response and a wrong command status.
"""

import itertools

import pytest
from pyuvm import ConfigDB

from golden_model.entropy import EntropySource
from golden_model.xts import xts_encrypt_line
from verif.bfm.stream import StreamTransaction
from verif.uvm.env import CommandEvent, EngineScoreboard

SEED = 3
TME = (1 << 1) | (6 << 32) | (1 << 48)
K1, K2 = 0x11 * (2 ** 120), 0x22 * (2 ** 120)
LINE = 0x1000
ADDR = (1 << 42) | LINE  # KeyID 1
DATA = 0xABCDEF
_NAMES = itertools.count()


class _FakeTB:
    class dram:  # noqa: N801 - stands in for the DRAM model's memory
        mem = {}


def _txn(cycle, **fields):
    t = StreamTransaction(**fields)
    t.cycle = cycle
    return t


def _scoreboard():
    ConfigDB().clear()
    ConfigDB().set(None, "*", "TB", _FakeTB())
    ConfigDB().set(None, "*", "ENTROPY_SEED", SEED)
    sb = EngineScoreboard(f"sb{next(_NAMES)}", None)
    sb.build_phase()
    return sb


def _events(sb, req_cycle, kp_cycle=10):
    sb._on_cmd(CommandEvent("cfg", {"addr": 0, "write": 1, "data": TME},
                            {"status": 0, "data": TME}, 5))
    # Reported in the "wrong" order on purpose: request first, then the command.
    sb._on_req(_txn(req_cycle, addr=ADDR, write=1, asid=0, tag=3, data=DATA))
    sb._on_cmd(CommandEvent("kp", {"keyid": 1, "command": 0, "enc_alg": 1, "key1": K1,
                                   "key2": K2}, {"status": 0}, kp_cycle))


def _line(keys):
    return int.from_bytes(xts_encrypt_line(*keys, LINE, DATA.to_bytes(64, "little")), "little")


def _tme_keys():
    w = EntropySource(seed=SEED).word(0)
    return (w & ((1 << 128) - 1)).to_bytes(16, "little"), (w >> 128).to_bytes(16, "little")


NEW = (K1.to_bytes(16, "little"), K2.to_bytes(16, "little"))


@pytest.mark.parametrize("req_cycle,keys", [(10, "old"), (11, "new"), (9, "old")])
def test_cycle_rule(req_cycle, keys):
    sb = _scoreboard()
    _events(sb, req_cycle)
    want = _line(_tme_keys() if keys == "old" else NEW)
    sb._on_dram(_txn(30, addr=LINE, write=1, tag=0, data=want))
    sb._on_rsp(_txn(31, tag=3, data=0, error=0))
    assert not sb.errors
    sb.check_phase()


@pytest.mark.parametrize("req_cycle,keys", [(10, "new"), (11, "old")])
def test_wrong_key_side_of_the_boundary_fails(req_cycle, keys):
    sb = _scoreboard()
    _events(sb, req_cycle)
    sb._on_dram(_txn(30, addr=LINE, write=1, tag=0,
                     data=_line(_tme_keys() if keys == "old" else NEW)))
    assert sb.errors and "DRAM write" in sb.errors[0]
    with pytest.raises(AssertionError):
        sb.check_phase()


def test_wrong_response_and_status_fail():
    sb = _scoreboard()
    sb._on_cmd(CommandEvent("kp", {"keyid": 1, "command": 0, "enc_alg": 1, "key1": 0,
                                   "key2": 0}, {"status": 0}, 4))  # TME off: INVALID_KEYID
    sb._on_req(_txn(6, addr=0x41, write=0, asid=0, tag=1, data=0))  # BAD_ADDRESS
    sb._on_rsp(_txn(9, tag=1, data=0, error=0))
    assert len(sb.errors) == 2
    assert "kp" in sb.errors[0] and "error 0" in sb.errors[1]


def test_missing_dram_write_fails():
    sb = _scoreboard()
    sb._on_req(_txn(6, addr=0x40, write=1, asid=0, tag=1, data=5))
    sb._on_rsp(_txn(9, tag=1, data=0, error=0))
    with pytest.raises(AssertionError, match="never seen"):
        sb.check_phase()


# -- DRAM reads, entropy draws, err_dram_rsp_tag -----------------------------------------------

class _Flag:
    def __init__(self, value):
        self.value = value


class _Entropy:
    def __init__(self, words=(), cycles=()):
        self.consumed, self.consumed_cycles = list(words), list(cycles)


@pytest.fixture(autouse=True)
def _clean_fake_tb():
    for name in ("entropy", "err_dram_rsp_tag", "expect_err_dram_rsp_tag"):
        if name in vars(_FakeTB):
            delattr(_FakeTB, name)
    yield
    for name in ("entropy", "err_dram_rsp_tag", "expect_err_dram_rsp_tag"):
        if name in vars(_FakeTB):
            delattr(_FakeTB, name)


def _tb_class_attrs(**attrs):
    for name, value in attrs.items():
        setattr(_FakeTB, name, value)


def test_predicted_dram_read_passes():
    sb = _scoreboard()
    sb._on_req(_txn(6, addr=0x40, write=0, asid=0, tag=1, data=0))  # TME off: plaintext read
    sb._on_dram(_txn(8, addr=0x40, write=0, tag=0, data=0))
    sb._on_rsp(_txn(12, tag=1, data=0, error=0))
    sb.check_phase()
    assert sb.checked["dram_reads"] == 1


def test_errored_request_reaching_dram_fails():
    sb = _scoreboard()
    sb._on_req(_txn(6, addr=0x41, write=0, asid=0, tag=1, data=0))  # BAD_ADDRESS: no DRAM
    sb._on_dram(_txn(8, addr=0x40, write=0, tag=0, data=0))
    assert sb.errors and "unpredicted DRAM read of 0x40" in sb.errors[0]


def test_predicted_dram_read_never_seen_fails():
    sb = _scoreboard()
    sb._on_req(_txn(6, addr=0x40, write=0, asid=0, tag=1, data=0))
    sb._on_rsp(_txn(12, tag=1, data=0, error=0))
    with pytest.raises(AssertionError, match="DRAM reads never seen"):
        sb.check_phase()


def _tme_on(sb, cycle=5):
    sb._on_cmd(CommandEvent("cfg", {"addr": 0, "write": 1, "data": TME},
                            {"status": 0, "data": TME}, cycle))
    sb.flush()


def test_entropy_draw_matches():
    _tb_class_attrs(entropy=_Entropy([EntropySource(seed=SEED).word(0)], [4]))
    sb = _scoreboard()
    _tme_on(sb)
    assert not sb.errors and sb.checked["entropy"] == 1


def test_entropy_draw_missing_fails():
    _tb_class_attrs(entropy=_Entropy())
    sb = _scoreboard()
    _tme_on(sb)
    assert sb.errors and "the RTL drew 0 words, the model 1" in sb.errors[0]


def test_entropy_wrong_word_fails():
    _tb_class_attrs(entropy=_Entropy([EntropySource(seed=SEED).word(1)], [4]))
    sb = _scoreboard()
    _tme_on(sb)
    assert sb.errors and "other words" in sb.errors[0]


@pytest.mark.parametrize("second_ok", [True, False])
def test_later_entropy_word_checked_after_earlier_ones_matched(second_ok):
    """The check compares only words not compared before: a wrong word drawn after earlier
    words matched is still caught (and a right one passes)."""
    words = [EntropySource(seed=SEED).word(i) for i in range(2)]
    if not second_ok:
        words[1] ^= 1
    _tb_class_attrs(entropy=_Entropy(words, [4, 20]))
    sb = _scoreboard()
    _tme_on(sb)
    assert not sb.errors and sb._entropy_ok == 1
    # KeyID 1, SET_KEY_RANDOM: the model draws the second word; the RTL drew it at cycle 20.
    sb._on_cmd(CommandEvent("kp", {"keyid": 1, "command": 1, "enc_alg": 1, "key1": 0,
                                   "key2": 0}, {"status": 0}, 21))
    sb.flush()
    assert sb.model.entropy.words_drawn == 2
    assert bool(sb.errors) is not second_ok
    if not second_ok:
        assert "other words" in sb.errors[0]


def test_extra_entropy_draw_fails_at_the_end():
    words = [EntropySource(seed=SEED).word(i) for i in range(2)]
    _tb_class_attrs(entropy=_Entropy(words, [4, 9]))
    sb = _scoreboard()
    _tme_on(sb)
    assert not sb.errors  # the second word was drawn after the command's response
    with pytest.raises(AssertionError, match="the RTL drew 2 words, the model 1"):
        sb.check_phase()


@pytest.mark.parametrize("flag,expected,ok", [(0, False, True), (1, True, True),
                                              (1, False, False), (0, True, False)])
def test_err_dram_rsp_tag_checked(flag, expected, ok):
    _tb_class_attrs(err_dram_rsp_tag=_Flag(flag), expect_err_dram_rsp_tag=expected)
    sb = _scoreboard()
    sb._on_req(_txn(6, addr=0x41, write=0, asid=0, tag=1, data=0))
    sb._on_rsp(_txn(9, tag=1, data=0, error=1))
    if ok:
        sb.check_phase()
    else:
        with pytest.raises(AssertionError, match=f"err_dram_rsp_tag is {flag}"):
            sb.check_phase()


@pytest.mark.parametrize("rec", [
    {"c": 12, "ev": "req", "tag": 3, "a": "0x40000", "w": 1, "asid": 0, "d": "0a1b2c3d4e5f6071"},
    {"c": 13, "ev": "dram_w", "a": "0x0", "d": None},
    {"c": 14, "ev": "kp", "args": {"keyid": "0x1"}, "got": [0, 1]},
    {"c": 15, "ev": "reset", "dropped": True},
    {"c": 16, "ev": "odd", "s": 'quote " and \\ and é', "f": 1.5},
])
def test_trace_lines_are_json_dumps(rec):
    """The trace's fast serializer writes exactly what json.dumps writes (traces stay
    comparable byte for byte with earlier runs)."""
    import json

    from verif.uvm.env import _json_line

    assert _json_line(rec) == json.dumps(rec, separators=(",", ":"))
