"""The Pi's siaga.toml (CONTRACT §2): the room's sections, and ``load_config`` for the whole file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..signing import BadKey, read_keys

from .common import MqttConfig, SiteConfig, read_common
from .dashboard import AlertsConfig, DashboardConfig, read_dashboard
from .declare import DAY_S, derived, host, ids, key, pins, section, topic_prefix
from .reader import BadPath, Reader, parse

PIN_FACTORIES = ("", "mock", "lgpio", "rpigpio", "pigpio", "native")
# Ready before a meeting (edge.readiness, and the SOP that says so): with the power cut at its
# start, the meeting runs this long on battery before the wrap-up: ten minutes to hear the
# notice, finish the point and save. Below policy.wrapup_at_runtime_s + this, IT charges first.
READY_RUNTIME_MARGIN_S = 600.0


@section("ups", "[[ups]]")
@dataclass(frozen=True)
class UpsConfig:
    """One [[ups]] table."""

    name: str = key("", "The UPS's section name in /etc/nut/ups.conf.", required=True)
    host: str = key("127.0.0.1", "The host of upsd.", check=host)
    port: int = key(3493, "upsd's port.", low=1, high=65535)
    username: str = key("", 'The upsd.users login, needed only for the UPS self-test from the '
                        'dashboard. "" = no login.', note="The user allowed "
                        "test.battery.start.quick; the installer writes its password to "
                        "/etc/siaga/nut.password.")
    password_file: str = key("", 'File holding that login\'s password (first line). "" = none.')
    powers_pc: bool = key(True, "true = this UPS feeds the meeting PC: its outage drives "
                          "notices, wrap-up and shutdown.", note="false = watched and shown only "
                          "(e.g. a UPS for the network switch).")
    password: str = derived()


@section("edge")
@dataclass(frozen=True)
class EdgeConfig:
    """[edge]"""

    poll_interval_s: float = key(1.0, "Seconds between two polls of upsd.", low=0.1, high=60)
    journal: str = key("/var/lib/siaga/journal.sqlite3", "The journal: every step of every "
                       "outage, kept across restarts.")
    pcs: tuple[str, ...] = key(("meeting-pc",), "The pc_id of each meeting PC's agent in this "
                               "room. [] = no PC: the room only shows the power state.", check=ids)
    # holds <pc_id>.key: commands to that PC are signed (§5.9)
    keys_dir: str = key("", 'Folder with <pc_id>.key per PC: commands to that PC are signed. '
                        '"" = none.', note="Each key on its first line, 32+ characters; the "
                        "agent (agent.command_key_file) obeys only signed commands "
                        "(docs/security.md).")
    # NUT's POWERDOWNFLAG (upsmon.conf), written after the PCs in a real outage: this Pi powers
    # off and the UPS cuts its outlets (docs: firmware_config/pi.md). "" = never.
    powerdown_flag: str = key("", "NUT's POWERDOWNFLAG, written after the PCs in a real outage: "
                              'this Pi powers off. "" = never.', note="Keep it the same as the "
                              "POWERDOWNFLAG of /etc/nut/upsmon.conf. In a real outage only (on "
                              "battery), after every PC told to shut down is off (or its grace and "
                              "a minute more have passed), the edge writes it: systemd "
                              "(siaga-poweroff.path) powers this Pi off and NUT's shutdown hook "
                              "has the UPS cut its outlets until the mains is back. upsmon only "
                              "watches. The installer sets it.")
    command_keys: tuple[tuple[str, bytes], ...] = derived(())


@section("policy")
@dataclass(frozen=True)
class PolicyConfig:
    """[policy]: when the room moves from one stage of an outage to the next."""

    notice_after_s: float = key(5, "Seconds on battery before the PC is told (a flicker guard: "
                                "short dips stay silent).", high=DAY_S)
    wrapup_at_runtime_s: float = key(300, "UPS runtime (seconds) at or below which the PC runs "
                                     "its wrap-up (save the recording).", high=DAY_S)
    shutdown_at_runtime_s: float = key(120, "Runtime (seconds) at or below which the PC shuts "
                                       "down; not above wrapup_at_runtime_s.", note="Also on LB "
                                       "or FSD, counted only with OB: drivers that say FSD or LB "
                                       "on mains are ignored, FSD on mains is shown as "
                                       "`attention`, and a UPS whose FSD was already set on mains "
                                       "is not believed for FSD on battery. Keep it well above "
                                       "ups.conf's override.battery.runtime.low (60 s) so that "
                                       "the Pi shuts down after the PC. LB, FSD or a runtime "
                                       "already at this value skip the flicker guard: the "
                                       "shutdown goes at once.", high=DAY_S)
    pc_offline_after_s: float = key(20, "No status from an agent for this many seconds: the PC "
                                    "counts as offline.", high=DAY_S)
    # Beyond the contract: what to do when runtime is unknown or the UPS cannot be read.
    wrapup_at_charge_pct: float = key(50, "For a UPS that does not report runtime: battery "
                                      "charge (%) for the wrap-up.", high=100)
    shutdown_at_charge_pct: float = key(25, "For a UPS that does not report runtime: battery "
                                        "charge (%) for the shutdown.", high=100)
    unreadable_wrapup_after_s: float = key(60, "A PC's UPS unreadable on battery, no runtime of "
                                           "it read on battery in this outage: wrap up after "
                                           "this many seconds.",
                                           note="If its runtime was read on battery in this "
                                           "outage, the stages follow the estimate (that runtime "
                                           "minus the time since), unlike upsmon, which shuts "
                                           "down at once: a USB link or driver often drops at the "
                                           "moment of a cut. An unreadable UPS keeps an outage "
                                           "open only while no UPS feeding the PC reads on mains. "
                                           "Counted only once the UPS was read on battery in "
                                           "this boot (an edge restarted mid-cut goes on): an "
                                           "outage resumed after a new boot (a battery run flat, "
                                           "the mains back) waits for a reading.",
                                           high=DAY_S)
    # A UPS feeding the PC is lost mid-outage and no runtime of it was read on battery: the shutdown
    # follows the wrap-up after this long. 120 s gives the wrap-up time to stop the recording
    # and write the file (OBS needs seconds) and matches shutdown_at_runtime_s's default: the
    # margin we keep on a battery we can see is the most we dare spend on one we cannot.
    unreadable_shutdown_after_s: float = key(120, "The same, no runtime known: shut down "
                                             "this many seconds after the wrap-up.",
                                             note="120 s: time for the wrap-up to save the "
                                             "recording, and the same margin "
                                             "shutdown_at_runtime_s keeps on a battery we can see.", high=DAY_S)
    # While a PC converts a recording the shutdown waits, but never below this runtime (§5.3).
    # At or above shutdown_at_runtime_s the shutdown never waits (not an error: a site that set
    # a low shutdown_at_runtime_s before v1.1 keeps a valid file and simply gets no hold).
    hard_shutdown_at_runtime_s: float = key(60, "While a PC converts a recording the shutdown "
                                            "waits, but never below this runtime (seconds).",
                                            note="And never on LB or FSD. At or above "
                                            "shutdown_at_runtime_s: no hold.", high=DAY_S)
    low_charge_attention_pct: float = key(50, "On mains with charge below this (%): `attention` "
                                          "(the battery is not charging well).", high=100)
    disk_low_gb: float = key(5, "A PC whose recordings disk has less free space than this (GB): "
                             "`attention`.", high=10_000)
    ready_before_s: float = key(900, "Readiness is checked this many seconds before a booked "
                                "meeting (site.calendar).", high=DAY_S)
    ready_min_charge_pct: float = key(80, "A booked meeting is not ready while a UPS's charge is "
                                      "below this (%).", high=100)
    shutdown_grace_s: float = key(30, "grace_s sent with the shutdown command: the agent waits "
                                  "this long (a cancel inside it stops the shutdown).", high=3600)
    resend_after_s: float = key(5, "A command the PC has not acknowledged is sent again after "
                                "this many seconds.", high=3600)


@section("gpio")
@dataclass(frozen=True)
class GpioConfig:
    """[gpio]"""

    pin_factory: str = key("", "gpiozero's pin factory: \"\" = gpiozero's own choice, \"mock\" "
                           "= no hardware.", choices=PIN_FACTORIES, note='gpiozero picks lgpio '
                           'on a Pi 5 and on Raspberry Pi OS bookworm/trixie; or "lgpio", '
                           '"rpigpio", "pigpio", "native".')
    led_kind: str = key("rgb", '"rgb" = one RGB LED; "traffic" = three LEDs; "single" = one LED '
                        "on one pin.", choices=("rgb", "traffic", "single"), note="rgb: pins red, "
                        "green, blue; traffic: red, amber, green; single: colours become blink "
                        "patterns. See docs/wiring.svg.")
    led_pins: tuple[int, ...] = key((17, 27, 22), "The LED's BCM GPIO numbers (not header pin "
                                    "numbers).", check=pins, note="17, 27, 22 = header pins 11, "
                                    "13, 15.")
    buzzer_pin: int = key(23, "Active buzzer's GPIO (23 = header pin 16); 0 = no buzzer.",
                          low=0, high=27)
    button_pin: int = key(24, "Silence button's GPIO, to ground (24 = header pin 18); 0 = no "
                          "button.", low=0, high=27)


@section("homeassistant")
@dataclass(frozen=True)
class HomeAssistantConfig:
    """[homeassistant]: MQTT discovery of the room as a Home Assistant device (CONTRACT §5.7)."""

    discovery: bool = key(False, "true = this room appears in Home Assistant as a device (MQTT "
                          "discovery, retained, on this broker).", note='Room state, power, each '
                          'PC, a "silence" button. Back to false and restart siaga-edge once to '
                          "remove the room from Home Assistant. See docs/fleet.md.")
    discovery_prefix: str = key("homeassistant", "Home Assistant's discovery topic prefix.",
                                check=topic_prefix)


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


# The sections of siaga.toml, in the file's order; any other top-level name is a typo, an error.
SIAGA_FILE = (SiteConfig, MqttConfig, UpsConfig, EdgeConfig, PolicyConfig, GpioConfig,
              DashboardConfig, AlertsConfig, HomeAssistantConfig)
LED_PINS = {"rgb": 3, "traffic": 3, "single": 1}


def _calendar_path(r: Reader, site: SiteConfig) -> SiteConfig:
    """``site`` with a calendar file made absolute (relative to the config file); a URL as is.
    A file that is missing now is not an error: the edge says so and works without it."""
    if not site.calendar or "://" in site.calendar:
        return site
    try:
        return dataclasses.replace(site, calendar=str(r.relative(site.calendar)))
    except BadPath as exc:
        r.error("site.calendar", str(exc), show=False)
        return site


def load_config(path: str | Path, read_files: bool = True) -> Config:
    """Read siaga.toml; raise ConfigError naming every bad key.

    ``read_files=False``: every key is still checked, but the files it names (passwords, token,
    CA, command keys) are not opened: for `siaga report`, which uses none of them."""
    r = parse(path)
    r.sections(SIAGA_FILE)
    site, mqtt = read_common(r, read_files)
    site = _calendar_path(r, site)
    ups = read_ups(r, read_files)
    policy = r.section(PolicyConfig)
    if policy.shutdown_at_runtime_s > policy.wrapup_at_runtime_s:
        r.error("policy.shutdown_at_runtime_s", "must not be above policy.wrapup_at_runtime_s",
                policy.shutdown_at_runtime_s)
    gpio = r.section(GpioConfig)
    want = LED_PINS[gpio.led_kind]
    if len(gpio.led_pins) != want:
        r.error("gpio.led_pins", f'needs {want} pins for led_kind "{gpio.led_kind}"', list(gpio.led_pins))
    dash = read_dashboard(r, read_files)
    edge = r.section(EdgeConfig)
    edge = command_keys(r, edge) if read_files else edge
    config = Config(str(r.path), site, mqtt, ups, edge, policy, gpio, dash,
                    r.section(AlertsConfig), r.section(HomeAssistantConfig))
    r.finish()
    return config


def read_ups(r: Reader, read_files: bool) -> tuple[UpsConfig, ...]:
    """Every [[ups]] table (at least one, names different), passwords read unless told not to."""
    tables = r.data.get("ups", [])
    if not isinstance(tables, list) or not tables:
        r.error("ups", "needs at least one [[ups]] table", show=False)
        tables = []
    ups = []
    for i, table in enumerate(tables):
        u = r.section(UpsConfig, table, f"ups[{i}]")
        r.required(f"ups[{i}].name", u.name)
        if read_files:
            u = dataclasses.replace(u, password=r.secret(f"ups[{i}].password_file", u.password_file))
        ups.append(u)
    if len({u.name for u in ups}) != len(ups):
        r.error("ups", "UPS names must be different", show=False)
    return tuple(ups)


def command_keys(r: Reader, edge: EdgeConfig) -> EdgeConfig:
    """``edge`` with the keys of ``edge.keys_dir`` read (none when it is not set)."""
    if not edge.keys_dir:
        return edge
    try:
        keys = read_keys(r.relative(edge.keys_dir), edge.pcs)
    except (BadKey, BadPath) as exc:
        r.error("edge.keys_dir", str(exc), show=False)
        return edge
    return dataclasses.replace(edge, command_keys=tuple(sorted(keys.items())))
