# Two commands a newcomer runs: `make demo` and `make test`.
# VENV=DIR uses another virtual environment (the demo test passes the one it runs in).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A minimal Debian 12 lacks e2fsprogs (chattr: the journal-fault tests), libatomic1 (Playwright's
# bundled driver) and tzdata (TZ=Pacific/Pago_Pago below would silently be UTC for the C library);
# `make fresh-root` checks that these lists are all a fresh machine needs.
APT_TEST := nut-server nut-client mosquitto mosquitto-clients python3-venv xvfb xauth python3-tk xclip chromium imagemagick xdotool tesseract-ocr \
            libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils obs-studio ffmpeg openssl \
            e2fsprogs libatomic1 tzdata \
            pulseaudio pulseaudio-utils \
            postgresql
APT_DEMO := nut-server nut-client mosquitto mosquitto-clients python3-venv

# axe-core (npm) checks the status page for WCAG 2 AA in Chromium (tests/test_dashboard_browser.py).
AXE := .cache/axe/node_modules/axe-core/axe.min.js

.PHONY: demo test check venv apt-test apt-demo bench install clean axe reliability soak fresh-root ha ha-venv pi-arm64

$(BIN)/siaga: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "Siaga needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[pi,test]'
	touch $@

venv: $(BIN)/siaga

apt-test:
	@sh scripts/apt-need.sh $(APT_TEST)

apt-demo:
	@sh scripts/apt-need.sh $(APT_DEMO)

# `python -m` (not the siaga script) so that the demo runs the code of this checkout.
demo: apt-demo venv
	$(BIN)/python -m siaga demo

$(AXE):
	@command -v npm >/dev/null || sh scripts/apt-need.sh npm
	npm install --silent --no-audit --no-fund --no-save --prefix .cache/axe axe-core@4

axe: $(AXE)

# Home Assistant Core for the discovery tests (tests/test_homeassistant*.py), in a venv of its
# own: its pins clash with ours. 2024.3.3 is the newest that installs on Python 3.11; it needs
# josepy<2 and paho-mqtt 1.6.1 beside it. HA installs an integration's requirements when it first
# loads it; the tests start it with --skip-pip, so those of the integrations it loads here (http,
# onboarding, frontend, mqtt and its platforms) are installed now, at the versions their
# manifests pin.
HA_VERSION := 2024.3.3
HA_VENV := .cache/ha-2024.3
HA_REQUIREMENTS := "josepy<2" "paho-mqtt==1.6.1" "Pillow==10.2.0" "janus==1.0.0" \
	"psutil-home-assistant==0.0.1" "home-assistant-frontend==20240307.0" "SQLAlchemy==2.0.27" \
	"fnv-hash-fast==0.5.0" "securetar==2024.2.1" "numpy==1.26.0" "PyTurboJPEG==1.7.1"
$(HA_VENV)/bin/hass:
	$(PYTHON) -m venv $(HA_VENV)
	$(HA_VENV)/bin/pip install -q --upgrade pip
	$(HA_VENV)/bin/pip install -q "homeassistant==$(HA_VERSION)" $(HA_REQUIREMENTS)
	touch $@

ha-venv: $(HA_VENV)/bin/hass

# The report and alert tests (tests/test_report*.py, test_alert*.py) run twice in the one session:
# in the machine's zone and with the machine 18 h away from the site's (TZ=Pacific/Pago_Pago,
# UTC-11; tests/conftest.py), so a test that reads the machine's date or zone fails at any hour.
# Most tests wait on real servers (upsd, mosquitto, Chromium) rather than compute: the whole suite
# is about 7 CPU-minutes, so eight workers overlap those waits even on a 2-core machine. The tests
# that take tens of seconds come first in the list (tests/conftest.py) and `loadgroup` (with no
# groups marked: every test its own unit) hands the list out a test at a time, in that order, to
# whichever worker is free: the minute-long ones start at once instead of queueing behind each
# other (the default `load` gives each worker a run of consecutive tests first).
WORKERS ?= 8
test: apt-test venv $(AXE) ha-venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadgroup --no-loadscope-reorder --durations=15 $(PYTEST_ARGS)

# The loop while working (under a minute): lint, the types of the programs ([tool.mypy] in
# pyproject.toml), then the tests that start no server and no browser (markers in pyproject.toml,
# given in tests/conftest.py). Two thirds of those tests' time is waiting (an LED blinking in real
# time, a command running over its timeout): four workers that steal work from each other overlap
# the waits (42 s of pytest on the 2-core machine; 56 s with two workers, 85 s with one).
check: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 4 --dist worksteal -m "not servers and not browser and not slow" $(PYTEST_ARGS)

# A current Home Assistant (2026.x needs Python 3.13, which Debian 12 lacks) in a Debian 13 root
# made with mmdebstrap, run there with chroot (scripts/ha-current.sh); for make ha only.
HA_CURRENT := 2026.2.3
HA_ROOT := .cache/trixie-root
$(HA_ROOT)/opt/ha/bin/hass:
	scripts/ha-current.sh build $(HA_ROOT) $(HA_CURRENT) $(HA_CURRENT_REQUIREMENTS)
	touch $@

# The whole real Home Assistant test (make test runs one fixed sample of it: HA starts slowly),
# against 2024.3.3 and then against the current release; figures in docs/homeassistant.md.
HA_TESTS := tests/test_homeassistant.py::test_the_payloads_pass_home_assistants_discovery_schema \
            tests/test_homeassistant_real.py
ha: apt-test venv ha-venv $(HA_ROOT)/opt/ha/bin/hass
	SIAGA_HA_FULL=1 $(BIN)/python -m pytest -q -s $(HA_TESTS) $(PYTEST_ARGS)
	scripts/ha-current.sh run $(HA_ROOT) env SIAGA_HA_FULL=1 $(BIN)/python -m pytest -q -s \
	  $(HA_TESTS) $(PYTEST_ARGS)

# The property tests (fuzzing) with 2,000 examples each instead of make test's 50, then the whole
# fault matrix (72 cells on the real servers, ~15 min; make test runs 4 of them) whose results
# regenerate the table in docs/reliability.md (written even when a cell fails; make then fails).
FAULT_RESULTS := .cache/fault-matrix.jsonl
reliability: apt-test venv
	SIAGA_HYPOTHESIS_PROFILE=reliability $(BIN)/python -m pytest -q tests/test_property_*.py \
	  tests/test_signing.py tests/test_openapi.py $(PYTEST_ARGS)
	mkdir -p .cache && rm -f $(FAULT_RESULTS)
	SIAGA_FAULT_MATRIX=full SIAGA_FAULT_RESULTS=$(CURDIR)/$(FAULT_RESULTS) $(BIN)/python -m pytest \
	  -q tests/test_faults_matrix.py $(PYTEST_ARGS); status=$$?; \
	  $(BIN)/python scripts/reliability_table.py $(FAULT_RESULTS) docs/reliability.md && exit $$status

# Compressed outages with random faults (bench/soak.py); SOAK_OUTAGES=1000 for the issue's figure.
# SOAK_ARGS="--doc docs/reliability.md" writes its figures (with date and commit) into the document.
SOAK_OUTAGES ?= 100
soak: apt-test venv
	$(BIN)/python bench/soak.py --outages $(SOAK_OUTAGES) $(SOAK_ARGS)

bench: apt-test venv
	$(BIN)/python bench/run_all.py

# The two commands on a fresh machine, for real (as root; not part of make test): a minimal Debian
# 12 root (mmdebstrap) with only git, make and Python, a --depth 1 clone of HEAD, `make demo` and
# CI's `.ci/run` inside. FRESH_PYTEST_ARGS="tests/test_x.py" runs a sample instead of the suite.
fresh-root:
	bash scripts/fresh-root.sh

# The Pi install on the Pi's architecture (as root; not part of make test): arm64 roots of Debian 12
# and 13 made with mmdebstrap (cached in .cache/pi-arm64) run by qemu-user-static, the README's
# install commands as user pi, the installed units' ExecStart as their User= (no systemd in a
# chroot), `siaga check` and a power cut on dummy-ups to the page. Emulated pip installs: most of
# an hour for both. PI_ARM64_ARGS="--suite trixie --keep --budget"; results in docs/pi.md.
pi-arm64:
	nice -n 10 $(PYTHON) scripts/pi_arm64.py $(PI_ARM64_ARGS)

# On a Raspberry Pi (as root): packages, user, venv in /opt/siaga, /etc/siaga, units. With bash:
# the script is a bash script (Debian's sh, dash, stops at its first line of bash).
install:
	bash scripts/install-pi.sh $(INSTALL_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .cache/axe $(HA_VENV)
