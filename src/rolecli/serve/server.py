"""The server's settings, the rules that keep it safe by default, and starting uvicorn."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import sys
from contextlib import suppress
from dataclasses import asdict, dataclass, replace
from typing import Any, NoReturn

from ..errors import UsageError
from ..extras import require_extra

# How worker processes (and the app factory) receive the settings: uvicorn starts them from an
# import string, so the settings travel in the environment they inherit.
SETTINGS_ENV = "ROLECLI_SERVE_SETTINGS"
MIN_TOKEN_LENGTH = 16
_ORIGIN = re.compile(r"\Ahttps?://[A-Za-z0-9.\-]+(:\d{1,5})?\Z|\Ahttps?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?\Z")
_TOKEN = re.compile(r"\A[\x21-\x7e]+\Z")


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    model: str | None = None
    workers: int = 1
    token: str | None = None
    cors: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ServeSettings:
        data = json.loads(os.environ.get(SETTINGS_ENV, "{}"))
        data["cors"] = tuple(data.get("cors", ()))
        return cls(**data)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def check_settings(settings: ServeSettings) -> None:
    """Usage errors before anything listens: the token rule, origins, workers."""
    if settings.token is not None:
        if not _TOKEN.match(settings.token):
            _refuse("token must be printable ASCII without spaces")
        if len(settings.token) < MIN_TOKEN_LENGTH:
            _refuse(f"token must be at least {MIN_TOKEN_LENGTH} characters",
                    "make one with python3 -c 'import secrets; print(secrets.token_urlsafe())'")
    elif not settings.loopback:
        _refuse(f"host {settings.host} lets other machines in",
                "give --token TOKEN (or set ROLECLI_TOKEN), which every API call must send as "
                "`Authorization: Bearer`", join=": ")
    for origin in settings.cors:
        if origin != "*" and not _ORIGIN.match(origin):
            _refuse(f"cors {origin!r} is not an origin",
                    "give scheme and host, such as https://jobs.example.com (no path), or *")
    if settings.workers < 1:
        _refuse("workers must be at least 1")


def _refuse(problem: str, hint: str | None = None, join: str = "; ") -> NoReturn:
    """A UsageError whose problem starts with the ServeSettings field it is about; the
    CLI's line names that field's flag (--field)."""
    raise UsageError(problem, hint, cli_message=f"--{problem}", join=join)


def listen(host: str, port: int) -> socket.socket:
    """A bound socket that every worker process shares, or one usage error line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(settings: ServeSettings) -> int:
    """Check, load the model, listen, and serve until stopped; the exit code of the stop
    (130 for Ctrl-C, 143 for SIGTERM)."""
    require_extra("serve", "rolecli serve")
    check_settings(settings)
    from ..tasks.classify import load_scorer

    scorer = load_scorer(settings.model)  # a broken model fails now (exit 4), not per request
    settings = replace(settings, model=str(scorer.directory))
    os.environ[SETTINGS_ENV] = settings.to_json()

    import uvicorn

    from .connection import IDLE_SECONDS, LOG_CONFIG, SHUTDOWN_GRACE, GuardedProtocol

    _more_open_files()
    config = uvicorn.Config(
        "rolecli.serve.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=GuardedProtocol,  # deadlines, connection caps, JSON refusals (serve/connection.py)
        log_config=LOG_CONFIG,  # uvicorn's own lines (rare) as one line each, no traceback
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=IDLE_SECONDS,
        # Requests the protocol cut at SHUTDOWN_GRACE are then cancelled quietly.
        timeout_graceful_shutdown=int(SHUTDOWN_GRACE) + 1,
    )
    sock = listen(settings.host, settings.port)
    sys.stderr.write(
        f"rolecli serve: {url(sock)} (model {scorer.model_id}, {settings.workers} "
        f"worker{'s' * (settings.workers != 1)}"
        f"{', token required' if settings.token else ''}); Ctrl-C stops\n"
    )
    sys.stderr.flush()
    from ..errors import ExitCode, Terminated

    try:
        if settings.workers == 1:
            uvicorn.Server(config).run(sockets=[sock])
        else:
            supervisor = _supervisor_class()(config, sockets=[sock])
            supervisor.run()
            return int(supervisor.stopped_by)
    except KeyboardInterrupt as exc:  # uvicorn raises the signal it stopped for once done
        return int(ExitCode.TERMINATED if isinstance(exc, Terminated) else ExitCode.INTERRUPTED)
    return int(ExitCode.OK)


def _more_open_files() -> None:
    """Each connection is a file descriptor: raise the soft limit to the hard one (capped),
    so that the connection caps, not the descriptor limit, decide who waits."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _supervisor_class() -> Any:
    from uvicorn.supervisors import Multiprocess

    from ..errors import ExitCode

    class Supervisor(Multiprocess):
        """uvicorn's supervisor of --workers processes, remembering what stopped it."""

        stopped_by = ExitCode.OK

        def handle_int(self) -> None:
            self.stopped_by = ExitCode.INTERRUPTED
            super().handle_int()

        def handle_term(self) -> None:
            self.stopped_by = ExitCode.TERMINATED
            super().handle_term()

    return Supervisor
