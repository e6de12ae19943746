#!/usr/bin/env python3
"""Coverage-guided fuzzing of the request parsers of `rolecli serve` with atheris.

The first byte of an input picks the parser; the rest is a request body:
  0  a JSON body (`/v1/classify`, `/v1/explain`): `parse_json` then `posting_fields` return
     (text, title) or raise `RequestError` (status 400 or 422), nothing else;
  1  a JSONL body (`/v1/batch`): `batch_items` yields one Item per non-blank line (or
     refuses with 413 past MAX_BATCH_ITEMS), each with a unique string id of at most
     MAX_ID_CHARS characters (or "line N", "line N~2"...) and either an error or text;
     the same bytes encoded as UTF-16 or UTF-32 are refused as a JSON body (400);
  2  the page's form: the bytes up to the first newline are the boundary, the rest the
     multipart body; `parse_form` returns a Form of strings or raises `RequestError` 400.
Run it with fuzz/run.sh requests [SECONDS] (see fuzz/README.md).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["rolecli", "python_multipart"]):
    import python_multipart  # noqa: F401

    from rolecli.serve.requests import (
        MAX_BATCH_ITEMS,
        MAX_ID_CHARS,
        RequestError,
        batch_items,
        parse_form,
        parse_json,
        posting_fields,
    )


def check_json(body: bytes) -> None:
    try:
        text, title = posting_fields(parse_json(body))
    except RequestError as exc:
        assert exc.status in (400, 422) and "\n" not in exc.message, exc.message
        return
    assert isinstance(text, str) and text.strip(), text
    assert title is None or isinstance(title, str), title
    for encoding in ("utf-16", "utf-32-le"):  # JSON is UTF-8 only: these are refused
        try:
            parse_json(body.decode("utf-8").encode(encoding))
        except RequestError as exc:
            assert exc.status == 400
        else:
            raise AssertionError(f"a {encoding} body was accepted")


def check_jsonl(body: bytes) -> None:
    lines = sum(1 for line in body.split(b"\n") if line.strip())
    try:
        items = list(batch_items(body))
    except RequestError as exc:
        assert exc.status == 413 and lines > MAX_BATCH_ITEMS, exc.message
        return
    assert len(items) == lines
    assert len({item.id for item in items}) == len(items), "ids left equal"
    for item in items:
        assert isinstance(item.id, str) and item.id, item
        base = item.id.split("~")[0]
        assert len(base) <= MAX_ID_CHARS or base.startswith("line "), item.id
        assert (item.error is None) != (item.text is None), item
        item.id.encode("utf-8")  # every id can be written out


def check_form(data: bytes) -> None:
    boundary, _, body = data.partition(b"\n")
    content_type = "multipart/form-data; boundary=" + boundary.decode("latin-1")
    try:
        form = parse_form(content_type, body)
    except RequestError as exc:
        assert exc.status == 400 and "\n" not in exc.message, exc.message
        return
    for value in (form.text, form.title, form.token):
        assert isinstance(value, str)
    assert form.file is None or isinstance(form.file.data, bytes)


CHECKS = (check_json, check_jsonl, check_form)


def test_one_input(raw: bytes) -> None:
    if raw:
        CHECKS[raw[0] % len(CHECKS)](raw[1:])


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
