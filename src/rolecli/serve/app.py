"""The ASGI app: the page at `/`, the JSON API under `/v1`, `/healthz` and `/openapi.json`.

Scoring runs in a small pool of daemon threads, so the event loop keeps answering while a
big posting is scored; the pool's size bounds how many requests score at once. An upload's
file is read apart, in extraction workers (io.extraction) awaited from threads of their
own, so slow files never hold the scoring threads. Memory is bounded before work starts:
request bodies held at once share BODY_BUDGET bytes (a request waits its turn), and a
request over LARGE_BODY is processed alone (one at a time per process). Every answer
carries the security headers, no error shows a traceback, and each request is one line on
stderr with no posting text in it.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..batch.items import Scoring
from ..errors import InputError
from ..escape import json_text, visible
from ..io.documents import text_from_bytes
from ..io.extraction import stop_workers, use_workers
from ..io.sheets import SHEET_TYPES, XLSX_TYPE
from ..model.scorer import Scorer
from ..tasks.classify import load_scorer
from . import page, scoring
from .capacity import ByteBudget, DaemonThreads, Held, T
from .connection import SECURITY_HEADERS, cut_at_shutdown, log
from .live import live_answer
from .openapi import openapi
from .requests import (
    JSON_TYPES,
    JSONL_TYPES,
    Form,
    RequestError,
    batch_items,
    checked_text,
    checked_title,
    live_fields,
    parse_form,
    parse_json,
    posting_fields,
    read_body,
    require_type,
)
from .server import ServeSettings
from .spreadsheets import SheetAnswer, out_kind, sheet_answer, too_large_sheet

SCORING_THREADS = 4
EXTRACTION_THREADS = 2  # uploads whose file is being read at once (each in a worker process)
MIB = 1024 * 1024
# Bytes of request bodies held at once, per process; and the size past which a request is
# processed alone (capacity.BODY_WAIT_SECONDS bounds the wait for a share).
BODY_BUDGET = 16 * MIB
LARGE_BODY = 1 * MIB
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
NO_STORE = {"cache-control": "no-store"}  # answers hold posting text: never cache them


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # The bytes `rolecli ... --format json` prints: the same serialisation, the same newline.
    body = (json_text(data) + "\n").encode("utf-8")
    return Response(body, status, {**NO_STORE, **(headers or {})}, "application/json")


def error_response(status: int, message: str) -> Response:
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    return json_response({"error": message}, status, headers)










class App:
    """The routes, over one loaded scorer."""

    def __init__(self, settings: ServeSettings, scorer: Scorer) -> None:
        self.scorer = scorer
        self.scoring = Scoring(scorer)
        self.token = settings.token.encode("ascii") if settings.token else None
        self.scorers = DaemonThreads(SCORING_THREADS, "rolecli-scoring")
        self.readers = DaemonThreads(EXTRACTION_THREADS, "rolecli-reading")
        self.budget = ByteBudget(BODY_BUDGET)
        self.large = asyncio.Lock()
        self.workers = settings.workers
        self.stylesheet = page.STYLESHEET.encode("utf-8")
        self.script = files("rolecli.serve").joinpath("static/page.js").read_bytes()
        self.schema = (json_text(openapi()) + "\n").encode("utf-8")

    async def work(self, function: Callable[..., T], *args: Any) -> T:
        return await self.scorers.run(function, *args)

    async def body(self, request: Request) -> bytes:
        """The request's body, within the byte budget; a large one is then processed alone."""
        held: Held = request.scope["rolecli.held"]
        body = await read_body(request, held.take_bytes)
        if len(body) > LARGE_BODY:
            await held.take_large()
        return body

    async def sheet_body(self, request: Request) -> bytes:
        """A spreadsheet's body, within the budget; past the byte limit, the spreadsheet's
        limits in one line."""
        try:
            return await self.body(request)
        except RequestError as exc:
            raise too_large_sheet() if exc.status == 413 else exc from None

    def check_token(self, given: str | None) -> None:
        if self.token is not None and not hmac.compare_digest(
            (given or "").encode("utf-8", "surrogateescape"), self.token
        ):
            raise RequestError(401, "missing or wrong token: send Authorization: Bearer TOKEN")

    def authorize(self, request: Request) -> None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        self.check_token(credentials.strip() if scheme.lower() == "bearer" else None)

    # -- the API --------------------------------------------------------------------------

    async def posting(self, request: Request) -> tuple[str, str | None]:
        self.authorize(request)  # before reading: a stranger's body is never buffered
        require_type(request, JSON_TYPES)
        return posting_fields(parse_json(await self.body(request)))

    async def classify(self, request: Request) -> Response:
        text, title = await self.posting(request)
        return json_response(await self.work(scoring.classify_posting, self.scorer, text, title))

    async def explain(self, request: Request) -> Response:
        text, title = await self.posting(request)
        return json_response(await self.work(scoring.explain_posting, self.scorer, text, title))

    async def batch(self, request: Request) -> Response:
        self.authorize(request)
        if _media_type(request) in SHEET_TYPES:
            return await self.sheet_batch(request)
        require_type(request, JSONL_TYPES)
        body = await self.body(request)
        if not body.strip():
            raise RequestError(400, "no items: send one JSON object per line")
        items = batch_items(body)  # (refuses a body of too many items before any is scored)

        async def rows() -> AsyncIterator[bytes]:
            while chunk := await self.work(scoring.next_rows, self.scoring, items):
                yield "".join(json_text(row) + "\n" for row in chunk).encode("utf-8")

        return StreamingResponse(rows(), headers=NO_STORE, media_type="application/x-ndjson")

    async def sheet_batch(self, request: Request) -> Response:
        """A CSV or .xlsx body: the same spreadsheet back with rolecli's columns added."""
        data = await self.sheet_body(request)
        name = "batch.xlsx" if _media_type(request) == XLSX_TYPE else "batch.csv"
        query = request.query_params
        answer = await self.work(
            sheet_answer, self.scorer, data, name, out_kind(None, request.headers.get(
                "accept", "")),
            query.get("text_column"), query.get("title_column"), query.get("id_column"),
        )
        return _sheet_response(answer)

    async def model(self, request: Request) -> Response:
        self.authorize(request)
        return json_response(self.scorer.card)

    async def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    async def openapi(self, request: Request) -> Response:
        return Response(self.schema, media_type="application/json")

    # -- the page -------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        return self.html(page.page(token_required=self.token is not None))

    async def submit(self, request: Request) -> Response:
        form = Form()
        try:
            form = parse_form(request.headers.get("content-type", ""), await self.body(request))
            self.check_token(form.token)
            # A file is read apart, in an extraction worker awaited from a thread of its own:
            # a slow PDF never holds a scoring thread, and is stopped at the CPU-time cap.
            text, title, name = await self.readers.run(self.form_posting, form)
            if len(text) > LARGE_BODY:
                await request.scope["rolecli.held"].take_large()
            report = (await self.work(scoring.posting_explanation, self.scorer, text, title),
                      text, name)
        except RequestError as exc:
            return self.html(self.form_page(form, error=exc.message), exc.status)
        return self.html(self.form_page(form, report=report))

    async def live(self, request: Request) -> Response:
        """The page's update as the posting is written (or without some of its lines)."""
        self.authorize(request)
        require_type(request, JSON_TYPES)
        text, title, without = live_fields(parse_json(await self.body(request)))
        answer = await self.work(live_answer, self.scorer, text, title, without)
        return json_response(answer, headers={"server-timing": f"score;dur={answer['server_ms']}"})

    async def sheet(self, request: Request) -> Response:
        """The page's spreadsheet form: the file back, scored; an error on the page."""
        form = Form()
        try:
            form = parse_form(request.headers.get("content-type", ""),
                              await self.sheet_body(request))
            self.check_token(form.token)
            if form.file is None or not form.file.data:
                raise RequestError(422, "choose a .csv or .xlsx file of postings")
            options = form.options
            answer = await self.work(
                sheet_answer, self.scorer, form.file.data, form.file.name,
                out_kind(options.get("format")), options.get("text_column", "").strip() or None,
                options.get("title_column", "").strip() or None,
                options.get("id_column", "").strip() or None,
            )
        except RequestError as exc:
            body = page.page(token_required=self.token is not None, sheet_error=exc.message)
            return self.html(body, exc.status)
        return _sheet_response(answer)

    def form_posting(self, form: Form) -> tuple[str, str | None, str]:
        """(text, title, name) from the form: the file if one was chosen, else the text."""
        title = checked_title(form.title)
        if form.file is not None:
            try:
                text = text_from_bytes(form.file.data, form.file.name, _suffix(form.file.name))
            except InputError as exc:
                raise RequestError(422, exc.message) from None
            return text, title, form.file.name
        if not form.text.strip():
            raise RequestError(422, "paste a posting, or choose its file")
        # Browsers send a textarea's line breaks as CRLF; the posting had plain newlines.
        return checked_text(form.text.replace("\r\n", "\n"), "pasted text"), title, "pasted text"

    def form_page(self, form: Form, **result: Any) -> str:
        pasted = "" if form.file is not None else form.text.replace("\r\n", "\n")
        return page.page(
            text=pasted, title=form.title, token_required=self.token is not None, **result
        )

    def html(self, body: str, status: int = 200) -> Response:
        return HTMLResponse(
            body, status, {**NO_STORE, "content-security-policy": page.CSP}
        )

    async def stylesheet_file(self, request: Request) -> Response:
        return Response(self.stylesheet, media_type="text/css")

    async def script_file(self, request: Request) -> Response:
        return Response(self.script, media_type="text/javascript")

    async def no_icon(self, request: Request) -> Response:
        return Response(status_code=204)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _sheet_response(answer: SheetAnswer) -> Response:
    return Response(answer.body, 200, {**NO_STORE, **answer.headers}, answer.media_type)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    return error_response(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal error; the server log has one line on it")


def create_app(settings: ServeSettings | None = None) -> ASGIApp:
    """The app for uvicorn's factory: settings from the environment `serve()` prepared."""
    settings = settings or ServeSettings.from_environment()
    app = App(settings, load_scorer(settings.model))
    use_workers(EXTRACTION_THREADS)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        stop_workers()  # idle extraction workers; a busy one dies with its cut request
        stopped(app.workers)
    routes = [
        Route("/", app.page, methods=["GET"]),
        Route("/", app.submit, methods=["POST"]),
        Route("/live", app.live, methods=["POST"]),
        Route("/sheet", app.sheet, methods=["POST"]),
        Route("/static/rolecli.css", app.stylesheet_file, methods=["GET"]),
        Route("/static/page.js", app.script_file, methods=["GET"]),
        Route("/favicon.ico", app.no_icon, methods=["GET"]),
        Route("/healthz", app.healthz, methods=["GET"]),
        Route("/openapi.json", app.openapi, methods=["GET"]),
        Route("/v1/classify", app.classify, methods=["POST"]),
        Route("/v1/explain", app.explain, methods=["POST"]),
        Route("/v1/batch", app.batch, methods=["POST"]),
        Route("/v1/model", app.model, methods=["GET"]),
    ]
    middleware = []
    if settings.loopback:
        bound = settings.host.strip("[]").lower()
        hosts = {*LOOPBACK_HOSTS, f"[{bound}]" if ":" in bound else bound}  # as Host has them
        middleware.append(Middleware(LoopbackHosts, hosts=hosts))
    if settings.cors:
        middleware.append(Middleware(
            JsonCORSMiddleware, allow_origins=list(settings.cors), allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"], max_age=600,
        ))
    starlette = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            RequestError: _request_error, HTTPException: _http_error, Exception: _internal_error,
        },
    )
    return RequestLog(starlette, app)


def stopped(workers: int) -> None:
    """The one line a stopping server writes: what it cut, if anything."""
    who = f"worker {os.getpid()}" if workers > 1 else "rolecli serve"
    cut = list(cut_at_shutdown)
    detail = (f"; cut {len(cut)} request{'s' * (len(cut) > 1)} still running after "
              f"the grace period: {', '.join(cut[:5])}" if cut else "")
    log(f"{who}: stopped{detail}")


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with its refusals of a preflight as JSON like every other error."""

    def preflight_response(self, request_headers: Any) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        reason = bytes(response.body).decode("utf-8", "replace").strip()
        return error_response(response.status_code, f"cross-origin request refused "
                                                    f"({reason.removeprefix('Disallowed ')})")


class LoopbackHosts:
    """A page elsewhere may point its own host name at 127.0.0.1 (DNS rebinding) to read a
    loopback server's answers: such a server answers only requests for a loopback name."""

    def __init__(self, app: ASGIApp, hosts: set[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
            # "name:port" or "[v6 address]:port"
            name = header[: header.find("]") + 1] if header.startswith("[") else (
                header.partition(":")[0])
            if name not in self.hosts:
                response = error_response(400, "this server answers only to loopback host names")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestLog:
    """Outermost: one stderr line per request, security headers, no traceback escapes, and
    what the request held given back when it ends."""

    def __init__(self, app: ASGIApp, routes: App) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        responded = False
        held = scope["rolecli.held"] = Held(self.routes.budget, self.routes.large)

        async def send_with_headers(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        failure = ""
        try:
            await self.app(scope, receive, send_with_headers)
        except asyncio.CancelledError:
            # The server stopped and cut this request (its 503 is sent, and the stop line
            # counts it): end quietly, with no traceback and no line of its own.
            return
        except Exception as exc:  # a bug: the client gets a plain 500, the log one line
            failure = f" error {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            if not responded:
                await error_response(500, "internal error")(scope, receive, send_with_headers)
        finally:
            held.release()
        if scope.get("rolecli.cut"):
            return
        milliseconds = (time.perf_counter() - started) * 1000
        log(f"{_method(scope)} {_path(scope)} {status} {milliseconds:.1f} ms{failure}")


def _method(scope: Scope) -> str:
    method = visible(str(scope["method"]))
    return method if len(method) <= 16 else method[:16] + "..."


def _path(scope: Scope) -> str:
    # The raw path, still percent-encoded, so nothing a client sent can act on a terminal.
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    text = visible(raw.decode("utf-8", "surrogateescape")).replace(" ", "%20")
    return text if len(text) <= 200 else text[:200] + "..."
