"""Configuration (CONTRACT.md §2): TOML read once into frozen dataclasses.

Defaults live in the dataclasses below and nowhere else. ``load_config`` and
``load_agent_config`` check every key, gather every problem, and raise one ``ConfigError`` whose
message names the file, the key and what is wrong, one line per problem.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class ConfigError(Exception):
    """The configuration file cannot be used; the message says every reason why."""


@dataclass(frozen=True)
class SiteConfig:
    """[site]"""

    id: str = ""
    name: str = ""
    language: str = "id"
    timezone: str = "Asia/Jakarta"


@dataclass(frozen=True)
class MqttConfig:
    """[mqtt]; ``password`` is read from ``password_file``."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password_file: str = ""
    tls: bool = False
    topic_prefix: str = "siaga"
    keepalive_s: int = 30
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class UpsConfig:
    """One [[ups]] table."""

    name: str = ""
    host: str = "127.0.0.1"
    port: int = 3493
    username: str = ""
    password_file: str = ""
    powers_pc: bool = True
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class EdgeConfig:
    """[edge]"""

    poll_interval_s: float = 1.0
    journal: str = "/var/lib/siaga/journal.sqlite3"
    pcs: tuple[str, ...] = ("meeting-pc",)


@dataclass(frozen=True)
class PolicyConfig:
    """[policy]: when the room moves from one stage of an outage to the next."""

    notice_after_s: float = 5
    wrapup_at_runtime_s: float = 300
    shutdown_at_runtime_s: float = 120
    pc_offline_after_s: float = 20
    # Beyond the contract: what to do when runtime is unknown or the UPS cannot be read.
    wrapup_at_charge_pct: float = 50
    shutdown_at_charge_pct: float = 25
    unreadable_wrapup_after_s: float = 60
    low_charge_attention_pct: float = 50
    disk_low_gb: float = 5
    shutdown_grace_s: float = 30
    resend_after_s: float = 5


@dataclass(frozen=True)
class GpioConfig:
    """[gpio]"""

    pin_factory: str = ""
    led_kind: str = "rgb"
    led_pins: tuple[int, ...] = (17, 27, 22)
    buzzer_pin: int = 23
    button_pin: int = 24


@dataclass(frozen=True)
class DashboardConfig:
    """[dashboard]"""

    listen: str = "127.0.0.1:8080"
    database: str = "/var/lib/siaga/dashboard.sqlite3"
    sites: str | tuple[str, ...] = "+"
    admin_password_hash: str = ""
    api_token_file: str = ""
    api_token: str = field(default="", repr=False)
    stale_after_s: float = 90


@dataclass(frozen=True)
class HomeAssistantConfig:
    """[homeassistant]: MQTT discovery of the room as a Home Assistant device (CONTRACT §5.7)."""

    discovery: bool = False
    discovery_prefix: str = "homeassistant"


@dataclass(frozen=True)
class Config:
    """The whole siaga.toml read by edge, dashboard, check and report."""

    path: str
    site: SiteConfig
    mqtt: MqttConfig
    ups: tuple[UpsConfig, ...]
    edge: EdgeConfig
    policy: PolicyConfig
    gpio: GpioConfig
    dashboard: DashboardConfig
    homeassistant: HomeAssistantConfig = field(default_factory=HomeAssistantConfig)


@dataclass(frozen=True)
class AgentSection:
    """[agent] of the meeting PC's file."""

    pc_id: str = ""
    interval_s: float = 5
    recordings_dir: str = ""
    meeting_apps: tuple[str, ...] = ("Zoom.exe", "Zoom", "Teams.exe", "ms-teams")
    converter_processes: tuple[str, ...] = ("zTscoder.exe",)
    banner: bool = True
    wrapup_command: tuple[str, ...] = ()
    shutdown_command: tuple[str, ...] = ()
    shutdown_grace_s: float = 30
    command_timeout_s: float = 120
    state_file: str = ""


@dataclass(frozen=True)
class AgentConfig:
    """The meeting PC's agent.toml."""

    path: str
    site: SiteConfig
    mqtt: MqttConfig
    agent: AgentSection


Check = Callable[[Any], str | None]


def number(minimum: float = 0, maximum: float | None = None) -> Check:
    """A number in [minimum, maximum]."""
    top = "" if maximum is None else f" and <= {maximum:g}"

    def check(v: Any) -> str | None:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if ok and v >= minimum and (maximum is None or v <= maximum):
            return None
        return f"must be a number >= {minimum:g}{top}"

    return check


def integer(minimum: int, maximum: int) -> Check:
    """A whole number in [minimum, maximum]."""

    def check(v: Any) -> str | None:
        if isinstance(v, int) and not isinstance(v, bool) and minimum <= v <= maximum:
            return None
        return f"must be a whole number from {minimum} to {maximum}"

    return check


def text(v: Any) -> str | None:
    """Any string."""
    return None if isinstance(v, str) else "must be a string"


def host(v: Any) -> str | None:
    """A host name or IP address: not empty, no spaces."""
    if isinstance(v, str) and v and not any(c.isspace() for c in v):
        return None
    return "must be a host name or IP address"


def flag(v: Any) -> str | None:
    """true or false."""
    return None if isinstance(v, bool) else "must be true or false"


def identifier(v: Any) -> str | None:
    """An id usable in MQTT topics."""
    if isinstance(v, str) and ID_PATTERN.fullmatch(v):
        return None
    return "must match [a-z0-9][a-z0-9-]{0,62} (lower-case letters, digits, dashes)"


def one_of(*choices: str) -> Check:
    """One of the given strings."""
    return lambda v: None if v in choices else "must be one of " + ", ".join(f'"{c}"' for c in choices)


def list_of(item: Check, what: str) -> Check:
    """A list whose every item passes ``item``."""

    def check(v: Any) -> str | None:
        if isinstance(v, list) and all(item(i) is None for i in v):
            return None
        return f"must be a list of {what}"

    return check


def topic_prefix(v: Any) -> str | None:
    """A topic prefix without wildcards."""
    if isinstance(v, str) and v and not any(c in v for c in "+#\0") and not v.endswith("/"):
        return None
    return "must be a non-empty topic without +, # or a trailing /"


def sites_filter(v: Any) -> str | None:
    """"+" or a list of site ids."""
    if v == "+" or list_of(identifier, "site ids")(v) is None:
        return None
    return 'must be "+" or a list of site ids'


pins = list_of(integer(0, 27), "GPIO numbers 0-27")
names = list_of(text, "strings")

SCHEMA: dict[str, dict[str, Check]] = {
    "site": {"id": identifier, "name": text, "language": one_of("id", "en"), "timezone": text},
    "mqtt": {"host": host, "port": integer(1, 65535), "username": text, "password_file": text,
             "tls": flag, "topic_prefix": topic_prefix, "keepalive_s": integer(5, 3600)},
    "ups": {"name": text, "host": host, "port": integer(1, 65535), "username": text,
            "password_file": text, "powers_pc": flag},
    "edge": {"poll_interval_s": number(0.1, 60), "journal": text,
             "pcs": list_of(identifier, "PC ids")},
    "policy": {name: number() for name in (f.name for f in dataclasses.fields(PolicyConfig))},
    "gpio": {"pin_factory": one_of("", "mock", "lgpio", "rpigpio", "pigpio", "native"),
             "led_kind": one_of("rgb", "traffic", "single"), "led_pins": pins,
             "buzzer_pin": integer(0, 27), "button_pin": integer(0, 27)},
    "dashboard": {"listen": text, "database": text, "sites": sites_filter,
                  "admin_password_hash": text, "api_token_file": text,
                  "stale_after_s": number(10)},
    "homeassistant": {"discovery": flag, "discovery_prefix": topic_prefix},
    "agent": {"pc_id": identifier, "interval_s": number(1, 3600), "recordings_dir": text,
              "meeting_apps": names, "converter_processes": names, "banner": flag,
              "wrapup_command": names, "shutdown_command": names,
              "shutdown_grace_s": number(0, 3600), "command_timeout_s": number(1, 3600),
              "state_file": text},
}

SECTION_TYPES = {"site": SiteConfig, "mqtt": MqttConfig, "ups": UpsConfig, "edge": EdgeConfig,
                 "policy": PolicyConfig, "gpio": GpioConfig, "dashboard": DashboardConfig,
                 "homeassistant": HomeAssistantConfig, "agent": AgentSection}


class _Reader:
    """Reads sections of one parsed file, collecting every problem before raising."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path, self.data, self.errors = path, data, []

    def error(self, key: str, message: str, value: Any = None, show: bool = True) -> None:
        got = f", got {_show(value)}" if show else ""
        self.errors.append(f"{self.path.name}: {key}: {message}{got}")

    def section(self, name: str, table: Any = None, where: str = "") -> Any:
        """Build the dataclass of section ``name`` from ``table`` (default: data[name])."""
        where = where or name
        table = self.data.get(name, {}) if table is None else table
        if not isinstance(table, dict):
            self.error(where, "must be a table", table)
            table = {}
        values = {}
        for key, value in table.items():
            check = SCHEMA[name].get(key)
            if check is None:
                logger.warning("%s: %s.%s: unknown key, ignored", self.path.name, where, key)
                continue
            problem = check(value)
            if problem:
                self.error(f"{where}.{key}", problem, value)
                continue
            values[key] = tuple(value) if isinstance(value, list) else value
        return SECTION_TYPES[name](**values)

    def secret(self, key: str, file_name: str) -> str:
        """The first line of ``file_name`` (relative to the config file), or ""."""
        if not file_name:
            return ""
        path = (self.path.parent / file_name).expanduser()
        try:
            return path.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            reason = getattr(exc, "strerror", None) or "empty or unreadable"
            self.error(key, f"cannot read {path}: {reason}", show=False)
            return ""

    def required(self, key: str, value: str) -> None:
        if not value and not any(e.startswith(f"{self.path.name}: {key}:") for e in self.errors):
            self.error(key, "is required", show=False)

    def finish(self) -> None:
        if self.errors:
            raise ConfigError("\n".join(self.errors))


def _show(value: Any) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value).replace("True", "true")
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(path: str | Path) -> _Reader:
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    return _Reader(path, data)


def _common(r: _Reader) -> tuple[SiteConfig, MqttConfig]:
    site = r.section("site")
    r.required("site.id", site.id)
    mqtt = r.section("mqtt")
    mqtt = dataclasses.replace(mqtt, password=r.secret("mqtt.password_file", mqtt.password_file))
    return site, mqtt


def load_config(path: str | Path) -> Config:
    """Read siaga.toml; raise ConfigError naming every bad key."""
    r = _parse(path)
    site, mqtt = _common(r)
    tables = r.data.get("ups", [])
    if not isinstance(tables, list) or not tables:
        r.error("ups", "needs at least one [[ups]] table", show=False)
        tables = []
    ups = []
    for i, table in enumerate(tables):
        u = r.section("ups", table, f"ups[{i}]")
        r.required(f"ups[{i}].name", u.name)
        ups.append(dataclasses.replace(u, password=r.secret(f"ups[{i}].password_file", u.password_file)))
    if len({u.name for u in ups}) != len(ups):
        r.error("ups", "UPS names must be different", show=False)
    policy = r.section("policy")
    if policy.shutdown_at_runtime_s > policy.wrapup_at_runtime_s:
        r.error("policy.shutdown_at_runtime_s", "must not be above policy.wrapup_at_runtime_s",
                policy.shutdown_at_runtime_s)
    gpio = r.section("gpio")
    want = {"rgb": 3, "traffic": 3, "single": 1}[gpio.led_kind]
    if len(gpio.led_pins) != want:
        r.error("gpio.led_pins", f'needs {want} pins for led_kind "{gpio.led_kind}"', list(gpio.led_pins))
    dash = r.section("dashboard")
    dash = dataclasses.replace(dash, api_token=r.secret("dashboard.api_token_file", dash.api_token_file))
    config = Config(str(r.path), site, mqtt, tuple(ups), r.section("edge"), policy, gpio, dash,
                    r.section("homeassistant"))
    r.finish()
    return config


def load_agent_config(path: str | Path) -> AgentConfig:
    """Read the meeting PC's agent.toml; raise ConfigError naming every bad key."""
    r = _parse(path)
    site, mqtt = _common(r)
    agent = r.section("agent")
    r.required("agent.pc_id", agent.pc_id)
    config = AgentConfig(str(r.path), site, mqtt, agent)
    r.finish()
    return config
