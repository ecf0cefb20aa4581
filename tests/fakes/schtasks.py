"""A stand-in for Windows' schtasks.exe, for tests/test_agent_wininstall.py (Linux has none).

Keeps the registered tasks in $SIAGA_FAKE_SCHTASKS/tasks.json and every call in calls.jsonl.
/Create refuses what schtasks refuses too: a file without UTF-16's byte order mark, XML that
does not parse, a second task of the same name without /F.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

STATE = Path(os.environ["SIAGA_FAKE_SCHTASKS"])


def option(args: list[str], name: str) -> str | None:
    upper = [a.upper() for a in args]
    return args[upper.index(name) + 1] if name in upper else None


def main(args: list[str]) -> int:
    with open(STATE / "calls.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(args) + "\n")
    store = STATE / "tasks.json"
    tasks = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    verb, name = args[0].upper(), option(args, "/TN")
    if verb == "/CREATE":
        raw = Path(option(args, "/XML")).read_bytes()
        if not raw.startswith(b"\xff\xfe"):
            print("ERROR: The task XML is not in UTF-16 (no byte order mark).", file=sys.stderr)
            return 1
        try:
            ET.fromstring(raw.decode("utf-16").split("?>", 1)[1])
        except ET.ParseError as exc:
            print(f"ERROR: The task XML is malformed. {exc}", file=sys.stderr)
            return 1
        if name in tasks and "/F" not in [a.upper() for a in args]:
            print("ERROR: Cannot create a file when that file already exists.", file=sys.stderr)
            return 1
        tasks[name] = raw.decode("utf-16")
    elif verb in ("/DELETE", "/RUN", "/END", "/QUERY"):
        if name not in tasks:
            print("ERROR: The system cannot find the file specified.", file=sys.stderr)
            return 1
        if verb == "/DELETE":
            del tasks[name]
    else:
        print(f"ERROR: Invalid argument/option - '{args[0]}'.", file=sys.stderr)
        return 1
    store.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f'SUCCESS: The scheduled task "{name}" has been {verb[1:].lower()}d.')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
