"""Fuzzing every decoder at a boundary: MQTT payloads and topics, NUT answers, the agent's state
file. Whatever arrives, the reader either gets a value or its own one-line error, never another
exception (which would kill paho's thread or the poll loop)."""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agent.commands import HandledIds, judge
from edge.bus import decode_incoming
from edge.ups import parse_reading
from protocol import messages
from protocol.messages import (PC_COMMAND_KINDS, Ack, AgentStatus, BadMessage, EdgeCommand,
                               JournalEvent, PcCommand, StateSnapshot, Topics, decode, to_dict, to_json)
from tests import hypothesis_profiles  # noqa: F401 - bounded examples here, more in make reliability

MESSAGES = (PcCommand, Ack, AgentStatus, EdgeCommand, JournalEvent, StateSnapshot)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12)

VALID = {
    PcCommand: {"v": 1, "id": "c1", "ts": 1.0, "expires": 121.0, "kind": "notice", "lang": "id",
                "title": "t", "text": "x", "chat_text": "c", "runtime_s": 1500, "grace_s": 30},
    Ack: {"v": 1, "id": "c1", "kind": "notice", "ok": True, "ts": 1.0, "detail": ""},
    AgentStatus: {"v": 1, "pc": "meeting-pc", "ts": 1.0, "hostname": "h", "cpu_pct": 1.0,
                  "disk_free_gb": 10.0, "meeting_app": True, "converting": False},
    EdgeCommand: {"v": 1, "id": "e1", "ts": 1.0, "kind": "silence", "by": "admin"},
    JournalEvent: {"v": 1, "site": "s", "seq": 1, "ts": 1.0, "kind": "power_lost", "detail": {}},
    StateSnapshot: {"v": 1, "site": "s", "ts": 1.0, "room": "ready", "since": 0.0,
                    "power": {"on_battery": False, "charge_pct": 100.0},
                    "ups": [{"name": "meeting", "reachable": True, "status": "OL"}],
                    "pcs": [{"id": "meeting-pc", "online": True}],
                    "indicator": {"led": "green"}, "outage": {"started": 1.0}},
}


def decodes_or_says_why(cls: type, raw: bytes) -> object | None:
    """decode's only outcomes: a message of ``cls`` or BadMessage with a one-line reason."""
    try:
        message = decode(cls, raw)
    except BadMessage as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    assert isinstance(message, cls)
    return message


@given(cls=st.sampled_from(MESSAGES), raw=st.binary(max_size=300))
def test_any_bytes_decode_or_are_refused(cls, raw):
    decodes_or_says_why(cls, raw)


@given(cls=st.sampled_from(MESSAGES), value=JSON)
def test_any_json_decodes_or_is_refused(cls, value):
    decodes_or_says_why(cls, json.dumps(value).encode())


@given(cls=st.sampled_from(MESSAGES), data=st.data())
def test_a_valid_message_with_any_field_changed_decodes_or_is_refused(cls, data):
    payload = dict(VALID[cls])
    assert decodes_or_says_why(cls, json.dumps(payload).encode()) is not None
    for name in data.draw(st.lists(st.sampled_from(sorted(payload) + ["extra"]), max_size=3)):
        payload[name] = data.draw(JSON)
    message = decodes_or_says_why(cls, json.dumps(payload).encode())
    if message is not None:   # what was accepted writes back to JSON that reads the same
        assert decode(cls, to_json(message)) == message


def reference_from_dict(cls, data, where=""):
    """The reading messages.from_dict did until 2026-12 (every type hint looked at on every
    message), kept as the oracle for the faster one: the same message or the same reason."""
    if not isinstance(data, dict):
        raise BadMessage(f"{where or cls.__name__}: expected an object")
    if data.get("v", messages.VERSION) != messages.VERSION and not where:
        raise BadMessage(f"unsupported version v={data.get('v')!r}")
    hints, values = typing.get_type_hints(cls), {}
    for f in dataclasses.fields(cls):
        path, value = f"{where}{f.name}", data.get(f.name)
        if value is None:
            if f.name in data and type(None) in typing.get_args(hints[f.name]):
                values[f.name] = None
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise BadMessage(f"{path}: missing")
            continue
        values[f.name] = reference_convert(hints[f.name], value, path)
    try:
        return cls(**values)
    except BadMessage:
        raise
    except (TypeError, ValueError) as exc:
        raise BadMessage(f"{cls.__name__}: {exc}") from None


def reference_convert(hint, value, path):
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        return reference_convert([a for a in typing.get_args(hint) if a is not type(None)][0], value, path)
    if origin is list:
        if not isinstance(value, list) or len(value) > 256:
            raise BadMessage(f"{path}: expected a list of at most 256 items")
        return [reference_convert(typing.get_args(hint)[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise BadMessage(f"{path}: expected an object")
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return reference_from_dict(hint, value, f"{path}.")
    if hint is bool and isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str) and len(value) <= messages.MAX_TEXT_CHARS:
        return value
    if hint in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) <= messages.MAX_NUMBER and math.isfinite(value) and (
                hint is float or float(value).is_integer()):
            return hint(value)
    raise BadMessage(f"{path}: expected {hint.__name__}, got {messages._show(value)}")


def outcome(read, cls, data):
    try:
        return read(cls, data)
    except BadMessage as exc:
        return f"BadMessage: {exc}"


@given(cls=st.sampled_from(MESSAGES), data=st.data())
def test_the_fast_reading_and_writing_give_what_the_generic_ones_gave(cls, data):
    """from_dict and to_dict work from a plan made once per message type; on any payload near a
    valid one (nested fields too) they give the message, or the reason, the generic code gave,
    and the dict dataclasses.asdict gives."""
    payload = json.loads(json.dumps(VALID[cls]))
    for name in data.draw(st.lists(st.sampled_from(sorted(payload) + ["extra"]), max_size=3)):
        payload[name] = data.draw(JSON)
    for part in ("ups", "pcs"):   # inside a nested message and a list of them
        if isinstance(payload.get(part), list) and payload[part] and isinstance(payload[part][0], dict):
            for name in data.draw(st.lists(st.sampled_from(["name", "id", "reachable", "online",
                                                            "charge_pct", "extra"]), max_size=2)):
                payload[part][0][name] = data.draw(JSON)
    fast, generic = outcome(messages.from_dict, cls, payload), outcome(reference_from_dict, cls, payload)
    assert fast == generic
    if not isinstance(fast, str):
        assert to_dict(fast) == unknown_for_non_finite(dataclasses.asdict(fast))


def unknown_for_non_finite(value):
    """What the contract writes for a NaN or infinity a free-form ``detail`` carried: null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [unknown_for_non_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: unknown_for_non_finite(v) for k, v in value.items()}
    return value


ODD = [None, True, False, 0, -1, 1.5, 2**60, "", "x", "x" * 5000, [], [1], ["a"], [{}], {}, {"a": 1}]


def test_every_field_with_every_odd_value_reads_as_the_generic_reading_did():
    """The same comparison, exhaustively: each field of each message (and of the state's nested
    parts) set to each of a few odd values."""
    compared = 0
    for cls, valid in VALID.items():
        paths = [(name,) for name in valid] + [
            (part, *rest) for part in ("power", "indicator", "outage") if part in valid
            for rest in [(name,) for name in valid[part]]] + [
            (part, 0, name) for part in ("ups", "pcs") if part in valid for name in valid[part][0]]
        for path in paths + [("extra",)]:
            for odd in ODD:
                payload = json.loads(json.dumps(valid))
                where = payload
                for step in path[:-1]:
                    where = where[step]
                where[path[-1]] = odd
                fast = outcome(messages.from_dict, cls, payload)
                assert fast == outcome(reference_from_dict, cls, payload), (cls.__name__, path, odd)
                if not isinstance(fast, str):
                    assert to_dict(fast) == dataclasses.asdict(fast)
                compared += 1
    assert compared > 700


@given(value=JSON, key=st.none() | st.just(b"k" * 32))
def test_the_agents_verdict_never_raises(value, key):
    verdict = judge(json.dumps(value).encode(), 1000.0, set(), key or b"")
    assert not verdict.act or (verdict.command.kind in PC_COMMAND_KINDS and not key)


TOPIC_WORDS = st.sampled_from(["siaga", "bappeda-rr1", "other", "edge", "pc", "meeting-pc",
                               "command", "status", "ack", "availability", "state", "+", "#", ""])


@given(words=st.lists(TOPIC_WORDS | st.text(max_size=8), min_size=0, max_size=6),
       payload=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()),
       retained=st.booleans(), pcs=st.none() | st.just(frozenset({"meeting-pc"})))
def test_any_mqtt_message_is_decoded_ignored_or_refused(words, payload, retained, pcs):
    try:
        incoming = decode_incoming(Topics("siaga", "bappeda-rr1"), "/".join(words), payload,
                                   retained, pcs)
    except BadMessage as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    if incoming is not None:
        assert incoming.what in ("status", "availability", "ack", "command")
        assert pcs is None or incoming.what == "command" or incoming.pc in pcs


NUT_VALUES = st.sampled_from(["OL", "OB", "LB", "OB LB", "OL CHRG", "WAIT", "  OB  DISCHRG ",
                              "FSD", "RB", "100", "-1", "65535", "nan", "inf", "1e999", "", " ",
                              "OBX", "xOB", "ob"]) | st.text(max_size=20)
NUT_ANSWERS = st.dictionaries(
    st.sampled_from(["ups.status", "battery.charge", "battery.runtime", "ups.load",
                     "input.voltage", "battery.date", "ups.test.result"]) | st.text(max_size=15),
    NUT_VALUES, max_size=8)


@given(variables=NUT_ANSWERS, powers_pc=st.booleans())
def test_any_nut_answer_gives_a_reading_and_on_battery_only_from_an_ob_word(variables, powers_pc):
    reading = parse_reading("meeting", variables, 1000.0, powers_pc)
    words = variables.get("ups.status", "").split()
    assert reading.on_battery == ("OB" in words and "WAIT" not in words)
    assert not (reading.error and (reading.on_battery or reading.low_battery))
    assert reading.charge_pct is None or 0 <= reading.charge_pct <= 100
    assert reading.runtime_s is None or 0 <= reading.runtime_s <= 24 * 3600


@given(content=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode())
       | st.fixed_dictionaries({"v": JSON, "handled": JSON, "shutdown": JSON})
       .map(lambda v: json.dumps(v).encode()))
def test_any_agent_state_file_loads_and_the_agent_goes_on(tmp_path_factory, content):
    path = Path(tmp_path_factory.mktemp("state")) / "agent-state.json"
    path.write_bytes(content)
    ids = HandledIds(path)
    assert ids.shutdown is None or isinstance(ids.shutdown, dict)
    ids.add("new-command", 2000.0, now=1000.0)
    assert "new-command" in ids and "new-command" in HandledIds(path)
