"""What the room says of a PC's meeting once the PC has gone: a real edge, broker and agent.

A PC whose agent dies mid-meeting is journaled offline and its meeting ended; the room's state
(what the dashboard's PC table and Home Assistant show) must not go on saying it is in a
meeting, nor converting, from the last status it sent before it went.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys

from siaga.servers import stop_process
from tests.agent_helpers import PC, SITE, busy_program, fake_program, write_agent_config
from tests.edge_support import write_config
from tests.observer import Observer


def test_a_pc_gone_mid_meeting_is_no_longer_in_a_meeting(tmp_path, upsd, broker, mock_factory,
                                                          edge_in_process):
    watch = Observer(broker.port, f"siaga/{SITE}/edge/#")
    tag = random.randrange(1000, 9999)   # names of our own: other tests may run a "Zoom"
    zoom, coder = f"Zoom{tag}", f"zTscoder{tag}"
    edge_in_process(write_config(tmp_path, upsd, broker, site=SITE))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    config = write_agent_config(agent_dir, broker.port, meeting_apps=[zoom],
                                converter_processes=[coder], interval_s=1)
    programs = [fake_program(agent_dir, zoom), busy_program(agent_dir, coder)]
    with open(agent_dir / "agent.log", "wb") as log:
        # No audio server: the running client is the meeting (by process).
        no_audio = {**os.environ, "PULSE_SERVER": f"unix:{agent_dir}/no-pulse"}
        agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                 env=no_audio, stdout=subprocess.DEVNULL, stderr=log)
    try:
        def pc() -> dict:
            return next(p for p in (watch.state() or {"pcs": [{"id": PC}]})["pcs"] if p["id"] == PC)

        watch.wait(lambda: pc().get("meeting_app") and pc().get("converting"), 20,
                   "the PC in a meeting, converting")
        agent.kill()   # its last will says offline
        watch.wait(lambda: "meeting_ended" in watch.event_kinds(), 10, "meeting_ended")
        watch.wait(lambda: pc()["online"] is False, 5, "the PC offline in the state")
        gone = pc()
        assert (gone["online"], gone["meeting_app"], gone["meeting"], gone["converting"]) == \
            (False, False, None, False), gone
    finally:
        for proc in programs:
            stop_process(proc)
        stop_process(agent)
        watch.close()
        print((agent_dir / "agent.log").read_text(errors="replace")[-2000:])
