"""A private PulseAudio server for the capture tests, and programs that record from it.

TESTING.md (2026-12-06): PulseAudio 16.1 runs unprivileged with XDG_RUNTIME_DIR in a private
0700 directory; a copy of ``pacat`` run as ``NAME --record --raw`` opens a capture stream that
the server lists with ``application.process.binary = NAME``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from siaga.servers import ServerMissing, find_program, stop_process


@dataclass
class PulseAudio:
    """``pulseaudio`` with a null sink (its monitor is the source we record from)."""

    directory: Path
    proc: subprocess.Popen | None = None
    recorders: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to find this server (and no other)."""
        return {"XDG_RUNTIME_DIR": str(self.directory), "HOME": str(self.directory),
                "PULSE_SERVER": f"unix:{self.directory}/pulse/native"}

    def start(self) -> "PulseAudio":
        """Start the server and wait until pactl gets an answer."""
        program = find_program("/usr/bin/pulseaudio", "pulseaudio")
        pactl = find_program("pactl", "pulseaudio-utils")
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / "pulseaudio.log", "ab") as log:
            self.proc = subprocess.Popen(
                [program, "-n", "--daemonize=no", "--exit-idle-time=-1", "-L",
                 "module-native-protocol-unix", "-L", "module-null-sink sink_name=nul"],
                env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited; see {self.directory}/pulseaudio.log")
            if subprocess.run([pactl, "info"], env={**os.environ, **self.env},
                              capture_output=True).returncode == 0:
                return self
            time.sleep(0.1)
        raise TimeoutError("pulseaudio did not answer")

    def record(self, name: str, app_name: str = "", media_name: str = "") -> subprocess.Popen:
        """A program called ``name`` that holds a capture stream open until stopped."""
        program = self.directory / "bin" / name
        if not program.exists():
            program.parent.mkdir(exist_ok=True)
            shutil.copy(find_program("pacat", "pulseaudio-utils"), program)
        argv = [str(program), "--record", "--raw", "-d", "nul.monitor"]
        argv += [f"--property=application.name={app_name}"] if app_name else []
        argv += [f"--property=media.name={media_name}"] if media_name else []
        proc = subprocess.Popen(argv, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.recorders.append(proc)
        return proc

    def streams(self) -> str:
        """The server's capture streams as pactl prints them (for waiting and for logs)."""
        return subprocess.run(["pactl", "list", "source-outputs"], env={**os.environ, **self.env},
                              capture_output=True, text=True).stdout

    def restart(self) -> None:
        """The server stopped and started again (a user's `systemctl --user restart`): the
        recorders lose their streams and exit, as pacat does."""
        stop_process(self.proc)
        self.start()

    def stop(self) -> None:
        """Stop the recorders, then the server."""
        for proc in self.recorders:
            stop_process(proc)
        stop_process(self.proc)


@pytest.fixture
def pulse(tmp_path: Path, request: pytest.FixtureRequest) -> PulseAudio:
    """A real PulseAudio in a private runtime directory; missing = the test fails."""
    server = PulseAudio(tmp_path / "pulse")
    request.addfinalizer(server.stop)
    try:
        return server.start()
    except ServerMissing as exc:
        pytest.fail(f"{exc} (make test installs it)")
