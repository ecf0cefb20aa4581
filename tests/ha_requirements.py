"""Run by Home Assistant's own Python: the requirements (as its manifests pin them) of the given
integrations and everything they depend on, one line. HA installs these when it first loads an
integration; the tests start it with --skip-pip, so make ha installs them beforehand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import homeassistant.components


def requirements(domains: list[str]) -> list[str]:
    """The pinned requirements of ``domains`` and of their dependencies, sorted."""
    base = Path(homeassistant.components.__file__).parent
    todo, seen, found = list(domains), set(), set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = json.loads((base / domain / "manifest.json").read_text())
        found.update(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
    return sorted(found)


if __name__ == "__main__":
    print(" ".join(requirements(sys.argv[1:])))
