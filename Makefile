# Two commands a newcomer runs: `make demo` and `make test`.
# VENV=DIR uses another virtual environment (the demo test passes the one it runs in).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_TEST := nut-server nut-client mosquitto mosquitto-clients python3-venv xvfb xauth python3-tk xclip chromium imagemagick xdotool tesseract-ocr openssl
APT_DEMO := nut-server nut-client mosquitto mosquitto-clients python3-venv

.PHONY: demo test venv apt-test apt-demo bench install clean

$(BIN)/siaga: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "Siaga needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/siaga

apt-test:
	@sh scripts/apt-need.sh $(APT_TEST)

apt-demo:
	@sh scripts/apt-need.sh $(APT_DEMO)

# `python -m` (not the siaga script) so that the demo runs the code of this checkout.
demo: apt-demo venv
	$(BIN)/python -m edge.cli demo

test: apt-test venv
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: apt-test venv
	$(BIN)/python bench/run_all.py

# On a Raspberry Pi (as root): packages, user, venv in /opt/siaga, /etc/siaga, units.
install:
	sh scripts/install-pi.sh $(INSTALL_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
