"""`siaga check` as a user runs it: a config file and the real command."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_config(tmp_path: Path, ups_port: int, mqtt_port: int, gpio: str = "") -> Path:
    path = tmp_path / "siaga.toml"
    path.write_text(f"""
[site]
id = "bappeda-rr1"
[mqtt]
host = "127.0.0.1"
port = {mqtt_port}
[[ups]]
name = "meeting"
port = {ups_port}
[gpio]
pin_factory = "mock"
{gpio}
""")
    return path


def check(path: Path, **env: str) -> subprocess.CompletedProcess:
    """Run it; ``env``: variables set for it (NUT_CONFPATH, SYSTEMD_UNIT_PATH: files of the test)."""
    return subprocess.run([sys.executable, "-m", "siaga", "check", "-c", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, **env})
