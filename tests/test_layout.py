"""The folders say what runs where (issue 17): no package imports back up into one that uses it.

protocol/ is shared by the three programs; agent/ runs on the PC, edge/ on the Pi, dashboard/ on
the Pi or IT's server; siaga/ is the command and may use them all. Every import is read with
``ast``, at module level and inside functions alike (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.journal import Journal
from protocol.messages import EventKind
from siaga.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "agent", "edge", "dashboard", "siaga")
MAY_IMPORT = {
    "protocol": set(),
    "agent": {"protocol"},
    "edge": {"protocol"},
    "dashboard": {"protocol"},
    "siaga": {"protocol", "agent", "edge", "dashboard"},
}
# `python -m edge.cli` of the Windows tasks installed before the move (docs/agent.md).
SHIM = ("edge/cli.py", "siaga")
# What `pip install siaga` (no extras, the PC) brings besides the standard library.
PC_LIBRARIES = {"paho", "psutil", "simpleobsws"}


def imported(source: str) -> list[tuple[str, int]]:
    """(top-level name, line) of every absolute import in ``source``, wherever it is."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name.split(".")[0], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno))
    return found


def modules(package: str) -> list[Path]:
    """Every module of one package, sub-packages included."""
    return sorted((ROOT / package).rglob("*.py"))


def test_imported_sees_imports_inside_functions():
    source = "import os\ndef run():\n    from dashboard.web import app\n    import flask.json\n"
    assert imported(source) == [("os", 1), ("dashboard", 3), ("flask", 4)]


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_is_below_it(package):
    assert (ROOT / package / "__init__.py").is_file()
    breaches = []
    for path in modules(package):
        rel = path.relative_to(ROOT).as_posix()
        for top, line in imported(path.read_text()):
            if top in PACKAGES and top != package and top not in MAY_IMPORT[package] \
                    and (rel, top) != SHIM:
                breaches.append(f"{rel}:{line} imports {top}")
    assert breaches == []


@pytest.mark.parametrize("package", ["protocol", "agent"])
def test_the_pc_code_needs_only_the_plain_install(package):
    """What runs on the PC imports the standard library, protocol/ and the PC's libraries."""
    allowed = set(sys.stdlib_module_names) | PC_LIBRARIES | {"protocol", "agent"}
    strangers = [f"{p.relative_to(ROOT)}:{line} imports {top}" for p in modules(package)
                 for top, line in imported(p.read_text()) if top not in allowed]
    assert strangers == []


def run_siaga(argv: list[str], cwd: Path) -> list[str]:
    """Run `siaga ARGV` in a fresh interpreter; the web libraries it loaded."""
    code = ("import sys\nfrom siaga.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug', 'waitress'}))")
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    return done.stdout.splitlines()[-1:]


def write_config(tmp_path: Path) -> Path:
    """A Pi's file whose UPS, broker and alert URL are loopback ports nobody listens on."""
    urls = tmp_path / "alert-urls"
    urls.write_text(f"json://127.0.0.1:{free_port()}/\n")
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\n[mqtt]\nport = {free_port()}\n'
                    f'[[ups]]\nname = "meeting"\nport = {free_port()}\n[gpio]\npin_factory = "mock"\n'
                    f'[dashboard]\ndatabase = "{tmp_path / "dashboard.sqlite3"}"\n'
                    f'[alerts]\nurls_file = "{urls}"\n')
    return path


@pytest.mark.servers   # runs `siaga`
def test_siaga_report_loads_no_flask(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.append("rr1", time.time() - 2 * 86400, EventKind.POWER_LOST, {"ups": "meeting"})
    journal.close()
    config, out = write_config(tmp_path), tmp_path / "report.json"
    assert run_siaga(["report", "--help"], tmp_path) == ["[]"]
    assert run_siaga(["report", "-c", str(config), "--journal", str(tmp_path / "journal.sqlite3"),
                      "--format", "json", "-o", str(out)], tmp_path) == ["[]"]
    assert '"rr1"' in out.read_text()


@pytest.mark.servers   # runs `siaga`
def test_siaga_check_loads_no_flask_even_with_alerts(tmp_path):
    assert run_siaga(["check", "-c", str(write_config(tmp_path))], tmp_path) == ["[]"]


@pytest.mark.servers   # runs `siaga`
def test_the_old_windows_tasks_command_still_runs_the_agent(tmp_path):
    """`python -m edge.cli agent` (tasks installed before the move) reaches `siaga agent`."""
    done = subprocess.run([sys.executable, "-m", "edge.cli", "agent", "-c", str(tmp_path / "no.toml")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "no.toml" in done.stderr and "Traceback" not in done.stderr


def test_no_test_file_imports_another():
    """Shared helpers and fixtures live in support modules and conftest.py, not in test files."""
    strangers = [f"{p.name}:{line}" for p in sorted((ROOT / "tests").glob("*.py"))
                 for node in ast.walk(ast.parse(p.read_text()))
                 if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.test_")
                 for line in [node.lineno]]
    assert strangers == []
