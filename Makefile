# Two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_TEST := nut-server nut-client mosquitto mosquitto-clients xvfb xauth python3-tk xclip chromium
APT_DEMO := nut-server nut-client mosquitto mosquitto-clients

.PHONY: demo test venv apt-test apt-demo bench clean

$(BIN)/siaga: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/siaga

apt-test:
	@sh scripts/apt-need.sh $(APT_TEST)

apt-demo:
	@sh scripts/apt-need.sh $(APT_DEMO)

demo: apt-demo venv
	$(BIN)/siaga demo

test: apt-test venv
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: apt-test venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
