"""A real Home Assistant Core for tests: its own venv (make ha-venv), a config directory in a temp
dir, HTTP on a free loopback port, a user and a token made through HA's onboarding API (what the
first visit to a new HA does), and its MQTT integration set up through the config-flow API (what
Settings > Devices > Add integration > MQTT does)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siaga.servers import free_port

REPO = Path(__file__).resolve().parents[1]
HA_VENV = Path(os.environ.get("SIAGA_HA_VENV", REPO / ".cache" / "ha-2024.3"))
# A current HA needs a newer Python than this Debian's: make ha builds a Debian 13 root
# (mmdebstrap) with HA in /opt/ha; SIAGA_HA_ROOT=that root runs the tests against it (chroot).
HA_ROOT = Path(os.environ["SIAGA_HA_ROOT"]).resolve() if os.environ.get("SIAGA_HA_ROOT") else None
USER, PASSWORD = "siaga", "siaga-test-password"
START_TIMEOUT_S = 180   # measured 7 s on an idle 2-core machine; far more under a full suite
# What HA always logs here, about itself rather than about us (2024.3: its Python; 2026: its
# optional zlib accelerators).
KNOWN_NOISE = ("Skipping pip installation", "Support for the running Python version",
               "zlib_ng and isal are not available")

CONFIGURATION = """homeassistant:
  name: Siaga test
  unit_system: metric
  time_zone: UTC
  latitude: 0
  longitude: 0
  elevation: 0
  currency: IDR
  country: ID
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
frontend:
logger:
  default: warning
"""


@dataclass
class HomeAssistant:
    """Home Assistant Core on ``port``, its config and log in ``directory``."""

    directory: Path
    port: int = field(default_factory=free_port)
    token: str = ""
    refresh_token: str = ""
    started_in_s: float = 0.0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The base URL of HA's HTTP API and frontend."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """argv of HA with this config directory (in the Debian 13 root when there is one)."""
        if HA_ROOT is None:
            hass = HA_VENV / "bin" / "hass"
            if not hass.exists():
                raise RuntimeError(f"{hass} is missing: run make ha-venv")
            return [str(hass), "-c", str(self.directory)]
        if not (HA_ROOT / "opt/ha/bin/hass").exists():
            raise RuntimeError(f"{HA_ROOT}/opt/ha/bin/hass is missing: run make ha")
        inside = "/" + str(self.directory.resolve().relative_to(HA_ROOT))
        return ["chroot", str(HA_ROOT), "/opt/ha/bin/hass", "-c", inside]

    @classmethod
    def in_temp(cls, directory: Path) -> "HomeAssistant":
        """A HA whose config directory is ``directory``, or one inside the Debian 13 root."""
        if HA_ROOT is None:
            return cls(directory)
        return cls(Path(tempfile.mkdtemp(prefix="siaga-ha-", dir=HA_ROOT / "tmp")))

    def start(self) -> "HomeAssistant":
        """Start HA, wait for its HTTP API, make the first user and a token."""
        argv = self.command()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "configuration.yaml").write_text(CONFIGURATION.format(port=self.port))
        # Onboarding's other steps (location, analytics, the default integrations: a weather
        # service on the internet) count as done; its first step, the owner, is left to the API.
        storage = self.directory / ".storage"
        storage.mkdir(exist_ok=True)
        (storage / "onboarding").write_text(json.dumps({
            "version": 4, "minor_version": 1, "key": "onboarding",
            "data": {"done": ["core_config", "analytics", "integration"]}}))
        begun = time.monotonic()
        with open(self.directory / "ha.log", "ab") as log:
            # --skip-pip: every requirement is in the venv already (make ha-venv); never install
            # at test time.
            self.proc = subprocess.Popen([*argv, "--skip-pip"],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self._wait_http(begun + START_TIMEOUT_S)
        self.started_in_s = time.monotonic() - begun
        self.token = self._onboard()
        return self

    def _wait_http(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Home Assistant exited; see {self.directory}/ha.log")
            try:
                with urllib.request.urlopen(f"{self.url}/api/onboarding", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Home Assistant did not answer within {START_TIMEOUT_S} s")

    def _onboard(self) -> str:
        """The onboarding API's first user, and an access token for it (valid 30 minutes)."""
        client_id = f"{self.url}/"
        code = self.request("POST", "/api/onboarding/users", {
            "client_id": client_id, "name": "Siaga", "username": USER, "password": PASSWORD,
            "language": "id"}, auth=False)["auth_code"]
        form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                       "client_id": client_id}).encode()
        with urllib.request.urlopen(f"{self.url}/auth/token", form, timeout=30) as answer:
            tokens = json.load(answer)
        self.refresh_token = tokens["refresh_token"]
        return tokens["access_token"]

    def browser_tokens(self) -> dict:
        """What HA's frontend keeps in localStorage["hassTokens"] once logged in."""
        return {"access_token": self.token, "refresh_token": self.refresh_token,
                "token_type": "Bearer", "expires_in": 1800, "hassUrl": self.url,
                "clientId": f"{self.url}/", "expires": int(time.time() * 1000) + 1_800_000}

    def device_id(self, entity_id: str) -> str:
        """The id of the device an entity belongs to (HA's template function device_id)."""
        return self.render(f"{{{{ device_id('{entity_id}') }}}}")

    def render(self, template: str) -> str:
        """A template rendered by HA (POST /api/template answers text, not JSON)."""
        req = urllib.request.Request(f"{self.url}/api/template",
                                     json.dumps({"template": template}).encode(),
                                     {"Authorization": f"Bearer {self.token}",
                                      "Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.read().decode()

    def request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        """One call of HA's REST API; the decoded JSON answer (None for 404)."""
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def add_mqtt(self, port: int, username: str = "", password: str = "") -> dict:
        """The MQTT integration on the broker at 127.0.0.1:``port``, as its setup form does."""
        flow = self.request("POST", "/api/config/config_entries/flow", {"handler": "mqtt"})
        form = {"broker": "127.0.0.1", "port": port}
        if username:
            form.update(username=username, password=password)
        return self.request("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", form)

    def state(self, entity_id: str) -> dict | None:
        """An entity's state object (state, attributes), or None when HA has no such entity."""
        return self.request("GET", f"/api/states/{entity_id}")

    def press(self, entity_id: str) -> None:
        """Press a button entity."""
        self.request("POST", "/api/services/button/press", {"entity_id": entity_id})

    def problems(self) -> list[str]:
        """The warnings and errors HA logged, but the ones it logs about itself."""
        lines = (self.directory / "ha.log").read_text(errors="replace").splitlines()
        return [line for line in lines if (" WARNING " in line or " ERROR " in line)
                and not any(noise in line for noise in KNOWN_NOISE)]

    def stop(self) -> None:
        """TERM, then KILL after 30 s (HA writes its storage on the way out)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
