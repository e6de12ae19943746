"""Connections of `rolecli serve`: uvicorn's HTTP/1.1 protocol (h11), with a deadline on every
phase of a connection, a cap on open connections per client and in all, refusals as JSON,
and a shutdown that cuts what is still running after a grace period.

The phases and their deadlines:
  idle      a new or kept-alive connection that has sent nothing: closed after IDLE_SECONDS;
  head      from the first byte of a request to the end of its head: HEAD_SECONDS, then a
            408 and the connection closed;
  body      to the body's last byte: BODY_SECONDS (the app answers 408 then); a body that
            still trickles in when the answer is out is cut BODY_GRACE seconds later;
  answer    writing it: a client that reads nothing for SEND_STALL_SECONDS is cut.
Past MAX_CLIENT_CONNECTIONS from one address (an IPv6 client: its /64) or MAX_CONNECTIONS in
all, a connection is answered 503 (JSON) as soon as its request head is in, then closed.
The counts and deadlines are per server process (each --workers process has its own).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import sys
import time
from collections import Counter
from contextlib import suppress
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..escape import visible

IDLE_SECONDS = 5
HEAD_SECONDS = 10
BODY_SECONDS = 30
BODY_GRACE = 5
SEND_STALL_SECONDS = 30
MAX_CONNECTIONS = 256
MAX_CLIENT_CONNECTIONS = 64
# A refused connection may take this long to send its request head, so that its client
# reads the 503 rather than a reset; past MAX_REFUSING such connections, more are dropped.
REFUSAL_SECONDS = 2
MAX_REFUSING = 128
MAX_REFUSED_HEAD = 16 * 1024
# At shutdown, requests still running get this long to finish; then they are cut.
SHUTDOWN_GRACE = 3.0
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

_open: Counter[str] = Counter()  # accepted connections per client
_refusing = 0
# Requests cut at shutdown, as "METHOD PATH after N s", for the one line that reports it.
cut_at_shutdown: list[str] = []


def log(line: str) -> None:
    """One line of the server's log on stderr, after its time."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    try:
        sys.stderr.write(f"{stamp} {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr gone: serving matters more than the log
        pass


def client_key(client: tuple[str, int] | None) -> str:
    """Whom a connection counts against: its address, an IPv6 one by its /64 (a client
    holds a whole /64 and could spread over it)."""
    if client is None:
        return "-"
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return client[0]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def json_answer(status: int, message: str) -> bytes:
    """A whole HTTP/1.1 answer with a JSON error body, for the connection to close after."""
    body = (json.dumps({"error": message}) + "\n").encode("utf-8")
    phrase = {400: "Bad Request", 408: "Request Timeout", 503: "Service Unavailable"}[status]
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"connection", b"close"), (b"cache-control", b"no-store"), *SECURITY_HEADERS]
    return (f"HTTP/1.1 {status} {phrase}\r\n".encode() +
            b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body)


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines, connection caps and JSON refusals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = "-"
        self.counted = False
        self.refused: str | None = None  # why this connection is refused
        self.refused_head = bytearray()
        self.deadline: asyncio.TimerHandle | None = None
        self.stall: asyncio.TimerHandle | None = None
        self.phase = "idle"
        self.phase_started = 0.0
        self.seen_cycle: Any = None
        self.cut_scheduled = False
        self.closing = False  # answered on its own: what still comes in is dropped

    # -- opening and closing ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        global _refusing
        super().connection_made(transport)
        self.key = client_key(self.client)
        if _open[self.key] >= MAX_CLIENT_CONNECTIONS:
            self.refused = (f"over {MAX_CLIENT_CONNECTIONS} connections from one client are "
                            "open; close some, or wait for them")
        elif sum(_open.values()) >= MAX_CONNECTIONS:
            self.refused = (f"the server holds its {MAX_CONNECTIONS} connections; try again "
                            "in a moment")
        if self.refused is None:
            _open[self.key] += 1
            self.counted = True
            self._start_phase("idle", IDLE_SECONDS)
        elif _refusing >= MAX_REFUSING:
            self.refused = None
            transport.abort()  # too many at once to answer each: dropped
        else:
            _refusing += 1
            self._arm(REFUSAL_SECONDS, self._refuse)

    def connection_lost(self, exc: Exception | None) -> None:
        global _refusing
        super().connection_lost(exc)
        self._disarm()
        if self.stall is not None:
            self.stall.cancel()
        if self.counted:
            self.counted = False
            _open[self.key] -= 1
            if _open[self.key] <= 0:
                del _open[self.key]
        if self.refused is not None:
            self.refused = None
            _refusing -= 1

    # -- reading ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if self.refused is not None:
            self.refused_head += data[: MAX_REFUSED_HEAD]
            if b"\r\n\r\n" in self.refused_head or len(self.refused_head) >= MAX_REFUSED_HEAD:
                self._refuse()
            return
        if self.phase == "idle":  # the first bytes of a request: its head must follow
            self.phase = "head"
            self._arm(self.phase_started + HEAD_SECONDS - time.monotonic(), self._expired)
        super().data_received(data)
        self._follow()

    def _follow(self) -> None:
        """Move to the phase h11 says the request is in."""
        if self.transport.is_closing() or self.cycle is None:
            return
        if self.cycle is not self.seen_cycle and self.phase in ("idle", "head"):
            self.seen_cycle = self.cycle
            self._start_phase("body", BODY_SECONDS + BODY_GRACE)
        if self.phase == "body" and self.conn.their_state in (h11.DONE, h11.MUST_CLOSE):
            self.phase = "answer"  # the app's work, bounded by its own limits
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.IDLE):
            self._start_phase("idle", IDLE_SECONDS)
            self._follow()  # a pipelined request may already be under way
        else:  # answered before the body was read (413, 401): no reason to wait for it
            self._start_phase("drain", BODY_GRACE)

    # -- writing ---------------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.stall is None:
            self.stall = self.loop.call_later(SEND_STALL_SECONDS, self._cut)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.stall is not None:
            self.stall.cancel()
            self.stall = None

    def send_400_response(self, msg: str) -> None:
        """Bytes that are no HTTP request: a JSON 400, logged as one line."""
        log(f"- - 400 0.0 ms (not an HTTP request: {visible(msg)[:100]})")
        self._answer_and_close(json_answer(400, "malformed HTTP request"))

    # -- deadlines -------------------------------------------------------------------------

    def _start_phase(self, phase: str, seconds: float) -> None:
        self.phase = phase
        self.phase_started = time.monotonic()
        self._arm(seconds, self._expired)

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(max(0.0, seconds), callback)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expired(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if self.phase == "head":
            log(f"- - 408 {(time.monotonic() - self.phase_started) * 1000:.1f} ms "
                f"(the request head took over {HEAD_SECONDS} s)")
            self._answer_and_close(json_answer(
                408, f"the request head took over {HEAD_SECONDS} s to arrive"))
        elif self.phase == "body":
            self._cut()
        else:  # idle, or draining a body after its answer: nothing more to say
            self._close()

    def _refuse(self) -> None:
        """Answer a connection over the caps with a JSON 503, once its head is in (or its
        time is up), then close it."""
        if self.refused is None or self.transport.is_closing():
            return
        head = bytes(self.refused_head)
        method, _, rest = head.partition(b" ")
        path = rest.partition(b" ")[0]
        if head:
            log(f"{_shown(method, 16)} {_shown(path, 200)} 503 0.0 ms ({self.refused})")
        self._disarm()
        self._answer_and_close(json_answer(503, self.refused))

    def _answer_and_close(self, answer: bytes) -> None:
        """Write a whole answer and close the connection, reading on for a moment so that
        a client still sending reads the answer rather than a reset."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's own answer, if any, goes nowhere
            self.cycle.message_event.set()
        self.transport.write(answer)
        self.closing = True
        self.refused_head = bytearray()
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(1.0, self._close)
        else:
            self._close()

    def _cut(self) -> None:
        """End a connection whose request or answer went over its time: with a 503 if the
        app has not begun its answer, else by closing it mid-answer."""
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_started:
            self._answer_and_close(json_answer(503, "the request was cut: it took too long"))
        else:
            if self.cycle is not None:
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.transport.abort()

    def _close(self) -> None:
        if not self.transport.is_closing():
            with suppress(h11.LocalProtocolError):
                self.conn.send(h11.ConnectionClosed())
            self.transport.close()

    # -- shutdown --------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Called by uvicorn when the server stops: an idle connection closes now; a request
        still running has SHUTDOWN_GRACE seconds to finish, then is cut with a 503."""
        if self.refused is not None or self.cycle is None or self.cycle.response_complete:
            self._close()
            return
        self.cycle.keep_alive = False
        if not self.cut_scheduled:
            self.cut_scheduled = True
            self.loop.call_later(SHUTDOWN_GRACE, self._cut_for_shutdown)

    def _cut_for_shutdown(self) -> None:
        if self.transport.is_closing() or self.cycle is None or self.cycle.response_complete:
            return
        seconds = time.monotonic() - self.phase_started
        request = self.cycle.scope
        cut_at_shutdown.append(f"{_shown(request['method'].encode(), 16)} "
                               f"{_shown(request.get('raw_path') or b'', 200)} after "
                               f"{seconds:.1f} s")
        scope: dict[str, Any] = self.cycle.scope  # type: ignore[assignment]
        scope["rolecli.cut"] = True  # (the app then logs no line of its own)
        if not self.cycle.response_started:
            self._answer_and_close(json_answer(503, "the server is stopping; send the request "
                                                    "again when it is back"))
        else:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
            self.transport.abort()


def _shown(raw: bytes, limit: int) -> str:
    text = visible(raw.decode("utf-8", "surrogateescape")).replace(" ", "%20")
    return text if len(text) <= limit else text[:limit] + "..."


class OneLine(logging.Formatter):
    """uvicorn's own log records (rare: the app logs its requests) as one line each, with
    no traceback: an exception is its type and message."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        message = visible(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message += f": {type(exc).__name__}: {visible(' '.join(str(exc).split()))[:200]}"
        return f"{stamp} server: {message}"


class Unrepeated(logging.Filter):
    """Drop uvicorn's messages about what this module logs itself: malformed requests (a
    line of their own) and the requests it cuts at shutdown (the stop line counts them)."""

    DROPPED = ("Invalid HTTP request received", "Cancel ")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.DROPPED)


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": "rolecli.serve.connection.OneLine"}},
    "filters": {"unrepeated": {"()": "rolecli.serve.connection.Unrepeated"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                            "formatter": "line", "filters": ["unrepeated"]}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.error": {"level": "WARNING"},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
