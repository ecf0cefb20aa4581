"""`siaga check` and the alerts: per URL, does it parse and does a test alert arrive (real HTTP
receiver on 127.0.0.1); never a URL on the screen."""

from __future__ import annotations

import re

from siaga.servers import free_port
from tests.alert_receiver import Receiver
from tests.check_support import check, write_config


def test_check_says_per_url_whether_it_parses_and_a_test_alert_arrived(tmp_path):
    receiver = Receiver(free_port()).start()
    dead = Receiver(free_port())                      # nothing listens there
    try:
        (tmp_path / "alerts.urls").write_text(
            f"# IT\n{receiver.url}\n{dead.url}\ntgram://SECRET-TOKEN\n")
        path = write_config(tmp_path, free_port(), free_port(),
                            gpio='\n[alerts]\nurls_file = "alerts.urls"\nlanguage = "en"')
        done = check(path)
        alerts = [line for line in done.stdout.splitlines() if line[6:14].strip() == "alerts"]
        assert alerts[0] == ("ok    alerts  alerts.urls line 2  JSON URL parses; test alert sent")
        assert alerts[1] == ("FAIL  alerts  alerts.urls line 3  JSON URL parses; test alert not "
                             "sent: A Connection error occurred sending JSON notification to "
                             "127.0.0.1.")
        assert alerts[2] == ('FAIL  alerts  alerts.urls line 4  not an Apprise URL Siaga can use '
                             '(scheme "tgram" unknown or URL incomplete)')
        assert done.returncode == 1 and "SECRET" not in done.stdout + done.stderr
        [message] = receiver.messages()
        assert message["title"] == "Siaga bappeda-rr1: Test alert from the Siaga dashboard"
        assert re.search(r"^When: \d\d:\d\d WIB\.$", message["message"], re.M)   # Asia/Jakarta
        assert message["type"] == "info"
    finally:
        receiver.stop()


def test_check_fails_an_unreadable_url_file(tmp_path):
    path = write_config(tmp_path, free_port(), free_port(),
                        gpio='\n[alerts]\nurls_file = "missing.urls"')
    done = check(path)
    assert f"FAIL  alerts  {tmp_path / 'missing.urls'}  cannot read: No such file or directory" \
        in done.stdout
