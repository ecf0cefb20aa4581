"""The wrap-up for OBS Studio: stop its recording (and stream) and wait until the file is written.

Spoken through obs-websocket v5 (built into OBS Studio since 28) with simpleobsws (MIT; the
other v5 clients are GPL-3.0 or unreleased since 2023). ``StopRecord`` answers at once, before
the muxer has closed the file, so the file counts as saved only when OBS says so: the
``RecordStateChanged`` event with ``OBS_WEBSOCKET_OUTPUT_STOPPED``. ``stop_recording`` never
raises; every failure (OBS not running, a wrong password, no answer in time) comes back as a
reason in words for the wrap-up ack.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import psutil
import simpleobsws

from agent.captures import normalize
from protocol.config import ObsConfig
from protocol.messages import AckCode
from protocol.texts import ack_sentence, size_parts

logger = logging.getLogger(__name__)

OUTPUT_STOPPED = "OBS_WEBSOCKET_OUTPUT_STOPPED"
SUBSCRIBE_OUTPUTS = 1 << 6        # obs-websocket EventSubscription.Outputs: record/stream state
CLOSE_AUTH_FAILED = 4009          # obs-websocket WebSocketCloseCode.AuthenticationFailed
CLOSE_WAIT_S = 2.0                # a frozen OBS never answers the closing handshake: do not wait
# What OBS Studio runs as (Windows 64/32-bit, Linux and its Flatpak, macOS), normalized; and the
# hosts that are this PC, where a missing OBS process means nothing records.
OBS_PROCESSES = frozenset({"obs64", "obs32", "obs", "obs-studio"})
THIS_PC = frozenset({"127.0.0.1", "localhost", "::1"})

# Why OBS could not save: the ack's code (its sentence is in protocol/texts.py ACK_TEXTS).
CODES: dict[str, AckCode] = {
    "not_running": AckCode.OBS_UNREACHABLE, "not_websocket": AckCode.OBS_NOT_WEBSOCKET,
    "password": AckCode.OBS_PASSWORD, "no_answer": AckCode.OBS_NO_ANSWER,
    "timeout": AckCode.OBS_TIMEOUT, "refused": AckCode.OBS_REFUSED,
    "not_recording": AckCode.OBS_NOT_RECORDING,
}


class ObsFailed(Exception):
    """OBS could not stop and save the recording; ``key`` and ``values`` name the reason."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values


@dataclass(frozen=True)
class ObsResult:
    """How the wrap-up went: ``detail`` is the ack's one line, ``code`` and ``args`` the same
    for the dashboard to write in its own language."""

    ok: bool
    detail: str
    path: str = ""
    size: int | None = None
    stream_stopped: bool = field(default=False, compare=False)
    code: str = ""
    args: dict[str, Any] = field(default_factory=dict, compare=False)


def format_size(size: int) -> str:
    """'1.2 GB', '850 MB', '12 KB': decimal units, one decimal place below 10."""
    value, digits, unit = size_parts(size)
    return f"{size} B" if unit == "B" else f"{value:.{digits}f} {unit}"


def saved_detail(path: str, size: int | None) -> str:
    """The ack's detail for a saved recording (CONTRACT §5.4): 'saved <path>, <size>'."""
    return f"saved {path}, {format_size(size)}" if size is not None else f"saved {path}"


def reason(language: str, key: str, **values: Any) -> str:
    """One failure reason in the agent's language ("id" unless "en")."""
    return ack_sentence(CODES[key], language, **values) or key


def failure(language: str, key: str, **values: Any) -> ObsResult:
    """The result of a wrap-up that did not save: the reason in words, and as a code."""
    args = {k: str(v) for k, v in values.items() if k != "streamed"}
    return ObsResult(ok=key == "not_recording", detail=reason(language, key, **args),
                     stream_stopped=bool(values.get("streamed")), code=CODES[key], args=args)


def stop_recording(config: ObsConfig, language: str = "id") -> ObsResult:
    """Stop OBS's recording (and stream), wait for the file; never raises."""
    try:
        path, streamed = asyncio.run(asyncio.wait_for(_stop(config), config.timeout_s + 5))
    except ObsFailed as exc:
        if exc.key == "not_running" and config.host.lower() in THIS_PC and not obs_runs():
            # No OBS on this PC: nothing records, so there was no recording to stop (a PC with
            # no meeting at the cut); "the recording was not stopped" would be untrue.
            exc = ObsFailed("not_recording", streamed=False)
        result = failure(language, exc.key, **exc.values)
        logger.log(logging.INFO if result.ok else logging.ERROR, "OBS wrap-up: %s", result.detail)
        return result
    except TimeoutError:
        result = failure(language, "timeout", seconds=f"{config.timeout_s:g}")
        logger.error("OBS wrap-up: %s", result.detail)
        return result
    except Exception as exc:  # noqa: BLE001 - the ack must say something, the agent must live on
        logger.exception("OBS wrap-up failed")
        return failure(language, "not_websocket", where=_where(config), error=exc)
    size = _size(path)
    logger.info("OBS wrap-up: recording saved to %s (%s bytes)%s", path, size,
                "; stream stopped" if streamed else "")
    return ObsResult(ok=True, detail=saved_detail(path, size), path=path, size=size,
                     stream_stopped=streamed, code=AckCode.SAVED.value,
                     args={"file": path, "size_bytes": size})


def obs_runs() -> bool:
    """An OBS Studio process runs on this PC (of any user: the agent may run as SYSTEM)."""
    for proc in psutil.process_iter(["name"]):
        if normalize(proc.info.get("name") or "") in OBS_PROCESSES:
            return True
    return False


def _where(config: ObsConfig) -> str:
    return f"{config.host}:{config.port}"


def _size(path: str) -> int | None:
    """The file's size when this PC can see it (OBS on another host: unknown)."""
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return None


async def _stop(config: ObsConfig) -> tuple[str, bool]:
    """(path of the saved recording, whether a stream was stopped); ObsFailed otherwise."""
    client = await _connect(config)
    try:
        stopped: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def on_record_state(data: dict | None) -> None:
            data = data or {}
            if data.get("outputState") == OUTPUT_STOPPED and not stopped.done():
                stopped.set_result(str(data.get("outputPath") or ""))

        client.register_event_callback(on_record_state, "RecordStateChanged")
        # The recording first: it is what the meeting keeps; the stream is gone either way.
        recording = bool((await _call(client, config, "GetRecordStatus")).get("outputActive"))
        path = await _stop_recording(client, config, stopped) if recording else ""
        streamed = config.stop_stream and await _stop_output(client, config, "Stream")
        if not recording:
            raise ObsFailed("not_recording", streamed=streamed)
        return path, streamed
    finally:
        await _disconnect(client)


async def _disconnect(client: simpleobsws.WebSocketClient) -> None:
    """Close the connection; a peer that does not answer the close is not waited for long."""
    try:
        await asyncio.wait_for(client.disconnect(), CLOSE_WAIT_S)
    except Exception:  # noqa: BLE001 - closing is best effort; the result is already known
        logger.debug("closing the obs-websocket connection failed", exc_info=True)


async def _connect(config: ObsConfig) -> simpleobsws.WebSocketClient:
    """A client identified with OBS (and subscribed to output events); ObsFailed otherwise."""
    params = simpleobsws.IdentificationParameters(eventSubscriptions=SUBSCRIBE_OUTPUTS)
    client = simpleobsws.WebSocketClient(url=f"ws://{config.host}:{config.port}",
                                         password=config.password,
                                         identification_parameters=params)
    try:
        await asyncio.wait_for(client.connect(), config.timeout_s)
    except TimeoutError:   # before OSError, whose subclass it is: a port that takes, no answer
        raise ObsFailed("no_answer", where=_where(config), seconds=f"{config.timeout_s:g}") from None
    except OSError as exc:
        raise ObsFailed("not_running", where=_where(config)) from exc
    except Exception as exc:   # websockets' handshake errors: something else on that port
        raise ObsFailed("not_websocket", where=_where(config), error=exc) from None
    await _identified(client, config)
    return client


async def _identified(client: simpleobsws.WebSocketClient, config: ObsConfig) -> None:
    """Wait for obs-websocket's Identified; a closed connection is a refused password.

    simpleobsws waits out its whole timeout when OBS closes the connection (code 4009 on a wrong
    password), so we watch its receive task ourselves."""
    deadline = asyncio.get_running_loop().time() + config.timeout_s
    while not client.identified:
        task = client.recv_task
        if task is None or task.done():
            code = getattr(client.ws, "close_code", None)
            await _disconnect(client)
            if code == CLOSE_AUTH_FAILED:
                raise ObsFailed("password")
            raise ObsFailed("not_websocket", where=_where(config), error=f"closed with code {code}")
        if asyncio.get_running_loop().time() > deadline:
            await _disconnect(client)
            raise ObsFailed("no_answer", where=_where(config), seconds=f"{config.timeout_s:g}")
        await asyncio.sleep(0.02)


async def _call(client: simpleobsws.WebSocketClient, config: ObsConfig, request: str) -> dict:
    """One obs-websocket request; its responseData, or ObsFailed with OBS's own comment."""
    try:
        answer = await client.call(simpleobsws.Request(request), timeout=config.timeout_s)
    except simpleobsws.MessageTimeout:
        raise ObsFailed("no_answer", where=_where(config), seconds=f"{config.timeout_s:g}") from None
    if not answer.ok():
        status = answer.requestStatus
        raise ObsFailed("refused", request=request, comment=status.comment or f"code {status.code}")
    return answer.responseData or {}


async def _stop_recording(client: simpleobsws.WebSocketClient, config: ObsConfig,
                          stopped: asyncio.Future[str]) -> str:
    """StopRecord, then wait for OBS to say the file is written; its path."""
    answer = await _call(client, config, "StopRecord")
    try:
        path = await asyncio.wait_for(stopped, config.timeout_s)
    except TimeoutError:
        raise ObsFailed("timeout", seconds=f"{config.timeout_s:g}") from None
    return path or str(answer.get("outputPath") or "")


async def _stop_output(client: simpleobsws.WebSocketClient, config: ObsConfig, output: str) -> bool:
    """Stop the stream when it runs; True when it did."""
    if not (await _call(client, config, f"Get{output}Status")).get("outputActive"):
        return False
    await _call(client, config, f"Stop{output}")
    return True
