"""judge (pure) and the handled-id memory of the agent."""

from __future__ import annotations

import json
import threading

import pytest

from agent.commands import MAX_REMEMBERED, REMEMBER_AFTER_EXPIRY_S, HandledIds, judge
from agent.main import state_path
from protocol.config import load_agent_config

NOW = 1_764_270_010.0


def cmd(**fields) -> bytes:
    base = {"v": 1, "id": "c1", "ts": NOW - 2, "expires": NOW + 118, "kind": "notice"}
    return json.dumps({**base, **fields}).encode()


@pytest.mark.parametrize("raw, handled, act, ack_ok, ack_detail, reason", [
    (cmd(), set(), True, True, "", ""),
    (cmd(kind="shutdown", grace_s=30), set(), True, True, "", ""),
    (cmd(extra_field="ignored", future={"x": 1}), set(), True, True, "", ""),
    (cmd(), {"c1"}, False, True, "already handled", "already handled"),
    (cmd(expires=NOW - 1), set(), False, False, "expired", "expired 1 s ago"),
    (cmd(expires=NOW - 1), {"c1"}, False, True, "already handled", "already handled"),
    (cmd(ts=NOW - 7200, expires=NOW - 7080), set(), False, False, "expired", "do the clocks differ"),
    (cmd(kind="reboot"), set(), False, False, 'rejected: kind: unknown "reboot"', "malformed"),
    (cmd(grace_s="30"), set(), False, False, "rejected: grace_s: expected int", "malformed"),
    (cmd(grace_s=True), set(), False, False, "rejected: grace_s: expected int", "malformed"),
    (cmd(runtime_s=1.5), set(), False, False, "rejected: runtime_s: expected int", "malformed"),
    (cmd(id=""), set(), False, None, None, "id must have 1 to"),
    (cmd(id="x" * 201), set(), False, None, None, "id must have 1 to"),
    (cmd(id=7), set(), False, None, None, "id: expected str"),
    (b"{", set(), False, None, None, "not JSON"),
    (b"[" * 50000, set(), False, None, None, "JSON nested too deeply"),
    (b'"just a string"', set(), False, None, None, "expected an object"),
    (b"x" * 70000, set(), False, None, None, "over 65536"),
])
def test_judge(raw, handled, act, ack_ok, ack_detail, reason):
    verdict = judge(raw, NOW, handled)
    assert verdict.act is act
    if ack_ok is None:
        assert verdict.ack is None
    else:
        assert verdict.ack.ok is ack_ok and verdict.ack.detail.startswith(ack_detail)
        assert verdict.ack.ts == NOW
    assert reason in verdict.reason


def test_handled_ids_persist_and_are_forgotten_long_after_expiry(tmp_path):
    path = tmp_path / "agent-state.json"
    ids = HandledIds(path)
    ids.add("old", expires=NOW, now=NOW)
    ids.add("new", expires=NOW + 120, now=NOW + 10)
    again = HandledIds(path)
    assert "old" in again and "new" in again
    later = NOW + 120 + REMEMBER_AFTER_EXPIRY_S + 1
    again.add("newest", expires=later + 120, now=later)
    assert "old" not in HandledIds(path) and "newest" in HandledIds(path)


def test_handled_ids_are_bounded(tmp_path):
    ids = HandledIds(tmp_path / "s.json")
    for i in range(MAX_REMEMBERED + 50):
        ids._ids[f"id{i}"] = NOW + i        # fill without a file write per id
    ids.add("last", expires=NOW + 10 ** 6, now=NOW)
    assert len(ids) == MAX_REMEMBERED and "last" in ids and "id0" not in ids


@pytest.mark.parametrize("content", ["not json", '{"handled": [1, 2]}', '{"v": 1}', "[]", ""])
def test_a_damaged_state_file_starts_empty_and_is_rewritten(tmp_path, content, caplog):
    path = tmp_path / "agent-state.json"
    path.write_text(content)
    ids = HandledIds(path)
    assert len(ids) == 0
    ids.add("a", expires=NOW, now=NOW)
    assert "a" in HandledIds(path)


def test_an_unwritable_state_file_keeps_ids_in_memory(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    ids = HandledIds(blocker / "agent-state.json")     # its folder is a file: cannot be written
    ids.add("a", expires=NOW, now=NOW)
    ids.add("b", expires=NOW, now=NOW)
    assert "a" in ids and "b" in ids
    assert len([r for r in caplog.records if "cannot write the state file" in r.message]) == 1


@pytest.mark.parametrize("state_file, expected", [
    ("", "agent-state.json"),
    ("state/handled.json", "state/handled.json"),
])
def test_state_path_is_next_to_the_config_by_default(tmp_path, state_file, expected):
    path = tmp_path / "agent.toml"
    extra = f'state_file = "{state_file}"\n' if state_file else ""
    path.write_text(f'[site]\nid = "s1"\n[agent]\npc_id = "pc1"\n{extra}')
    assert state_path(load_agent_config(path)) == tmp_path / expected


def test_an_absolute_state_file_is_used_as_is(tmp_path):
    path = tmp_path / "agent.toml"
    target = tmp_path / "elsewhere" / "ids.json"
    path.write_text(f'[site]\nid = "s1"\n[agent]\npc_id = "pc1"\nstate_file = "{target}"\n')
    assert state_path(load_agent_config(path)) == target


def test_saves_from_several_threads_do_not_clash(tmp_path, caplog):
    # The action worker, the shutdown thread and stop() all save through one .tmp file.
    ids = HandledIds(tmp_path / "agent-state.json")
    ids.add("a", expires=NOW, now=NOW)

    def save_often(n: int) -> None:
        for i in range(200):
            if n:
                ids.set_shutdown({"id": f"{n}-{i}"})
            else:
                ids.save()

    threads = [threading.Thread(target=save_often, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "cannot write the state file" not in caplog.text
    assert HandledIds(tmp_path / "agent-state.json").shutdown == {"id": "1-199"}
