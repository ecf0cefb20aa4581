"""`siaga edge` refuses to start with one sentence, never a traceback, when it cannot work."""

import subprocess
import sys

import pytest

BASE = '[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n'


@pytest.mark.parametrize("extra, expected", [
    ('[edge]\njournal = "/proc/no-such-dir/journal.sqlite3"\n[gpio]\npin_factory = "mock"\n',
     "siaga edge: cannot open the journal /proc/no-such-dir/journal.sqlite3"),
    ('[edge]\njournal = "{tmp}/j.sqlite3"\n[gpio]\npin_factory = "native"\n',
     'siaga edge: gpio.pin_factory = "native"'),
])
def test_cannot_start_is_one_sentence(tmp_path, extra, expected):
    config = tmp_path / "siaga.toml"
    config.write_text(BASE + extra.format(tmp=tmp_path))
    result = subprocess.run([sys.executable, "-m", "siaga", "edge", "-c", str(config)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith(expected), result.stderr
    assert "Traceback" not in result.stderr
