"""free_port: the ports our test and demo servers listen on."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from siaga.servers import free_port

EPHEMERAL_LOW = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_a_free_port_is_never_one_an_outgoing_connection_could_be_given():
    """CI failed once with "cannot listen on 127.0.0.1:39625: Address already in use": a
    dashboard restarted on its port after SIGKILL found the port taken, by a connection the
    kernel had given that ephemeral port meanwhile. Our ports now come from below that range."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        clients = [socket.create_connection(server.getsockname()) for _ in range(50)]
        try:
            taken = {c.getsockname()[1] for c in clients}
            assert all(port >= EPHEMERAL_LOW for port in taken)     # what the kernel hands out
            ports = [free_port() for _ in range(50)]
            assert all(port < EPHEMERAL_LOW for port in ports)
            assert not taken & set(ports)
        finally:
            for c in clients:
                c.close()


def test_a_port_is_handed_out_once_and_workers_pick_from_their_own_ports():
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)

    def picks(worker: str) -> set[int]:
        code = "from siaga.servers import free_port; print(*[free_port() for _ in range(200)])"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTEST_XDIST_WORKER": worker}, check=True)
        return {int(p) for p in out.stdout.split()}

    # Slices no worker of make test (-n 8) uses: the picks' brief binds disturb nobody.
    assert not picks("gw13") & picks("gw14")


def test_a_process_that_used_every_port_of_its_slice_still_gets_one_outside_the_range():
    """A long run (a soak, a big bench) may ask for more ports than its slice has: the ports
    handed out long ago are offered again (if free) rather than an ephemeral one."""
    code = ("from siaga.servers import free_port, _port_slice\n"
            "n = len(_port_slice())\n"
            "print(n, max(free_port() for _ in range(n + 50)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTEST_XDIST_WORKER": "gw15"}, check=True)
    n, highest = (int(x) for x in out.stdout.split())
    assert n > 1000 and highest < EPHEMERAL_LOW
