"""Verilator coverage files: parse, merge, map onto Amaranth lines, exclusions, lcov."""

import pytest

from sim import codecov

VERILOG = '''module top(clk, a, y);
  (* src = "/repo/rtl/x.py:10" *)
  input clk;
  wire clk;
  (* src = "/repo/rtl/x.py:11" *)
  input a;
  wire a;
  wire \\$1 ;
  reg \\$2 ;
  (* src = "/repo/rtl/x.py:12" *)
  output y;
  reg y = 1'h0;
  assign \\$1  = ~ (* src = "/repo/rtl/x.py:20" *) a;
  (* src = "/repo/rtl/x.py:12" *)
  always @(posedge clk)
    y <= \\$2 ;
  always @* begin
    \\$2  = y;
    if (a) begin
      \\$2  = \\$1 ;
    end
  end
endmodule
'''


def _key(path, **fields):
    return "".join(f"\x01{k}\x02{v}" for k, v in {"f": path, **fields}.items())


@pytest.fixture
def design(tmp_path):
    v = tmp_path / "top.v"
    v.write_text(VERILOG)
    return v


def _dat(tmp_path, name, design, counts):
    path = tmp_path / name
    keys = [_key(design, l=19, t="branch", page="v_branch/top", o="if", S="19-20"),
            _key(design, l=19, t="branch", page="v_branch/top", o="else"),
            _key(design, l=6, t="toggle", page="v_toggle/top", o="a:0->1"),
            _key(design, l=8, t="toggle", page="v_toggle/top", o="__0241:0->1"),
            _key(design, l=17, t="line", page="v_line/top", o="block", S="17-18")]
    path.write_text("# SystemC::Coverage-3\n" + "".join(
        f"C '{k}' {c}\n" for k, c in zip(keys, counts, strict=True)))
    return path


def test_merge_sums_counts_per_key(tmp_path, design):
    a = _dat(tmp_path, "a.dat", design, [1, 0, 0, 2, 3])
    b = _dat(tmp_path, "b.dat", design, [0, 4, 0, 1, 1])
    merged = codecov.merge([a, b])
    assert sorted(merged.values()) == [0, 1, 3, 4, 4]
    out = codecov.write_dat(merged, tmp_path / "m.dat")
    assert codecov.read_dat(out) == merged


def test_bad_line_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.dat"
    bad.write_text("# SystemC::Coverage-3\nnot coverage\n")
    with pytest.raises(ValueError, match="bad.dat:2: not a Verilator coverage line"):
        codecov.read_dat(bad)


def test_points_map_onto_amaranth_lines(tmp_path, design):
    pts = codecov.points(codecov.merge([_dat(tmp_path, "a.dat", design, [1, 0, 0, 2, 3])]),
                         root="/repo")
    by = {(p.kind, p.what): p for p in pts}
    # The if's block assigns $2 = $1: $1 is the operator ~a of line 20.
    assert by[("branch", "if")].src == ("rtl/x.py", 20)
    assert by[("branch", "else")].src == ("rtl/x.py", 20)  # where its if is
    assert by[("toggle", "a:0->1")].src == ("rtl/x.py", 11)
    assert by[("toggle", "$1:0->1")].src == ("rtl/x.py", 20)  # demangled __024 -> $
    assert by[("line", "block")].src == ("rtl/x.py", 12)  # the clocked block's attribute
    s = codecov.summarize(pts)
    assert (s["branch"]["hit"], s["branch"]["total"]) == (1, 2)
    assert (s["toggle"]["hit"], s["toggle"]["total"]) == (1, 2)


def test_exclusions_need_a_reason_and_apply(tmp_path, design):
    bad = tmp_path / "bad.yaml"
    bad.write_text("code:\n  - kind: toggle\n")
    with pytest.raises(ValueError, match="exclusion 1 has no reason"):
        codecov.load_exclusions(bad)
    good = tmp_path / "good.yaml"
    good.write_text("code:\n  - kind: toggle\n    signal: a\n    reason: UNR test\n")
    ex = codecov.load_exclusions(good)
    pts = codecov.points(codecov.merge([_dat(tmp_path, "a.dat", design, [1, 0, 0, 2, 3])]),
                         root="/repo")
    s = codecov.summarize(pts, ex)
    assert (s["toggle"]["hit"], s["toggle"]["total"], s["toggle"]["excluded"]) == (1, 1, 1)
    assert s["excluded_by_reason"] == {"UNR test": 1}


def test_lcov_tracefile(tmp_path, design):
    root = tmp_path / "repo"
    (root / "rtl").mkdir(parents=True)
    (root / "rtl" / "x.py").write_text("\n" * 30)
    pts = codecov.points(codecov.merge([_dat(tmp_path, "a.dat", design, [1, 0, 0, 2, 3])]),
                         root="/repo")
    info = codecov.write_lcov(pts, tmp_path / "x.info", root).read_text()
    assert f"SF:{root / 'rtl/x.py'}" in info
    assert "DA:20,0" in info  # the if/else line: its else was never taken
    assert "BRDA:20,0,0,-" in info and "BRDA:20,0,1,1" in info  # else (0 hits), if
