"""The MQTT payloads of CONTRACT.md §3, defined once for edge, agent and dashboard.

Every payload is a frozen dataclass. ``to_json`` writes it; ``decode(cls, raw)`` reads it and
raises ``BadMessage`` (a ``ValueError``) for anything that is not exactly what the contract
allows: not JSON, too large, wrong ``v``, a missing required field, a wrong type, an unknown
``kind``. Unknown fields are ignored and missing optional fields take their defaults, so a
newer sender never crashes an older reader.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import math
import types
import typing
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, ClassVar, Protocol, TypeVar

VERSION = 1
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_TEXT_CHARS = 4000
MAX_NUMBER = 2**53  # every number we send (times, seq, sizes) is far below; exact as a float



class PcCommandKind(StrEnum):
    """What a PC command asks of the meeting PC (CONTRACT §3, `P/pc/{pc_id}/command`)."""

    NOTICE = "notice"        # on battery: banner, chat text
    WRAPUP = "wrapup"        # battery nearly empty: save the recording
    SHUTDOWN = "shutdown"    # shut the PC down after grace_s
    CANCEL = "cancel"        # power is back: stop a pending shutdown
    TEST = "test"            # a test banner


class EdgeCommandKind(StrEnum):
    """What a dashboard, IT or Home Assistant asks of the edge (`P/edge/command`)."""

    SILENCE = "silence"
    TEST_INDICATOR = "test_indicator"
    TEST_NOTICE = "test_notice"
    UPS_SELFTEST = "ups_selftest"
    REPLAY = "replay"        # the dashboard's own, with from_seq (CONTRACT §5.2)


class Availability(StrEnum):
    """The retained payload of an `availability` topic (the last will says offline)."""

    ONLINE = "online"
    OFFLINE = "offline"


class AckCode(StrEnum):
    """What an agent's ack says, as a code: the dashboard writes it in the page's language, its
    ``args`` filling the placeholders. The ack's ``detail`` keeps the agent's own sentence for
    readers that know no codes (CONTRACT §3: unknown fields are ignored)."""

    BANNER = "banner"                          # the banner is on the screen
    NO_DISPLAY_LOGGED = "no_display_logged"    # no screen: only logged
    BANNER_OFF_LOGGED = "banner_off_logged"    # agent.banner = false: only logged
    SHUTDOWN_IN = "shutdown_in"                # args: seconds
    SHUTDOWN_PENDING = "shutdown_pending"
    SHUTDOWN_CANCELLED = "shutdown_cancelled"
    # A second ack of a shutdown, ``ok`` false: its command ran and the PC is still up.
    SHUTDOWN_FAILED = "shutdown_failed"        # args: command, status, output
    SHUTDOWN_TIMEOUT = "shutdown_timeout"      # args: command, seconds, output
    SHUTDOWN_NOT_RUN = "shutdown_not_run"      # args: command, error
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    WRAPUP_STARTED = "wrapup_started"
    WRAPUP_RUNNING = "wrapup_running"
    NO_WRAPUP_COMMAND = "no_wrapup_command"
    ALREADY_HANDLED = "already_handled"
    EXPIRED = "expired"
    REJECTED = "rejected"                      # malformed; args: reason
    REFUSED = "refused"                        # not signed as it must be; args: reason
    SAVED = "saved"                            # OBS saved the recording; args: file, size_bytes
    OBS_UNREACHABLE = "obs_unreachable"        # args: where
    OBS_NOT_WEBSOCKET = "obs_not_websocket"    # args: where, error
    OBS_PASSWORD = "obs_password"
    OBS_NO_ANSWER = "obs_no_answer"            # args: where, seconds
    OBS_TIMEOUT = "obs_timeout"                # args: seconds
    OBS_REFUSED = "obs_refused"                # args: request, comment
    OBS_NOT_RECORDING = "obs_not_recording"


# A shutdown's second ack, ``ok`` false: its command ran and the PC is still up (agent/main.py).
NOT_OFF_CODES = frozenset({AckCode.SHUTDOWN_FAILED, AckCode.SHUTDOWN_TIMEOUT,
                           AckCode.SHUTDOWN_NOT_RUN})

# An edge command (not a replay) older than this is not acted on: the central broker keeps QoS 1
# commands for a room that is cut off and hands them over when the link returns, perhaps hours
# later, and yesterday's silence must not quiet today's buzzer. The dashboard sends them with
# this MQTT v5 message expiry (the broker then drops them); the edge refuses one whose ``ts`` is
# older by its own clock (Home Assistant's button sends no expiry).
EDGE_COMMAND_MAX_AGE_S = 300
PC_COMMAND_KINDS = tuple(k.value for k in PcCommandKind)
EDGE_COMMAND_KINDS = tuple(k.value for k in EdgeCommandKind)
# What people and scripts may send through the dashboard; `replay` is the dashboard's own (it
# sends one, with from_seq, when it misses events: CONTRACT §5.2).
USER_COMMAND_KINDS = tuple(k.value for k in EdgeCommandKind if k is not EdgeCommandKind.REPLAY)
AVAILABILITY = tuple(a.value for a in Availability)


class Room(str, Enum):
    """The room states of CONTRACT §3, mildest first (``fault`` last: it is not an outage)."""

    READY = "ready"
    ATTENTION = "attention"
    ON_BATTERY = "on_battery"
    WRAPUP = "wrapup"
    SHUTDOWN = "shutdown"
    FAULT = "fault"


ROOM_STATES = tuple(r.value for r in Room)


class EventKind(str, Enum):
    """Every journal event kind (CONTRACT §3, §5.1), defined once.

    The value is the kind on the wire; ``fields`` names the keys of its ``detail`` (an unwritten
    schema before: ``resume()`` and the dashboard read these back). Catalogues and the dashboard
    walk this list, so a new kind cannot be forgotten in one of them.
    """

    fields: tuple[str, ...]

    def __new__(cls, value: str, fields: tuple[str, ...] = ()) -> "EventKind":
        member = str.__new__(cls, value)
        member._value_ = value
        member.fields = fields
        return member

    EDGE_STARTED = "edge_started", ("resumed_outage", "clock_synced", "boot")
    POWER_LOST = "power_lost", ("ups", "charge_pct", "runtime_s", "load_pct", "runtime_learned_s")
    POWER_RESTORED = "power_restored", ("duration_s",)
    LOW_BATTERY = "low_battery", ("ups", "runtime_s")
    NOTICE_SENT = "notice_sent", ("pcs", "runtime_s", "charge_pct", "why")
    WRAPUP_SENT = "wrapup_sent", ("pcs", "runtime_s", "charge_pct", "why")
    SHUTDOWN_SENT = "shutdown_sent", ("pcs", "runtime_s", "charge_pct", "why")
    CANCEL_SENT = "cancel_sent", ("pcs",)
    PC_ACK = "pc_ack", ("pc", "id", "kind", "ok", "detail", "code", "args")
    PC_ONLINE = "pc_online", ("pc",)
    PC_OFFLINE = "pc_offline", ("pc",)
    PC_OFF = "pc_off", ("pc",)
    UPS_UNREACHABLE = "ups_unreachable", ("ups", "reason", "detail")
    UPS_REACHABLE = "ups_reachable", ("ups", "status")
    REPLACE_BATTERY = "replace_battery", ("ups",)
    UPS_SELFTEST = "ups_selftest", ("ups", "ok", "detail")
    UPS_FSD_ON_MAINS = "ups_fsd_on_mains", ("ups", "status")
    SILENCED = "silenced", ("by", "room")
    COMMAND = "command", ("kind", "id", "by", "ok", "age_s")   # ok false: refused, too old
    MEETING_STARTED = "meeting_started", ("pc", "app", "by")
    MEETING_ENDED = "meeting_ended", ("pc",)
    CONVERSION_STARTED = "conversion_started", ("pc",)
    CONVERSION_ENDED = "conversion_ended", ("pc",)
    SHUTDOWN_HELD = "shutdown_held", ("pcs", "runtime_s", "why")
    RUNTIME_ESTIMATED = "runtime_estimated", ("ups", "runtime_s", "from_s")
    REPLAYED = "replayed", ("from_seq", "to_seq", "by")
    RUNTIME_LEARNED = "runtime_learned", ("ups", "rate_pct_per_min", "load_pct", "discharges")
    PI_POWEROFF = "pi_poweroff"
    # The schedule (CONTRACT §6.3): a booked meeting is ready_before_s away and the room is not
    # ready; it is ready again before its start; a booked meeting began (the report's bookings).
    NOT_READY = "not_ready", ("meeting", "start", "problems")
    READY_AGAIN = "ready_again", ("meeting", "start")
    BOOKING = "booking", ("meeting", "start", "end")
    # The room's calendar has not been readable for an hour (since: when it stopped, wall
    # clock; problem: the edge's one-line why, English, for IT), and read again.
    CALENDAR_UNREADABLE = "calendar_unreadable", ("since", "problem")
    CALENDAR_READABLE = "calendar_readable"

class DataclassInstance(Protocol):
    """What every message type is: a dataclass (for the type checker)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


T = TypeVar("T", bound=DataclassInstance)


class BadMessage(ValueError):
    """A payload that does not follow CONTRACT.md; the reader logs it and drops it."""


@dataclass(frozen=True)
class PcCommand:
    """Edge -> agent: what the meeting PC should do (`P/pc/{pc_id}/command`)."""

    id: str
    ts: float
    expires: float
    kind: str
    lang: str = "id"
    title: str = ""
    text: str = ""
    chat_text: str = ""
    runtime_s: int | None = None
    grace_s: int = 30
    sig: str | None = None     # HMAC of the rest, when the edge has this PC's key (protocol/signing.py)
    v: int = VERSION

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, PC_COMMAND_KINDS)


@dataclass(frozen=True)
class Ack:
    """Agent -> edge: a command was received (`P/pc/{pc_id}/ack`)."""

    id: str
    kind: str
    ok: bool
    ts: float
    detail: str = ""                  # the agent's sentence (readers without codes show it)
    code: str = ""                    # an AckCode; "" from an agent older than the codes
    args: dict[str, Any] = field(default_factory=dict)   # the code's placeholders
    v: int = VERSION


@dataclass(frozen=True)
class MeetingNow:
    """The meeting live on a PC (CONTRACT §6.2): which app, since when, seen how."""

    app: str          # "zoom" | "teams" | "meet-browser" | "browser" | a process name
    since: float
    by: str           # "microphone" | "camera" | "process" (captures cannot be seen)


@dataclass(frozen=True)
class AgentStatus:
    """Agent -> edge: the PC's telemetry (`P/pc/{pc_id}/status`)."""

    pc: str
    ts: float
    hostname: str = ""
    os: str = ""
    cpu_pct: float | None = None
    mem_pct: float | None = None
    disk_free_gb: float | None = None
    disk_total_gb: float | None = None
    uptime_s: float | None = None
    meeting_app: bool = False
    converting: bool = False
    meeting: MeetingNow | None = None          # §6.2; None = no meeting live
    disk_used_gb_day: float | None = None      # §6.2; the recordings disk's use per day, 14 days
    v: int = VERSION


@dataclass(frozen=True)
class EdgeCommand:
    """Dashboard or IT -> edge (`P/edge/command`)."""

    id: str
    ts: float
    kind: str
    by: str = ""
    from_seq: int | None = None   # replay only (CONTRACT §5.2): republish events from this seq
    v: int = VERSION

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, EDGE_COMMAND_KINDS)


@dataclass(frozen=True)
class JournalEvent:
    """One journal entry, as published on `P/edge/event`."""

    site: str
    seq: int
    ts: float
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    v: int = VERSION


@dataclass(frozen=True)
class Power:
    """The UPSes that feed the PC, taken together."""

    on_battery: bool = False
    low_battery: bool = False
    charge_pct: float | None = None
    runtime_s: float | None = None   # what the stages use: the smaller of claim and measurement
    runtime_source: str | None = None   # "ups" | "learned" | "estimated" | None (CONTRACT §6.1)


@dataclass(frozen=True)
class UpsView:
    """One UPS as the state snapshot shows it."""

    name: str
    reachable: bool = False
    status: str = ""
    on_battery: bool = False
    low_battery: bool = False
    charge_pct: float | None = None
    runtime_s: float | None = None
    load_pct: float | None = None
    input_voltage: float | None = None
    selftest: bool | None = None  # upsd lists test.battery.start.quick for it; None = not known
    # The UPS's rating and battery, for the needs report (load in W, battery age); None = unknown.
    realpower_nominal: float | None = None   # W (ups.realpower.nominal)
    power_nominal: float | None = None       # VA (ups.power.nominal)
    battery_date: str | None = None          # "YYYY-MM-DD" (battery.date or battery.mfr.date)
    runtime_learned_s: float | None = None   # Siaga's own measure to the low point (§6.1)
    runtime_discharges: int | None = None    # ... learned from this many discharges


@dataclass(frozen=True)
class PcView:
    """One meeting PC as the state snapshot shows it."""

    id: str
    online: bool = False
    last_seen: float | None = None
    meeting_app: bool = False
    converting: bool = False
    disk_free_gb: float | None = None
    meeting: MeetingNow | None = None          # the agent's (§6.2), while the PC is online
    disk_used_gb_day: float | None = None      # the agent's (§6.2): what the report's days_left uses


@dataclass(frozen=True)
class IndicatorView:
    """What the LED and buzzer are doing."""

    led: str = "off"
    pattern: str = "off"
    buzzer: str = "off"
    silenced: bool = False


@dataclass(frozen=True)
class OutageView:
    """The current outage's stages (times, or None for a stage not reached)."""

    started: float
    notice_sent: float | None = None
    wrapup_sent: float | None = None
    shutdown_sent: float | None = None
    pc_off: float | None = None   # when every PC told to shut down was really off (CONTRACT §5.1)


@dataclass(frozen=True)
class NextMeeting:
    """The room's next (or running) booked meeting and whether the room is ready (§6.3)."""

    title: str
    start: float
    end: float
    ready: bool = True
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StateSnapshot:
    """The room's whole state, retained on `P/edge/state`."""

    site: str
    ts: float
    room: str
    since: float
    name: str = ""
    reasons: list[str] = field(default_factory=list)
    power: Power = field(default_factory=Power)
    ups: list[UpsView] = field(default_factory=list)
    pcs: list[PcView] = field(default_factory=list)
    indicator: IndicatorView = field(default_factory=IndicatorView)
    outage: OutageView | None = None
    seq: int | None = None        # the journal's last seq when the snapshot was made (§5.2)
    next_meeting: NextMeeting | None = None   # from the room's calendar (§6.3)
    v: int = VERSION

    def __post_init__(self) -> None:
        _check_choice("room", self.room, ROOM_STATES)


def event_from_row(site: str, seq: int, ts: float, kind: str, detail_json: str) -> JournalEvent:
    """A journal event from its stored SQLite columns (the edge's journal, the dashboard's copy).
    A detail that is not JSON reads as {}; JSON that is not an object as {"value": ...}."""
    try:
        detail = json.loads(detail_json)
    except (TypeError, ValueError):
        detail = {}
    return JournalEvent(site=site, seq=seq, ts=ts, kind=kind,
                        detail=detail if isinstance(detail, dict) else {"value": detail})


def to_dict(message: Any) -> dict[str, Any]:
    """The message as a plain dict, in the contract's field names (what dataclasses.asdict gives,
    four times faster: the dashboard turns every room's state into one)."""
    return {name: _plain(getattr(message, name)) for name in _names(message.__class__)}


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """A field's value as plain data: messages become dicts, lists and dicts are copied. A NaN or
    infinity (JSON has none; a reader refuses the message) becomes null: unknown."""
    if value.__class__ is float:
        return value if math.isfinite(value) else None
    if value.__class__ in _ATOMS:
        return value
    if hasattr(value.__class__, "__dataclass_fields__"):
        return to_dict(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return copy.deepcopy(value)     # nothing else is in a message; as asdict would


def to_json(message: Any) -> bytes:
    """The message as the compact UTF-8 JSON sent over MQTT."""
    return json.dumps(to_dict(message), ensure_ascii=False, separators=(",", ":")).encode()


def decode(cls: type[T], raw: bytes | str) -> T:
    """Read one payload of type ``cls``; raise BadMessage with a one-line reason."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise BadMessage(f"payload of {len(raw)} bytes is over {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    except RecursionError:
        raise BadMessage("JSON nested too deeply") from None
    return from_dict(cls, data)


def _no_constant(name: str) -> Any:
    """Python's json reads NaN, Infinity and -Infinity, which JSON does not have: a browser
    cannot parse a page's answer that carries one on."""
    raise ValueError(f"{name} is not a JSON number")


def from_dict(cls: type[T], data: Any, where: str = "") -> T:
    """Build ``cls`` from parsed JSON, checking every field against its type hint."""
    if not isinstance(data, dict):
        raise BadMessage(f"{where or cls.__name__}: expected an object")
    if data.get("v", VERSION) != VERSION and not where:
        raise BadMessage(f"unsupported version v={data.get('v')!r}")
    values: dict[str, Any] = {}
    for name, check, optional, required in _plan(cls):
        value = data.get(name)
        if value is None:
            if optional and name in data:
                values[name] = None
            elif required:
                raise BadMessage(f"{where}{name}: missing")
            continue
        values[name] = check(value, where, name)
    try:
        return cls(**values)
    except BadMessage:
        raise
    except (TypeError, ValueError) as exc:
        raise BadMessage(f"{cls.__name__}: {exc}") from None


# A field's check: (value, where, name) -> the value to keep; BadMessage naming where + name.
_Check = typing.Callable[[Any, str, str], Any]


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, _Check, bool, bool], ...]:
    """Each field of a message class as (name, its check, may be null, required), worked out
    once per class (type hints, unions and lists are slow to look at on every message)."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _check(hints[f.name]), _is_optional(hints[f.name]),
                  f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
                 for f in dataclasses.fields(cls))


def _is_optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def _check(hint: Any) -> _Check:
    """The check of ``hint``: numbers must be finite, strings bounded, lists short."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        optional = _is_optional(hint)
        inner = _check([a for a in typing.get_args(hint) if a is not type(None)][0])
        return lambda value, where, name: (None if value is None and optional
                                           else inner(value, where, name))
    if origin is list:
        (item,) = typing.get_args(hint)
        each = _check(item)

        def check_list(value: Any, where: str, name: str) -> list[Any]:
            if not isinstance(value, list) or len(value) > 256:
                raise BadMessage(f"{where}{name}: expected a list of at most 256 items")
            return [each(v, where, f"{name}[{i}]") for i, v in enumerate(value)]
        return check_list
    if origin is dict:
        def check_dict(value: Any, where: str, name: str) -> dict[Any, Any]:
            if not isinstance(value, dict):
                raise BadMessage(f"{where}{name}: expected an object")
            return value
        return check_dict
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda value, where, name: from_dict(hint, value, f"{where}{name}.")
    return lambda value, where, name: _scalar(hint, value, where, name)


def _scalar(hint: Any, value: Any, where: str, name: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is str:
        if isinstance(value, str) and len(value) <= MAX_TEXT_CHARS:
            return value
    elif hint in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        # Bounded first: a 400-digit integer would overflow float() (and SQLite's INTEGER).
        if abs(value) <= MAX_NUMBER and math.isfinite(value) and (hint is float or float(value).is_integer()):
            return hint(value)
    raise BadMessage(f"{where}{name}: expected {hint.__name__}, got {_show(value)}")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise BadMessage(f"{name}: unknown {_show(value)}, expected one of {', '.join(allowed)}")


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Topics:
    """The topic names of one site: ``{topic_prefix}/{site_id}/...``."""

    prefix: str
    site: str

    @property
    def base(self) -> str:
        """``P`` of the contract."""
        return f"{self.prefix}/{self.site}"

    def edge(self, leaf: str) -> str:
        """``P/edge/{leaf}``: availability, state, event, command."""
        return f"{self.base}/edge/{leaf}"

    def pc(self, pc_id: str, leaf: str) -> str:
        """``P/pc/{pc_id}/{leaf}``: availability, status, command, ack."""
        return f"{self.base}/pc/{pc_id}/{leaf}"


def parse_topic(prefix: str, topic: str) -> tuple[str, list[str]] | None:
    """Split ``prefix/site/rest...`` into (site, rest); None when it is not ours."""
    parts = topic.split("/")
    head = prefix.split("/")
    if parts[: len(head)] != head or len(parts) < len(head) + 3:
        return None
    return parts[len(head)], parts[len(head) + 1 :]
