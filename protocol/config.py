"""Configuration (CONTRACT.md §2): TOML read once into frozen dataclasses.

Defaults live in the dataclasses below and nowhere else. ``load_config`` and
``load_agent_config`` check every key, gather every problem, and raise one ``ConfigError`` whose
message names the file, the key and what is wrong, one line per problem.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import re
import ssl
import tomllib
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable

from protocol.signing import BadKey, read_key, read_keys

logger = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# A group's member (CONTRACT §5.6): a site id, or an id prefix ending in "*" ("kominfo-*").
MEMBER_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}|[a-z0-9][a-z0-9-]{0,61}\*")


class ConfigError(Exception):
    """The configuration file cannot be used; the message says every reason why."""


class BadPath(ValueError):
    """A file name in the config that cannot be a path."""


@dataclass(frozen=True)
class SiteConfig:
    """[site]"""

    id: str = ""
    name: str = ""
    language: str = "id"
    timezone: str = "Asia/Jakarta"
    # The room's bookings (CONTRACT §6.3): an iCalendar URL or file ("" = no schedule), read on
    # start and every calendar_refresh_s; contact: whom staff call (the SOP prints it).
    calendar: str = ""
    calendar_refresh_s: float = 300
    contact: str = ""


@dataclass(frozen=True)
class MqttConfig:
    """[mqtt]; ``password`` is read from ``password_file``."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password_file: str = ""
    tls: bool = False
    ca_file: str = ""             # the CA that signed the broker's certificate ("" = the system's)
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
    keys_dir: str = ""            # holds <pc_id>.key: commands to that PC are signed (§5.9)
    # NUT's POWERDOWNFLAG (upsmon.conf), written after the PCs in a real outage: this Pi powers
    # off and the UPS cuts its outlets (docs: firmware_config/pi.md). "" = never.
    powerdown_flag: str = ""
    command_keys: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)


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
    # A UPS feeding the PC is lost mid-outage and no runtime of it was ever known: the shutdown
    # follows the wrap-up after this long. 120 s gives the wrap-up time to stop the recording
    # and write the file (OBS needs seconds) and matches shutdown_at_runtime_s's default: the
    # margin we keep on a battery we can see is the most we dare spend on one we cannot.
    unreadable_shutdown_after_s: float = 120
    # While a PC converts a recording the shutdown waits, but never below this runtime (§5.3).
    # At or above shutdown_at_runtime_s the shutdown never waits (not an error: a site that set
    # a low shutdown_at_runtime_s before v1.1 keeps a valid file and simply gets no hold).
    hard_shutdown_at_runtime_s: float = 60
    low_charge_attention_pct: float = 50
    disk_low_gb: float = 5
    # Readiness before a booked meeting (CONTRACT §6.3): checked this long before its start.
    ready_before_s: float = 900
    ready_min_charge_pct: float = 80
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
    behind_proxy: bool = False    # trust one reverse proxy's X-Forwarded-* (docs/security.md)
    public_url: str = ""          # how people reach the dashboard ("http://pi.local:8080"): alert links
    # name -> site ids or "prefix*" (CONTRACT §5.6), read-only; the overview and the report use it
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class AlertsConfig:
    """[alerts] (CONTRACT §5.5): what the dashboard tells IT, and where (Apprise URLs)."""

    urls_file: str = ""
    language: str = "id"
    min_room: str = "on_battery"
    quiet_repeat_s: float = 3600
    retry_max_s: float = 300     # the longest wait between two tries of an unsent alert
    inbox_url: str = ""          # a page where the alerts can be read (the demo's receiver, a
                                 # team chat); the room page links to it; "" = no link


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
    alerts: AlertsConfig = AlertsConfig()
    homeassistant: HomeAssistantConfig = field(default_factory=HomeAssistantConfig)


@dataclass(frozen=True)
class ObsConfig:
    """[agent.obs]: OBS Studio's obs-websocket v5; ``password`` is read from ``password_file``."""

    host: str = "127.0.0.1"
    port: int = 4455
    password_file: str = ""
    stop_stream: bool = True
    timeout_s: float = 60          # for OBS to answer and to report the file written
    password: str = field(default="", repr=False)


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
    obs: ObsConfig | None = None   # [agent.obs] present: the wrap-up stops OBS's recording
    command_key_file: str = ""    # set: only commands signed with this key are obeyed (§5.9)
    command_key: bytes = field(default=b"", repr=False)


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


def time_zone(v: Any) -> str | None:
    """An IANA time zone name such as "Asia/Jakarta" (or "Asia/Makassar", "Asia/Jayapura")."""
    if isinstance(v, str) and v and "\0" not in v:
        try:
            zoneinfo.ZoneInfo(v)
            return None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return 'must be a time zone name such as "Asia/Jakarta"'


def topic_prefix(v: Any) -> str | None:
    """A topic prefix without wildcards."""
    if isinstance(v, str) and v and not any(c in v for c in "+#\0") and not v.endswith("/"):
        return None
    return "must be a non-empty topic without +, # or a trailing /"


def table(v: Any) -> str | None:
    """A TOML table (its entries are checked by the section's own reader)."""
    return None if isinstance(v, dict) else "must be a table"


def group_problem(name: str, members: Any) -> str | None:
    """What is wrong with one entry of dashboard.groups, or None."""
    if not ID_PATTERN.fullmatch(name):
        return "a group name must match [a-z0-9][a-z0-9-]{0,62} (lower-case letters, digits, dashes)"
    if not isinstance(members, list) or not members:
        return 'must be a non-empty list of site ids or id prefixes ending in "*"'
    bad = next((m for m in members if not isinstance(m, str) or not MEMBER_PATTERN.fullmatch(m)), None)
    if bad is not None:
        return f'{_show(bad)} is neither a site id nor an id prefix ending in "*" ("kominfo-*")'
    return None


def sites_filter(v: Any) -> str | None:
    """"+" or a list of site ids."""
    if v == "+" or list_of(identifier, "site ids")(v) is None:
        return None
    return 'must be "+" or a list of site ids'


pins = list_of(integer(0, 27), "GPIO numbers 0-27")
names = list_of(text, "strings")

SCHEMA: dict[str, dict[str, Check]] = {
    "site": {"id": identifier, "name": text, "language": one_of("id", "en"), "timezone": time_zone,
             "calendar": text, "calendar_refresh_s": number(30, 86400), "contact": text},
    "mqtt": {"host": host, "port": integer(1, 65535), "username": text, "password_file": text,
             "tls": flag, "ca_file": text, "topic_prefix": topic_prefix,
             "keepalive_s": integer(5, 3600)},
    "ups": {"name": text, "host": host, "port": integer(1, 65535), "username": text,
            "password_file": text, "powers_pc": flag},
    "edge": {"poll_interval_s": number(0.1, 60), "journal": text,
             "pcs": list_of(identifier, "PC ids"), "keys_dir": text, "powerdown_flag": text},
    "policy": {name: number() for name in (f.name for f in dataclasses.fields(PolicyConfig))},
    "gpio": {"pin_factory": one_of("", "mock", "lgpio", "rpigpio", "pigpio", "native"),
             "led_kind": one_of("rgb", "traffic", "single"), "led_pins": pins,
             "buzzer_pin": integer(0, 27), "button_pin": integer(0, 27)},
    "dashboard": {"listen": text, "database": text, "sites": sites_filter,
                  "admin_password_hash": text, "api_token_file": text,
                  "stale_after_s": number(10), "behind_proxy": flag, "groups": table,
                  "public_url": text},
    "alerts": {"urls_file": text, "language": one_of("id", "en"),
               "min_room": one_of("attention", "on_battery", "wrapup", "shutdown", "fault"),
               "quiet_repeat_s": number(), "retry_max_s": number(1, 86400),
               "inbox_url": text},
    "homeassistant": {"discovery": flag, "discovery_prefix": topic_prefix},
    "agent": {"pc_id": identifier, "interval_s": number(1, 3600), "recordings_dir": text,
              "meeting_apps": names, "converter_processes": names, "banner": flag,
              "wrapup_command": names, "shutdown_command": names,
              "shutdown_grace_s": number(0, 3600), "command_timeout_s": number(1, 3600),
              "state_file": text, "command_key_file": text},
    "obs": {"host": host, "port": integer(1, 65535), "password_file": text, "stop_stream": flag,
            "timeout_s": number(1, 3600)},
}

# The top-level tables of each file; any other name in the file is a typo, and an error.
SIAGA_SECTIONS = ("site", "mqtt", "ups", "edge", "policy", "gpio", "dashboard", "alerts",
                  "homeassistant")
AGENT_SECTIONS = ("site", "mqtt", "agent")
SUBTABLES = {"agent": ("obs",)}   # tables inside a section, read by their own reader
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

SECTION_TYPES = {"site": SiteConfig, "mqtt": MqttConfig, "ups": UpsConfig, "edge": EdgeConfig,
                 "policy": PolicyConfig, "gpio": GpioConfig, "dashboard": DashboardConfig,
                 "alerts": AlertsConfig, "homeassistant": HomeAssistantConfig,
                 "agent": AgentSection, "obs": ObsConfig}


class _Reader:
    """Reads sections of one parsed file, collecting every problem before raising."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path, self.data, self.errors = path, data, []

    def error(self, key: str, message: str, value: Any = None, show: bool = True) -> None:
        got = f", got {_show(value)}" if show else ""
        # A value or file name may hold a line break: each problem must stay on its one line.
        self.errors.append(f"{self.path.name}: {key}: {message}{got}".translate(ONE_LINE))

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
                self.unknown(where, key, (*SCHEMA[name], *SUBTABLES.get(name, ())))
                continue
            problem = check(value)
            if problem:
                self.error(f"{where}.{key}", problem, value)
                continue
            values[key] = tuple(value) if isinstance(value, list) else value
        return SECTION_TYPES[name](**values)

    def unknown(self, where: str, key: str, known: Collection[str]) -> None:
        """A key Siaga does not know: an error naming the nearest known one (a typo is no default)."""
        near = nearest(key, known)
        hint = f'did you mean "{near}"?' if near else "known keys: " + ", ".join(sorted(known))
        self.error(key_name(where, key), f"unknown key; {hint}", show=False)

    def sections(self, known: Collection[str]) -> None:
        """Every top-level name of the file is one of ``known``; a misspelt [section] is an error."""
        for name in self.data:
            if name in known:
                continue
            near = nearest(name, known)
            owners = [s for s in known if name in SCHEMA.get(s, {})]
            if near:
                problem = f"unknown section; did you mean {section_header(near)}?"
            elif owners:   # `id = ...` above every [section]: it belongs inside one
                problem = "outside any section; it belongs under " + \
                    " or ".join(section_header(s) for s in owners)
            else:
                problem = "unknown section; known sections: " + \
                    ", ".join(section_header(s) for s in known)
            self.error(key_name("", name), problem, show=False)

    def secret(self, key: str, file_name: str) -> str:
        """The first line of ``file_name`` (relative to the config file), or ""."""
        if not file_name:
            return ""
        try:
            path = self.relative(file_name)
            return path.read_text(encoding="utf-8").splitlines()[0].strip()
        except BadPath as exc:
            self.error(key, str(exc), show=False)
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            reason = getattr(exc, "strerror", None) or "empty or unreadable"
            self.error(key, f"cannot read {path}: {reason}", show=False)
        return ""

    def readable(self, key: str, file_name: str) -> str:
        """``file_name`` as an absolute path when it can be read, "" when not set or not readable."""
        if not file_name:
            return ""
        try:
            path = self.relative(file_name)
        except BadPath as exc:
            self.error(key, str(exc), show=False)
            return ""
        try:
            path = path.resolve()
            with path.open("rb") as f:
                f.read(1)
        except OSError as exc:
            self.error(key, f"cannot read {path}: {exc.strerror}", show=False)
            return ""
        return str(path)

    def ca_file(self, key: str, file_name: str) -> str:
        """``readable`` for a file of CA certificates that must load (PEM)."""
        path = self.readable(key, file_name)
        try:
            if path:
                ssl.create_default_context(cafile=path)
        except ssl.SSLError as exc:
            self.error(key, f"{path}: no usable CA certificate in it (PEM expected): "
                            f"{exc.reason or exc}", show=False)
            return ""
        return path

    def relative(self, file_name: str) -> Path:
        """A path from the file, relative to the config file's folder; BadPath when it cannot be
        one (a NUL byte, ``~user`` of a user who does not exist)."""
        if "\0" in file_name:
            raise BadPath("a path cannot contain a NUL character")
        try:
            return self.path.parent / Path(file_name).expanduser()   # "~/x" or relative to us
        except RuntimeError:
            raise BadPath(f"{file_name}: no such user's home folder") from None

    def command_keys(self, edge: EdgeConfig) -> EdgeConfig:
        """``edge`` with the keys of ``edge.keys_dir`` read (none when it is not set)."""
        if not edge.keys_dir:
            return edge
        try:
            keys = read_keys(self.relative(edge.keys_dir), edge.pcs)
        except (BadKey, BadPath) as exc:
            self.error("edge.keys_dir", str(exc), show=False)
            return edge
        return dataclasses.replace(edge, command_keys=tuple(sorted(keys.items())))

    def command_key(self, agent: AgentSection) -> AgentSection:
        """``agent`` with the key of ``agent.command_key_file`` read (none when it is not set)."""
        if not agent.command_key_file:
            return agent
        try:
            return dataclasses.replace(agent, command_key=read_key(self.relative(agent.command_key_file)))
        except (BadKey, BadPath) as exc:
            self.error("agent.command_key_file", str(exc), show=False)
            return agent

    def groups(self, dash: DashboardConfig) -> DashboardConfig:
        """``dash`` with dashboard.groups checked, one error per bad group, naming it."""
        good = {}
        for name, members in dict(dash.groups).items():
            problem = group_problem(name, members)
            if problem:
                self.error(key_name("dashboard.groups", name), problem, show=False)
            else:
                good[name] = tuple(members)
        return dataclasses.replace(dash, groups=MappingProxyType(good))

    def calendar(self, site: SiteConfig) -> SiteConfig:
        """``site`` with a calendar file made absolute (relative to the config file); a URL as is.
        A file that is missing now is not an error: the edge says so and works without it."""
        if not site.calendar or "://" in site.calendar:
            return site
        try:
            return dataclasses.replace(site, calendar=str(self.relative(site.calendar)))
        except BadPath as exc:
            self.error("site.calendar", str(exc), show=False)
            return site

    def required(self, key: str, value: str) -> None:
        if not value and not any(e.startswith(f"{self.path.name}: {key}:") for e in self.errors):
            self.error(key, "is required", show=False)

    def finish(self) -> None:
        if self.errors:
            raise ConfigError("\n".join(self.errors))


ONE_LINE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def key_name(where: str, key: str) -> str:
    """``where.key`` as TOML writes it: a key that is not bare ("Bappeda Kota") in quotes."""
    key = key if BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{where}.{key}" if where else key


def nearest(name: str, known: Collection[str]) -> str | None:
    """The known name ``name`` most likely misspells, or None when none is near."""
    near = difflib.get_close_matches(name, known, n=1)
    if near:
        return near[0]
    # Two letters swapped in a short name ("di" for "id") is far for difflib, near for a person.
    return next((k for k in known if len(k) == len(name) and sorted(k) == sorted(name)), None)


def section_header(name: str) -> str:
    """'[policy]', or '[[ups]]' for the one array of tables."""
    return "[[ups]]" if name == "ups" else f"[{name}]"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else \
        repr(value).replace("True", "true")
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


def _common(r: _Reader, read_files: bool = True) -> tuple[SiteConfig, MqttConfig]:
    site = r.section("site")
    r.required("site.id", site.id)
    mqtt = r.section("mqtt")
    if read_files:
        mqtt = dataclasses.replace(mqtt, password=r.secret("mqtt.password_file", mqtt.password_file),
                                   ca_file=r.ca_file("mqtt.ca_file", mqtt.ca_file))
    if read_files and mqtt.ca_file and not mqtt.tls:
        logger.warning("%s: mqtt.ca_file is set but mqtt.tls is false: it is not used", r.path.name)
    return site, mqtt


def load_config(path: str | Path, read_files: bool = True) -> Config:
    """Read siaga.toml; raise ConfigError naming every bad key.

    ``read_files=False``: every key is still checked, but the files it names (passwords, token,
    CA, command keys) are not opened: for `siaga report`, which uses none of them."""
    r = _parse(path)
    r.sections(SIAGA_SECTIONS)
    site, mqtt = _common(r, read_files)
    tables = r.data.get("ups", [])
    if not isinstance(tables, list) or not tables:
        r.error("ups", "needs at least one [[ups]] table", show=False)
        tables = []
    ups = []
    for i, table in enumerate(tables):
        u = r.section("ups", table, f"ups[{i}]")
        r.required(f"ups[{i}].name", u.name)
        if read_files:
            u = dataclasses.replace(u, password=r.secret(f"ups[{i}].password_file", u.password_file))
        ups.append(u)
    if len({u.name for u in ups}) != len(ups):
        r.error("ups", "UPS names must be different", show=False)
    site = r.calendar(site)
    policy = r.section("policy")
    if policy.shutdown_at_runtime_s > policy.wrapup_at_runtime_s:
        r.error("policy.shutdown_at_runtime_s", "must not be above policy.wrapup_at_runtime_s",
                policy.shutdown_at_runtime_s)
    gpio = r.section("gpio")
    want = {"rgb": 3, "traffic": 3, "single": 1}[gpio.led_kind]
    if len(gpio.led_pins) != want:
        r.error("gpio.led_pins", f'needs {want} pins for led_kind "{gpio.led_kind}"', list(gpio.led_pins))
    dash = r.section("dashboard")
    if read_files:
        dash = dataclasses.replace(dash, api_token=r.secret("dashboard.api_token_file",
                                                            dash.api_token_file))
    dash = r.groups(dash)
    edge = r.section("edge")
    edge = r.command_keys(edge) if read_files else edge
    config = Config(str(r.path), site, mqtt, tuple(ups), edge, policy, gpio, dash,
                    r.section("alerts"), r.section("homeassistant"))
    r.finish()
    return config


def load_agent_config(path: str | Path) -> AgentConfig:
    """Read the meeting PC's agent.toml; raise ConfigError naming every bad key."""
    r = _parse(path)
    r.sections(AGENT_SECTIONS)
    site, mqtt = _common(r)
    table = r.data.get("agent", {})
    obs_table = table.pop("obs", None) if isinstance(table, dict) else None
    agent = r.command_key(r.section("agent", table))
    r.required("agent.pc_id", agent.pc_id)
    if obs_table is not None:
        obs = r.section("obs", obs_table, "agent.obs")
        password = r.secret("agent.obs.password_file", obs.password_file)
        agent = dataclasses.replace(agent, obs=dataclasses.replace(obs, password=password))
    config = AgentConfig(str(r.path), site, mqtt, agent)
    r.finish()
    return config
