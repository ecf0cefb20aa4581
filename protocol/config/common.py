"""[site] and [mqtt]: the sections both the Pi's siaga.toml and the PC's agent.toml have."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from .declare import derived, host, identifier, key, section, time_zone, topic_prefix
from .reader import Reader

logger = logging.getLogger(__name__)


@section("site")
@dataclass(frozen=True)
class SiteConfig:
    """[site]"""

    id: str = key("", "The room's id: part of every MQTT topic (siaga/<id>/...).", check=identifier,
                  required=True, note="Lower-case letters, digits and dashes; keep it "
                  "short and never reuse one for another room.")
    name: str = key("", "The room's name, shown on the dashboard and in notices.")
    language: str = key("id", 'Language of notices and pages: "id" (Bahasa Indonesia) or "en".',
                        choices=("id", "en"))
    timezone: str = key("Asia/Jakarta", "Time zone for times shown to people (notices, reports).",
                        check=time_zone, note="Asia/Jakarta (WIB), Asia/Makassar (WITA) or "
                        "Asia/Jayapura (WIT).")
    calendar: str = key("", "The room's bookings: an iCalendar (ICS) URL or file; \"\" = no schedule.",
                        note="Google Calendar, Outlook and Nextcloud each export one. A file is "
                        "relative to this file. Read by the Pi only.")
    calendar_refresh_s: float = key(300, "Seconds between two reads of the calendar.", low=30,
                                    high=86400)
    contact: str = key("", "Whom staff call about this room (printed on the SOP).")


@section("mqtt")
@dataclass(frozen=True)
class MqttConfig:
    """[mqtt]; ``password`` is read from ``password_file``."""

    host: str = key("127.0.0.1", "The room's broker: mosquitto on the Pi.", check=host)
    port: int = key(1883, "The broker's port (8883 for TLS).", low=1, high=65535)
    username: str = key("", 'Login on the broker. "" = no login.')
    password_file: str = key("", 'File holding the password (first line), relative to this '
                             'file. "" = no password.')
    tls: bool = key(False, "true = TLS to the broker (then port 8883 and a listener with "
                    "certificates).")
    # the CA that signed the broker's certificate ("" = the system's)
    ca_file: str = key("", 'With tls: the CA that signed the broker\'s certificate, relative to '
                       'this file. "" = the system\'s CAs.',
                       note="See docs/security.md; `siaga check` warns 30 days before it expires.")
    topic_prefix: str = key("siaga", "First level of every topic.", check=topic_prefix,
                            note='Change it only if a central broker already uses "siaga".')
    keepalive_s: int = key(30, "Seconds between MQTT keep-alive pings; a dead connection is "
                           "noticed after 1.5x this.", low=5, high=3600)
    password: str = derived()


def read_common(r: Reader, read_files: bool = True) -> tuple[SiteConfig, MqttConfig]:
    """[site] and [mqtt], with the password and CA files read unless ``read_files`` is False."""
    site = r.section(SiteConfig)
    r.required("site.id", site.id)
    mqtt = r.section(MqttConfig)
    if read_files:
        mqtt = dataclasses.replace(mqtt, password=r.secret("mqtt.password_file", mqtt.password_file),
                                   ca_file=r.ca_file("mqtt.ca_file", mqtt.ca_file))
    if read_files and mqtt.ca_file and not mqtt.tls:
        logger.warning("%s: mqtt.ca_file is set but mqtt.tls is false: it is not used", r.path.name)
    return site, mqtt
