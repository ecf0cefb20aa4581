"""The agent with [agent.obs] configured, against a real OBS Studio under Xvfb:

  - idle CPU (% of one core) and RSS over 60 s, telemetry every 5 s (the agent talks to OBS
    only on a wrap-up, so this should match bench/agent_idle.py),
  - the wrap-up of a 1-minute recording: from the wrapup command to the ack naming the saved
    file, and the file's size and duration (ffprobe),
  - the agent's RSS after that wrap-up (websockets and msgpack are imported on the first one).

    .venv/bin/python bench/agent_obs.py [--seconds 60] [--record-seconds 60]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from agent_idle import BASE, Edge, measure_idle, stop_agent, write_config  # noqa: E402
from siaga.servers import Mosquitto  # noqa: E402
from tests.obs_studio import ObsStudio  # noqa: E402


def add_obs_table(config: Path, obs: ObsStudio) -> None:
    """Append [agent.obs] for this OBS to the agent's config."""
    (config.parent / "obs.password").write_text(obs.password + "\n")
    with config.open("a") as f:
        f.write(f'\n[agent.obs]\nport = {obs.port}\npassword_file = "obs.password"\n')


def wrapup(edge: Edge, timeout: float = 120) -> tuple[float, dict]:
    """Send a wrapup command; (seconds to its ack, the ack)."""
    acks: dict[str, dict] = {}
    cid = uuid.uuid4().hex
    now = time.time()
    cmd = {"v": 1, "id": cid, "ts": now, "expires": now + 120, "kind": "wrapup"}
    original = edge.on_message

    def keep(topic: str, payload: bytes, retained: bool) -> None:
        if topic.endswith("/ack"):
            acks.setdefault(json.loads(payload)["id"], json.loads(payload))
        original(topic, payload, retained)

    edge.link.on_message = keep
    sent = time.perf_counter()
    edge.link.publish(f"{BASE}/command", json.dumps(cmd), expiry_s=120)
    with edge.cond:
        if not edge.cond.wait_for(lambda: cid in edge.acks, timeout=timeout):
            raise TimeoutError(f"no wrap-up ack within {timeout} s")
        took = edge.acks[cid] - sent
    return took, acks.get(cid, {})


def duration_s(path: str) -> str:
    """ffprobe's duration of the file, or why it cannot say."""
    if not shutil.which("ffprobe"):
        return "? (no ffprobe; apt install ffmpeg)"
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                           "csv=p=0", path], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or done.stderr.strip()


def main() -> int:
    """Run the benchmark and print its figures."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--seconds", type=float, default=60)
    args.add_argument("--record-seconds", type=float, default=60)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="siaga-agent-obs-bench-") as tmp:
        directory = Path(tmp)
        broker = Mosquitto(directory / "mosquitto").start()
        obs = ObsStudio(directory / "obs")
        edge = agent = None
        try:
            obs.start()
            edge = Edge(broker.port)
            config = write_config(directory, broker.port)
            add_obs_table(config, obs)
            with open(directory / "agent.log", "wb") as log:
                agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c",
                                          str(config)], cwd=ROOT, stdout=log,
                                         stderr=subprocess.STDOUT)
            with edge.cond:
                if not edge.cond.wait_for(lambda: edge.statuses, timeout=20):
                    raise TimeoutError("the agent sent no status; see its log")
            time.sleep(2)
            process = psutil.Process(agent.pid)
            cpu_pct, rss, peak = measure_idle(process, opts.seconds)
            print(f"agent idle with [agent.obs] over {opts.seconds:.0f} s, telemetry every 5 s: "
                  f"CPU {cpu_pct:.2f} % of one core (target <= 0.5 %), RSS {rss:.1f} MB, "
                  f"peak {peak:.1f} MB (target <= 40 MB)")
            obs.start_recording()
            time.sleep(opts.record_seconds)
            took, ack = wrapup(edge)
            detail = ack.get("detail", "")
            path = detail[len("saved "):].rsplit(", ", 1)[0] if detail.startswith("saved ") else ""
            print(f"wrap-up of a {opts.record_seconds:.0f} s OBS recording (320x240, 15 fps, x264 "
                  f"in mkv): command -> ack {took * 1000:.0f} ms; ok={ack.get('ok')}, "
                  f"detail: {detail}; ffprobe duration {duration_s(path) if path else '-'} s")
            time.sleep(2)
            print(f"agent RSS after its first OBS wrap-up: {process.memory_info().rss / 2 ** 20:.1f} MB")
        finally:
            stop_agent(agent, edge)
            obs.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
