"""A real OBS Studio (Debian's obs-studio, with obs-websocket 5) under a private Xvfb, for tests
and benchmarks: its own HOME with a profile, one scene showing a colour source, a recording folder.

OBS 29 keeps obs-websocket's settings in global.ini ([OBSWebSocket]); the port and password are
also passed on the command line, which overrides them. ``FirstRun=true`` skips the auto-
configuration wizard. Proxies point at a closed loopback port so that OBS's own update check of
its streaming-service list never leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import simpleobsws

from siaga.servers import find_program, free_port, stop_process
from tests.xvfb import start_xvfb

PASSWORD = "rahasia-obs-uji"

GLOBAL_INI = """[General]
FirstRun=true
EnableAutoUpdates=false
ConfirmOnExit=false

[Basic]
Profile=Siaga
ProfileDir=Siaga
SceneCollection=Siaga
SceneCollectionFile=Siaga

[BasicWindow]
SysTrayEnabled=false
WarnBeforeStoppingRecord=false
WarnBeforeStoppingStream=false

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort={port}
AlertsEnabled=false
AuthRequired=true
ServerPassword={password}
"""

PROFILE_INI = """[General]
Name=Siaga

[Output]
Mode=Simple

[SimpleOutput]
FilePath={folder}
RecFormat={fmt}
RecQuality=Stream
RecEncoder=x264
VBitrate=300
ABitrate=64

[Video]
BaseCX=320
BaseCY=240
OutputCX=320
OutputCY=240
FPSType=0
FPSCommon=15
"""


def scene_collection() -> dict[str, Any]:
    """One scene, "Rapat", showing a green colour source (renders without any device)."""
    scene_id, color_id = "5a1d0c1e-0000-4000-8000-000000000001", "5a1d0c1e-0000-4000-8000-000000000002"
    item = {"name": "Warna", "source_uuid": color_id, "visible": True, "id": 1,
            "pos": {"x": 0, "y": 0}, "scale": {"x": 1, "y": 1}, "bounds_type": 0, "align": 5}
    return {"name": "Siaga", "current_scene": "Rapat", "current_program_scene": "Rapat",
            "scene_order": [{"name": "Rapat"}], "transitions": [],
            "sources": [
                {"id": "scene", "versioned_id": "scene", "name": "Rapat", "uuid": scene_id,
                 "settings": {"items": [item], "id_counter": 1}},
                {"id": "color_source", "versioned_id": "color_source_v3", "name": "Warna",
                 "uuid": color_id, "settings": {"color": 4278255360, "width": 320, "height": 240}}]}


@dataclass
class ObsStudio:
    """OBS Studio with obs-websocket on a free loopback port, recording into ``recordings``."""

    directory: Path
    port: int = field(default_factory=free_port)
    password: str = PASSWORD
    fmt: str = "mkv"
    xvfb: subprocess.Popen | None = None
    proc: subprocess.Popen | None = None

    @property
    def recordings(self) -> Path:
        """Where OBS writes its recordings."""
        return self.directory / "rekaman"

    def start(self, timeout_s: float = 60) -> "ObsStudio":
        """Start Xvfb and OBS; return once obs-websocket accepts connections."""
        obs = find_program("obs", "obs-studio")
        display = self._start_xvfb()
        home = self._write_config()
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "LIBGL_ALWAYS_SOFTWARE": "1",
               "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
               "all_proxy": "http://127.0.0.1:9", "no_proxy": "127.0.0.1,localhost"}
        env.pop("WAYLAND_DISPLAY", None)
        with open(self.directory / "obs.log", "ab") as log:
            self.proc = subprocess.Popen(
                [obs, "--multi", "--disable-shutdown-check", "--websocket_port", str(self.port),
                 "--websocket_password", self.password], cwd=self.directory, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_for_websocket(timeout_s)
        return self

    def _start_xvfb(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.xvfb, display = start_xvfb(self.directory / "xvfb.log", "1024x768x24")
        return display

    def _write_config(self) -> Path:
        home = self.directory / "home"
        base = home / ".config" / "obs-studio"
        (base / "basic" / "profiles" / "Siaga").mkdir(parents=True, exist_ok=True)
        (base / "basic" / "scenes").mkdir(parents=True, exist_ok=True)
        self.recordings.mkdir(parents=True, exist_ok=True)
        (base / "global.ini").write_text(GLOBAL_INI.format(port=self.port, password=self.password))
        (base / "basic" / "profiles" / "Siaga" / "basic.ini").write_text(
            PROFILE_INI.format(folder=self.recordings, fmt=self.fmt))
        (base / "basic" / "scenes" / "Siaga.json").write_text(json.dumps(scene_collection()))
        return home

    def _wait_for_websocket(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"OBS exited ({self.proc.returncode}); see {self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"obs-websocket not listening after {timeout_s} s; {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of OBS's output (for a failure message)."""
        path = self.directory / "obs.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no obs.log)"

    def request(self, request: str, **data: Any) -> dict:
        """Send one obs-websocket request (as a test script would); its responseData."""
        return asyncio.run(self._request(request, data))

    async def _request(self, request: str, data: dict) -> dict:
        client = simpleobsws.WebSocketClient(url=f"ws://127.0.0.1:{self.port}", password=self.password)
        await client.connect()
        try:
            if not await client.wait_until_identified(timeout=10):
                raise RuntimeError("not identified with obs-websocket")
            answer = await client.call(simpleobsws.Request(request, data or None), timeout=15)
            if not answer.ok():
                raise RuntimeError(f"{request}: {answer.requestStatus}")
            return answer.responseData or {}
        finally:
            await client.disconnect()

    def start_recording(self, timeout_s: float = 15) -> None:
        """Start a recording and wait until OBS says it runs."""
        self.request("StartRecord")
        deadline = time.monotonic() + timeout_s
        while not self.request("GetRecordStatus").get("outputActive"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"OBS did not start recording; {self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop OBS, then Xvfb (by their PIDs)."""
        stop_process(self.proc, timeout=10)
        stop_process(self.xvfb)
