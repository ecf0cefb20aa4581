"""An edge whose wall clock is an hour behind the PC's (a Pi before NTP, or stepped back): the
real agent on a real broker still obeys its commands, because the broker's MQTT v5 message
expiry, not the edge's clock, says whether a command is still alive. Found by the fault matrix
(clock_back_1h): the PC refused the cancel as expired, so a shutdown waiting out its grace when
the power came back would have shut the PC down on mains."""

from __future__ import annotations

import json
import time

from tests.agent_helpers import marker_argv

HOUR = 3600.0


def test_a_shutdown_then_cancel_from_an_edge_an_hour_behind_is_obeyed(tmp_path, pc_client,
                                                                      start_agent):
    marker = tmp_path / "shutdown.marker"
    start_agent(shutdown_command=marker_argv(marker), shutdown_grace_s=3)
    behind = time.time() - HOUR
    shutdown = pc_client.command("shutdown", grace_s=3)
    shutdown.update(ts=behind, expires=behind + 120)
    pc_client.send_raw(json.dumps(shutdown).encode())          # with the broker's 120 s expiry
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == shutdown["id"], timeout=5)
    assert ack["ok"], ack
    cancel = pc_client.command("cancel")
    cancel.update(ts=behind + 1, expires=behind + 121)
    pc_client.send_raw(json.dumps(cancel).encode())
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cancel["id"], timeout=5)
    assert ack["ok"], ack
    time.sleep(4)  # past the grace
    assert not marker.exists(), "the PC shut down although the power came back"


def test_without_the_brokers_expiry_the_commands_own_expiry_still_counts(tmp_path, pc_client,
                                                                         start_agent):
    start_agent()
    stale = pc_client.command("notice")
    stale.update(ts=time.time() - HOUR, expires=time.time() - HOUR + 120)
    topic = f"{pc_client.base}/command"
    pc_client.link.client.publish(topic, json.dumps(stale), qos=1).wait_for_publish(5)
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == stale["id"], timeout=5)
    assert not ack["ok"] and ack["detail"] == "expired"
