"""edge.powerdown: the flag NUT's shutdown hook reads exists exactly while the core wants it."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.powerdown import SDMAGIC, PowerdownFlag


def test_flag_written_whole_then_removed(tmp_path: Path) -> None:
    flag = PowerdownFlag(str(tmp_path / "killpower"))
    flag.hold(False)
    assert not (tmp_path / "killpower").exists()
    flag.hold(True)
    assert (tmp_path / "killpower").read_text().startswith(SDMAGIC)
    assert [p.name for p in tmp_path.iterdir()] == ["killpower"]   # no temporary file left
    flag.hold(False)
    assert list(tmp_path.iterdir()) == []


def test_unset_path_never_touches_anything(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    PowerdownFlag("").hold(True)
    assert list(tmp_path.iterdir()) == []


def test_a_flag_that_cannot_be_written_is_logged_once(tmp_path: Path, caplog) -> None:
    flag = PowerdownFlag(str(tmp_path / "no-such-dir" / "killpower"))
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            flag.hold(True)
    assert len(caplog.records) == 1 and "cannot write the power-down flag" in caplog.text
