"""Whether the notes' fast path may use aiohttp's private parts with the installed aiohttp.

The fast path (`direct.py`: update frames taken from aiohttp's parser; `fanout.py`: relayed
frames written to the transport in one call) reaches into names aiohttp does not promise to
keep: `aiohttp._websocket.reader` (`WebSocketDataQueue.feed_data(data, size)`, `.read()`,
`._buffer`, `WebSocketReader(queue, max_msg_size, compress, decode_text)`), the internals of
`WebSocketResponse._post_start` (`_reader`, `_parser`, `_writer`, `_ws_protocol`, `_loop`,
`_reset_heartbeat`, `_on_data_received`, `_heartbeat`, `_max_msg_size`, `_compress`,
`_decode_text`, `request._protocol`, `protocol.set_parser(parser, data_received_cb=...)`) and
the writer's `transport`, `compress` and `_closing`.

It is used only with the aiohttp versions it was tested with (`TESTED_FROM` up to, not
including, `TESTED_BELOW`) and only when those names are all there; anything else takes the
public path (`WebSocketResponse.receive()` and `send_bytes()`): the same behaviour, at more CPU
per edit. `MENTOR_SIDECAR_NOTES_FAST_PATH=off` forces the public path.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

TESTED_FROM = (3, 14)
TESTED_BELOW = (3, 15)

_RESPONSE_NAMES = (
    "_post_start",
    "_reset_heartbeat",
    "_on_data_received",
    "_reader",
    "_parser",
    "_writer",
    "_ws_protocol",
    "_loop",
    "_heartbeat",
    "_max_msg_size",
    "_compress",
    "_decode_text",
)
_QUEUE_NAMES = ("feed_data", "read")
_WRITER_NAMES = ("transport", "compress", "_closing")


def version_tested(version: str) -> bool:
    """Whether `version` (e.g. "3.14.5") is in the range the fast path was tested with."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return False
    major_minor = (int(match.group(1)), int(match.group(2)))
    return TESTED_FROM <= major_minor < TESTED_BELOW


def _missing_names() -> list[str]:
    """The private names the fast path uses that the installed aiohttp lacks."""
    missing: list[str] = []
    try:
        from aiohttp._websocket import reader
        from aiohttp._websocket.writer import WebSocketWriter
    except ImportError:
        return ["aiohttp._websocket.reader"]
    for cls, names in (
        (reader.WebSocketDataQueue, _QUEUE_NAMES),
        (reader.WebSocketReader, ("feed_data",)),
    ):
        missing += [f"{cls.__name__}.{n}" for n in names if not hasattr(cls, n)]
    try:
        queue: Any = reader.WebSocketDataQueue(None, 1, loop=None)  # type: ignore[arg-type]
        if not hasattr(queue, "_buffer"):
            missing.append("WebSocketDataQueue._buffer")
    except Exception:
        missing.append("WebSocketDataQueue(protocol, limit, loop=)")
    try:  # instance attributes: look at a response that was never started
        response: Any = web.WebSocketResponse()
    except Exception:
        return [*missing, "WebSocketResponse()"]
    missing += [f"WebSocketResponse.{n}" for n in _RESPONSE_NAMES if not hasattr(response, n)]
    writer_slots = set(getattr(WebSocketWriter, "__slots__", ())) | set(dir(WebSocketWriter))
    init_code = getattr(WebSocketWriter.__init__, "__code__", None)
    if init_code is not None:  # plain attributes are set in __init__
        writer_slots |= set(init_code.co_names)
    missing += [f"WebSocketWriter.{n}" for n in _WRITER_NAMES if n not in writer_slots]
    return missing


def _check() -> tuple[bool, str]:
    version = aiohttp.__version__
    if not version_tested(version):
        low, high = ".".join(map(str, TESTED_FROM)), ".".join(map(str, TESTED_BELOW))
        return False, f"aiohttp {version} is outside the tested {low} to <{high}"
    missing = _missing_names()
    if missing:
        return False, f"aiohttp {version} lacks {', '.join(missing)}"
    return True, f"aiohttp {version}"


# Decided once, at import. Tests set AVAILABLE to False to run everything on the public path.
AVAILABLE, REASON = _check()


def use_fast_path(setting: str) -> bool:
    """The path an app takes, from `notes_fast_path` ("auto" or "off") and the check above."""
    return setting == "auto" and AVAILABLE


def describe(setting: str) -> str:
    if use_fast_path(setting):
        return f"live notes: fast path ({REASON})"
    if setting != "auto":
        return "live notes: public aiohttp path (MENTOR_SIDECAR_NOTES_FAST_PATH=off)"
    return f"live notes: public aiohttp path ({REASON})"
