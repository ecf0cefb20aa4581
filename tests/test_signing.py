"""Signed PC commands (CONTRACT §5.9): the signature, the agent's verdict, the key files."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.commands import judge
from protocol.config import ConfigError, load_agent_config, load_config
from protocol.messages import PC_COMMAND_KINDS, PcCommand
from protocol.signing import command_payload, why_not_signed
from tests import hypothesis_profiles  # noqa: F401 - bounded examples here, more in make reliability

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = 1764270000.0


def command(kind: str = "shutdown", **fields) -> PcCommand:
    return PcCommand(**{"id": "c1", "ts": NOW, "expires": NOW + 120, "kind": kind, "lang": "id",
                        "title": "Listrik padam", "text": "PC dimatikan", **fields})


def test_the_signature_is_the_contracts_hmac_of_the_sorted_compact_json():
    data = json.loads(command_payload(command(text="Rapat ditunda — maaf"), KEY))
    body = {k: v for k, v in data.items() if k != "sig"}
    expected = hmac.new(KEY, json.dumps(body, sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False).encode("utf-8"), hashlib.sha256)
    assert data["sig"] == expected.hexdigest() and data["sig"] == data["sig"].lower()


def test_without_a_key_the_payload_has_no_sig_at_all():
    assert "sig" not in json.loads(command_payload(command(), None))


def test_agent_with_a_key_acts_on_a_command_signed_with_it():
    verdict = judge(command_payload(command(), KEY), NOW, set(), KEY)
    assert verdict.act and verdict.ack.ok


@pytest.mark.parametrize("payload, why", [
    (command_payload(command(), None), "refused: not signed"),
    (command_payload(command(), OTHER_KEY), "refused: bad signature"),
    (command_payload(command("cancel"), OTHER_KEY), "refused: bad signature"),
    (json.dumps({**json.loads(command_payload(command(), KEY)), "sig": 7}).encode(),
     "rejected: sig: expected str"),
])
def test_agent_with_a_key_refuses_unsigned_or_badly_signed_commands(payload, why):
    verdict = judge(payload, NOW, set(), KEY)
    assert not verdict.act
    assert verdict.ack.ok is False and verdict.ack.detail.startswith(why)
    assert verdict.ack.id == "c1"


def test_agent_without_a_key_still_acts_on_unsigned_commands():
    assert judge(command_payload(command(), None), NOW, set()).act


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5)

COMMANDS = st.builds(
    PcCommand, id=st.text(min_size=1, max_size=40), ts=st.floats(0, 2e9), expires=st.floats(0, 2e9),
    kind=st.sampled_from(PC_COMMAND_KINDS), lang=st.sampled_from(["id", "en"]),
    title=st.text(max_size=40), text=st.text(max_size=80), chat_text=st.text(max_size=80),
    runtime_s=st.none() | st.integers(0, 86400), grace_s=st.integers(0, 3600))


@given(cmd=COMMANDS, data=st.data())
def test_any_change_to_any_field_breaks_the_signature(cmd, data):
    signed = json.loads(command_payload(cmd, KEY))
    assert why_not_signed(signed, KEY) is None
    name = data.draw(st.sampled_from(sorted(k for k in signed if k != "sig")), label="field")
    value = data.draw(JSON_VALUES.filter(lambda v: json.dumps(v) != json.dumps(signed[name])),
                      label="new value")
    assert why_not_signed({**signed, name: value}, KEY) is not None
    extra = data.draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in signed))
    assert why_not_signed({**signed, extra: value}, KEY) is not None   # an added field too
    assert why_not_signed({k: v for k, v in signed.items() if k != name}, KEY) is not None


def write_edge_config(directory: Path, keys_dir: str) -> Path:
    path = directory / "siaga.toml"
    path.write_text(f'[site]\nid = "bappeda-rr1"\n[[ups]]\nname = "meeting"\n'
                    f'[edge]\npcs = ["meeting-pc", "other-pc"]\nkeys_dir = "{keys_dir}"\n')
    return path


def test_edge_reads_the_key_of_each_pc_that_has_one(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "meeting-pc.key").write_text("a" * 40 + "\nsecond line ignored\n")
    config = load_config(write_edge_config(tmp_path, "keys"))
    assert dict(config.edge.command_keys) == {"meeting-pc": b"a" * 40}
    assert "aaaa" not in repr(config)


@pytest.mark.parametrize("key_text, problem", [
    ("short-key\n", "must have at least 32 characters, it has 9"),
    ("", "must have at least 32 characters, it has 0"),
    (b"\xff\xfe" * 20, "cannot read"),
])
def test_edge_refuses_a_short_or_unreadable_key_naming_the_file_not_the_key(tmp_path, key_text, problem):
    (tmp_path / "keys").mkdir()
    key_file = tmp_path / "keys" / "other-pc.key"
    key_file.write_bytes(key_text if isinstance(key_text, bytes) else key_text.encode())
    with pytest.raises(ConfigError) as info:
        load_config(write_edge_config(tmp_path, "keys"))
    message = str(info.value)
    assert message.startswith(f"siaga.toml: edge.keys_dir: {key_file}: ") and problem in message
    assert "short-key" not in message and len(message.splitlines()) == 1


def test_edge_refuses_a_keys_dir_that_does_not_exist(tmp_path):
    with pytest.raises(ConfigError, match=r"edge.keys_dir: .*nokeys: no such folder"):
        load_config(write_edge_config(tmp_path, "nokeys"))


def test_agent_reads_its_key_and_refuses_a_missing_key_file(tmp_path):
    base = '[site]\nid = "bappeda-rr1"\n[agent]\npc_id = "meeting-pc"\ncommand_key_file = "pc.key"\n'
    path = tmp_path / "agent.toml"
    path.write_text(base)
    with pytest.raises(ConfigError, match=r"agent.toml: agent.command_key_file: .*pc.key: no such file"):
        load_agent_config(path)
    (tmp_path / "pc.key").write_text("x" * 32 + "\n")
    assert load_agent_config(path).agent.command_key == b"x" * 32
