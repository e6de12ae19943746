"""`rolecli serve` driven over HTTP: the installed command as a subprocess on a free port."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import sys

import pytest
from conftest import EXAMPLES, MODEL, one_line
from serving import HOSTILE, PAYLOADS, running_server

jsonschema = pytest.importorskip("jsonschema")

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.txt"))
ENGINEER = (EXAMPLES / "ml-engineer.txt").read_text(encoding="utf-8")
MIB = 1024 * 1024
LIMIT = 8 * MIB
TOKEN = "s3cret-token-for-the-tests-0123"
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GET|POST|OPTIONS) \S+ \d{3} \d+\.\d ms")



@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


@pytest.fixture(scope="module")
def token_server():
    with running_server("--host", "0.0.0.0", env={"ROLECLI_TOKEN": TOKEN}, token=TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def schema(server):
    status, _, body = server.request("GET", "/openapi.json")
    assert status == 200
    return json.loads(body)


def check(schema: dict, name: str, value: object) -> None:
    document = {**schema, "$ref": f"#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(document).validate(value)


def cli_json(rolecli, *args) -> bytes:
    result = rolecli(*args, "--format", "json")
    assert result.returncode in (0, 3), result.stderr
    return result.stdout


def error_of(body: bytes) -> str:
    data = json.loads(body)
    assert list(data) == ["error"]
    assert "\n" not in data["error"] and "Traceback" not in data["error"]
    return data["error"]


# -- the API answers what the CLI prints ---------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_classify_and_explain_answer_the_cli_bytes(server, rolecli, schema, path):
    text = path.read_text(encoding="utf-8")
    for endpoint, command, name in (
        ("/v1/classify", "classify", "Classification"), ("/v1/explain", "explain", "Explanation")
    ):
        status, headers, body = server.request(
            "POST", endpoint, json.dumps({"text": text}), {"Content-Type": "application/json"}
        )
        assert status == 200, body
        assert headers["content-type"] == "application/json"
        assert body == cli_json(rolecli, command, path)
        check(schema, name, json.loads(body))


def test_title_is_accepted_and_validated(server):
    status, _, data = server.post_json("/v1/classify", {"text": ENGINEER, "title": "ML Engineer"})
    assert status == 200 and data["label"] == "engineer"
    status, _, data = server.post_json("/v1/explain", {"text": ENGINEER, "title": None})
    assert status == 200 and data["label"] == "engineer"
    for title, reason in (
        (5, '"title" must be a string'),
        (["ML"], '"title" must be a string'),
        ("ML\nEngineer", "one line"),
        ("x" * 301, "longer than 300"),
    ):
        status, _, data = server.post_json("/v1/classify", {"text": ENGINEER, "title": title})
        assert status == 422 and reason in data["error"], (title, data)


def test_model_card_and_health(server, schema):
    status, headers, body = server.request("GET", "/v1/model")
    assert status == 200
    card = json.loads(body)
    assert card == json.loads((MODEL / "card.json").read_text(encoding="utf-8"))
    check(schema, "ModelCard", card)
    status, headers, body = server.request("GET", "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    check(schema, "Health", json.loads(body))
    assert headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in headers


def test_openapi_documents_every_route(server, schema):
    jsonschema.Draft202012Validator.check_schema({"$defs": schema["components"]["schemas"]})
    assert set(schema["paths"]) == {"/v1/classify", "/v1/explain", "/v1/batch", "/v1/model",
                                    "/healthz"}
    for path, operations in schema["paths"].items():
        for method in operations:
            status, _, _ = server.request(method.upper(), path, b"", {})
            assert status != 404 and status != 405, (method, path)


# -- batch ----------------------------------------------------------------------------------


def test_batch_rows_match_rolecli_batch_in_input_order(server, rolecli, schema, tmp_path):
    texts = [(f"job-{i}", p.read_text(encoding="utf-8")) for i, p in enumerate(EXAMPLE_FILES)]
    table = tmp_path / "postings.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(texts)
    cli = rolecli("batch", table, "--id-column", "id", "--format", "jsonl")
    expected = {row["id"]: row for row in map(json.loads, cli.stdout.splitlines())}

    lines = [json.dumps({"id": i, "text": t}) for i, t in reversed(texts)]
    lines.insert(2, "{not json")
    lines.insert(4, json.dumps({"id": "empty", "text": "   "}))
    lines.insert(5, json.dumps({"id": "typed", "text": 42}))
    lines.insert(6, json.dumps({"text": "no id here"}))
    lines.insert(7, "")  # blank lines are skipped
    lines.append(json.dumps({"id": 7, "text": ENGINEER, "title": "ML Engineer"}))
    status, headers, body = server.request(
        "POST", "/v1/batch", "\n".join(lines), {"Content-Type": "application/x-ndjson"}
    )
    assert status == 200
    assert headers["content-type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in body.decode("utf-8").splitlines()]
    for row in rows:
        check(schema, "BatchRow", row)
    ids = [row["id"] for row in rows]
    reversed_ids = [i for i, _ in reversed(texts)]
    # Read as `rolecli batch` reads a JSONL file: rows are numbered without the blank line,
    # and a row without an id gets its number.
    assert ids == [*reversed_ids[:2], "3", reversed_ids[2], "empty", "typed", "7",
                   *reversed_ids[3:], "7~2"]
    for row in rows:
        if row["id"] in expected:
            assert row == expected[row["id"]]
    errors = {row["id"]: row["error"] for row in rows if row["status"] == "error"}
    assert set(errors) == {"3", "empty", "typed"}
    assert errors["3"].startswith("row 3: not valid JSON")
    assert errors["empty"] == "row 5: no text to classify (empty 'text')"
    assert errors["typed"] == "row 6: 'text' is int, not text"
    assert [row["status"] for row in rows if row["id"].startswith("7")] == ["ok", "ok"]
    assert rows[-1]["label"] == "engineer"


def test_batch_refuses_empty_bodies_and_other_types(server):
    jsonl = {"Content-Type": "application/jsonl"}
    status, _, body = server.request("POST", "/v1/batch", "\n\n", jsonl)
    assert status == 400 and "no items" in error_of(body)
    status, _, body = server.request("POST", "/v1/batch", "{}", {"Content-Type": "text/plain"})
    assert status == 415 and "Content-Type" in error_of(body)


def test_batch_of_many_items_streams_every_row(server):
    body = "\n".join(json.dumps({"id": f"n{i}", "text": ENGINEER}) for i in range(500))
    status, _, answer = server.request("POST", "/v1/batch", body,
                                       {"Content-Type": "application/x-ndjson"})
    assert status == 200
    rows = [json.loads(line) for line in answer.splitlines()]
    assert [r["id"] for r in rows] == [f"n{i}" for i in range(500)]
    assert {r["label"] for r in rows} == {"engineer"}


# -- malformed, hostile and oversized requests ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{", 400, "malformed JSON"),
        (b"", 400, "malformed JSON"),
        (b'{"text": NaN}', 400, "NaN is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "malformed JSON"),
        (b'{"text": "\xff\xfe caf\xe9"}', 400, "malformed JSON"),
        (b'{"text": 1' + b"0" * 5000 + b"}", 400, "malformed JSON"),
        (b"[]", 422, "JSON object"),
        (b'"text"', 422, "JSON object"),
        (b"{}", 422, '"text" is required'),
        (b'{"text": 1}', 422, '"text" must be a string'),
        (b'{"text": null}', 422, '"text" is required'),
        (b'{"text": ["a"]}', 422, '"text" must be a string'),
        (b'{"text": "x", "txet": "y"}', 422, "unknown field 'txet'"),
        (b'{"text": "   \\n "}', 422, "empty"),
        (b'{"text": "\\u0000\\u0001 ML"}', 422, "binary"),
        (b'{"text": "ML \\ud800 engineer"}', 422, "lone surrogate"),
    ],
)
def test_malformed_bodies_get_one_line_reasons(server, body, status, reason):
    for endpoint in ("/v1/classify", "/v1/explain"):
        got, headers, answer = server.request(
            "POST", endpoint, body, {"Content-Type": "application/json"}
        )
        assert got == status, answer
        assert reason in error_of(answer)
        assert headers["content-type"] == "application/json"


def test_wrong_content_type_method_and_path(server):
    status, _, body = server.request("POST", "/v1/classify", '{"text": "x"}',
                                     {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in error_of(body)
    status, _, body = server.request("GET", "/v1/classify")
    assert status == 405 and error_of(body)
    status, _, body = server.request("GET", "/v1/nothing")
    assert status == 404 and error_of(body)


def test_size_limit_declared_before_any_body_is_sent(server):
    connection = server.connection()
    connection.putrequest("POST", "/v1/classify")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(LIMIT + 1))
    connection.endheaders()  # headers only: the answer must come without the body
    response = connection.getresponse()
    assert response.status == 413
    assert "larger than 8 MiB" in error_of(response.read())
    connection.close()


def test_size_limit_while_streaming_a_chunked_body(server):
    connection = server.connection()
    connection.putrequest("POST", "/v1/batch")
    connection.putheader("Content-Type", "application/x-ndjson")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = b"x" * MIB
    try:
        for _ in range(9):  # 9 MiB in 1 MiB chunks; the server stops reading past 8
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
    except OSError:  # the server may close the connection once it has answered
        pass
    response = connection.getresponse()
    assert response.status == 413
    assert "larger than 8 MiB" in error_of(response.read())
    connection.close()


def test_a_posting_of_exactly_the_limit_is_scored(server):
    prefix, suffix = b'{"text": "', b'"}'
    filler = (b"deploy models to production " * (LIMIT // 28 + 1))
    body = prefix + filler[: LIMIT - len(prefix) - len(suffix)] + suffix
    assert len(body) == LIMIT
    status, _, answer = server.request("POST", "/v1/classify", body,
                                       {"Content-Type": "application/json"})
    assert status == 200, answer
    assert json.loads(answer)["label"] == "engineer"


def test_hostile_markup_is_escaped_on_the_page(server):
    status, headers, body = server.request(
        "POST", "/", *multipart({"text": HOSTILE, "title": '"><script>window.__pwned=1</script>'})
    )
    assert status == 200
    page = body.decode("utf-8")
    assert "content-security-policy" in headers and "script-src 'self'" in headers[
        "content-security-policy"]
    for payload in PAYLOADS:
        assert payload not in page
        assert html.escape(payload, quote=False) in page or html.escape(payload) in page
    assert "<script" not in page.replace('<script src="/static/page.js" defer></script>', "")
    assert "\x1b" not in page.split("<textarea")[0]
    assert "<h1>ML engineer</h1>" in page


def test_hostile_json_answers_are_the_cli_bytes(server, rolecli, tmp_path):
    posting = tmp_path / "hostile.txt"
    text = HOSTILE + "- Own the \u202eresearch roadmap\u202c and publish\u2028 papers\n"
    posting.write_text(text, encoding="utf-8")
    status, _, body = server.request(
        "POST", "/v1/explain", json.dumps({"text": text}), {"Content-Type": "application/json"}
    )
    assert status == 200
    assert body == cli_json(rolecli, "explain", posting)
    assert b"\xe2\x80\xae" not in body and b"\\u202e" in body  # inert on a terminal
    joined = "".join(s["text"] for s in json.loads(body)["sentences"])
    assert PAYLOADS[0] in joined  # JSON carries text as it is; escaping is the page's job


def test_loopback_server_answers_only_loopback_host_names(server):
    status, _, body = server.request("GET", "/healthz", headers={"Host": "rebound.example:8000"})
    assert status == 400 and "loopback host names" in error_of(body)
    status, _, _ = server.request("GET", "/healthz", headers={"Host": f"localhost:{server.port}"})
    assert status == 200
    with running_server("--host", "127.0.0.2") as other:  # also loopback: no token needed
        assert other.request("GET", "/healthz")[0] == 200  # Host: 127.0.0.2:port
        assert other.request("GET", "/healthz", headers={"Host": "rebound.example"})[0] == 400


# -- the page ------------------------------------------------------------------------------


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None):
    """(body, headers) of a browser's multipart/form-data post."""
    boundary = "----rolecli-test-boundary-7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode("utf-8") + b"\r\n")
    for name, (filename, data) in (files or {}).items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_page_form_without_javascript(server):
    status, headers, body = server.request("GET", "/")
    page = body.decode("utf-8")
    assert status == 200 and headers["content-type"].startswith("text/html")
    for field in ("title", "text", "file"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    assert 'name="token"' not in page
    css = server.request("GET", "/static/rolecli.css")
    js = server.request("GET", "/static/page.js")
    assert css[0] == 200 and css[1]["content-type"].startswith("text/css")
    assert js[0] == 200 and js[1]["content-type"].startswith("text/javascript")

    crlf = ENGINEER.replace("\n", "\r\n")  # as browsers send a textarea
    status, _, body = server.request("POST", "/", *multipart({"text": crlf}))
    page = body.decode("utf-8")
    assert status == 200
    assert "<h1>ML engineer</h1>" in page
    assert "Closest article responsibilities" in page and "posting, shaded by evidence" in page
    assert html.escape(ENGINEER.splitlines()[0]) in page  # the textarea keeps the posting


def test_page_reads_uploaded_files_like_the_cli(server, rolecli, tmp_path):
    from docx import Document

    document = Document()
    for line in ENGINEER.splitlines():
        document.add_paragraph(line)
    docx = tmp_path / "posting.docx"
    document.save(docx)
    html_file = f"<html><body><h1>Jobs</h1><p>{html.escape(ENGINEER)}</p><script>x()</script>"
    for name, data in (
        ("posting.docx", docx.read_bytes()),
        ("posting.html", html_file.encode()),
        ('C:\\Users\\me\\"><img src=x onerror=alert(1)>.txt', ENGINEER.encode("utf-16")),
    ):
        status, _, body = server.request("POST", "/", *multipart({}, {"file": (name, data)}))
        page = body.decode("utf-8")
        assert status == 200, page[-500:]
        assert "<h1>ML engineer</h1>" in page
        assert "<img src=x" not in page
    status, _, body = server.request(
        "POST", "/", *multipart({}, {"file": ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)})
    )
    page = body.decode("utf-8")
    assert status == 422
    assert 'role="alert"' in page and "logo.png: binary data (a PNG image), not text" in page


def test_page_errors_are_shown_on_the_page(server):
    status, _, body = server.request("POST", "/", *multipart({"text": "  "}))
    assert status == 422 and "paste a posting, or choose its file" in body.decode()
    status, _, body = server.request("POST", "/", b"text=hello",
                                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415 and 'role="alert"' in body.decode()
    status, _, body = server.request("POST", "/", b"garbage",
                                     {"Content-Type": "multipart/form-data; boundary=x"})
    assert status == 400 and "malformed form" in body.decode()
    # Found by fuzz/fuzz_requests.py: a boundary over 256 characters was a 500.
    status, _, body = server.request("POST", "/", b"--" + b"b" * 300 + b"\r\n",
                                     {"Content-Type": "multipart/form-data; boundary=" + "b" * 300})
    assert status == 400 and "Boundary length 300 exceeds maximum" in body.decode()
    # A form cut short before its part ends holds no posting.
    status, _, body = server.request(
        "POST", "/", b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello',
        {"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert status == 422 and "paste a posting" in body.decode()


# -- the token rule, CORS, logs, startup errors ----------------------------------------------


def test_any_address_but_loopback_needs_a_token(rolecli):
    result = rolecli("serve", "--host", "0.0.0.0", "--port", "0", timeout=60)
    assert result.returncode == 2
    assert "--token" in one_line(result.stderr)
    result = rolecli("serve", "--host", "0.0.0.0", "--port", "0", "--token", "short", timeout=60)
    assert result.returncode == 2
    assert "at least 16 characters" in one_line(result.stderr)


def test_token_is_checked_on_every_api_call(token_server):
    calls = [("POST", "/v1/classify"), ("POST", "/v1/explain"), ("POST", "/v1/batch"),
             ("GET", "/v1/model")]
    content = {"Content-Type": "application/json"}
    for method, path in calls:
        item = {"id": "a", "text": ENGINEER} if path == "/v1/batch" else {"text": ENGINEER}
        body = json.dumps(item)
        for authorization in (None, "Bearer wrong-token-of-the-same-len", f"Basic {TOKEN}",
                              f"Bearer {TOKEN}x", "Bearer"):
            headers = dict(content)
            if authorization:
                headers["Authorization"] = authorization
            status, got, answer = token_server.request(method, path, body, headers, auth=False)
            assert status == 401, (path, authorization)
            assert got["www-authenticate"] == "Bearer"
            assert "token" in error_of(answer)
        status, _, answer = token_server.request(method, path, body, content)
        assert status == 200, (path, answer)
    assert token_server.request("GET", "/healthz", auth=False)[0] == 200
    # A server on another address takes any Host: the token is what keeps strangers out.
    assert token_server.request("GET", "/healthz", headers={"Host": "jobs.example"})[0] == 200


def test_token_is_checked_on_the_page(token_server):
    status, _, body = token_server.request("GET", "/", auth=False)
    assert status == 200 and 'name="token"' in body.decode()
    status, _, body = token_server.request("POST", "/", *multipart({"text": ENGINEER}), auth=False)
    assert status == 401 and "wrong token" in body.decode()
    status, _, body = token_server.request(
        "POST", "/", *multipart({"text": ENGINEER, "token": TOKEN}), auth=False
    )
    assert status == 200 and "<h1>ML engineer</h1>" in body.decode()
    assert TOKEN not in body.decode()


def test_no_cors_unless_asked(server):
    preflight = {"Origin": "https://jobs.example.com", "Access-Control-Request-Method": "POST"}
    status, headers, _ = server.request("OPTIONS", "/v1/classify", headers=preflight)
    assert status == 405 and "access-control-allow-origin" not in headers
    with running_server("--cors", "https://jobs.example.com") as cors:
        status, headers, _ = cors.request("OPTIONS", "/v1/classify", headers=preflight)
        assert status == 200
        assert headers["access-control-allow-origin"] == "https://jobs.example.com"
        other = {**preflight, "Origin": "https://evil.example"}
        status, headers, _ = cors.request("OPTIONS", "/v1/classify", headers=other)
        assert "access-control-allow-origin" not in headers
    result = subprocess.run(
        [sys.executable, "-m", "rolecli", "serve", "--cors", "jobs.example.com/path"],
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2 and "is not an origin" in one_line(result.stderr)


def test_one_log_line_per_request_and_no_posting_text(tmp_path):
    marker = "Zyxwvut-confidential-posting-words"
    with running_server() as server:
        server.post_json("/v1/classify", {"text": f"{marker} {ENGINEER}"})
        server.request("POST", "/", *multipart({"text": f"{marker} {ENGINEER}"}))
        server.request("POST", "/v1/classify", b"{", {"Content-Type": "application/json"})
        server.request("GET", "/%1b[31m/%0a/evil?text=" + marker)
        server.request("POST", "/", b"garbage", {"Content-Type": "multipart/form-data; boundary=x"})
        log = server.log(lines=7)
    lines = log.strip().splitlines()
    assert lines[0].startswith("rolecli serve: http://127.0.0.1:")
    requests = lines[1:]
    assert all(LOG_LINE.fullmatch(line) for line in requests), requests
    assert [line.split()[2:4] for line in requests] == [
        ["GET", "/healthz"], ["POST", "/v1/classify"], ["POST", "/"], ["POST", "/v1/classify"],
        ["GET", "/%1b[31m/%0a/evil"], ["POST", "/"],
    ]
    assert [line.split()[4] for line in requests] == ["200", "200", "200", "400", "404", "400"]
    assert marker not in log and "Traceback" not in log and "\x1b" not in log


def test_startup_errors_are_one_line(rolecli, tmp_path):
    result = rolecli("serve", "--port", "0", "--model", tmp_path / "missing", timeout=60)
    assert result.returncode == 2  # a path that does not exist is a usage error
    assert "rolecli train" in one_line(result.stderr)
    with running_server() as server:
        result = rolecli("serve", "--port", str(server.port), timeout=60)
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1" in one_line(result.stderr)


def test_without_the_extra_serve_names_it():
    code = (
        "import sys\n"
        "sys.modules['uvicorn'] = None  # as if rolecli[serve] were not installed\n"
        "sys.argv = ['rolecli', 'serve']\n"
        "from rolecli.cli.main import run\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "pip install 'rolecli[serve]'" in one_line(result.stderr)


def test_the_cli_does_not_import_the_server_stack():
    code = (
        "import sys\n"
        "from rolecli.cli.main import app\n"
        "heavy = {'starlette', 'uvicorn', 'anyio', 'python_multipart', 'h11'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_several_workers_serve_the_same_answers(rolecli):
    expected = cli_json(rolecli, "classify", EXAMPLES / "data-scientist.txt")
    text = (EXAMPLES / "data-scientist.txt").read_text(encoding="utf-8")
    with running_server("--workers", "2") as server:
        for _ in range(8):
            status, _, body = server.request(
                "POST", "/v1/classify", json.dumps({"text": text}),
                {"Content-Type": "application/json"},
            )
            assert status == 200 and body == expected
