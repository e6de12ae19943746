"""Property tests of the request parsers of `rolecli serve` on arbitrary JSON and bytes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
from rolecli.serve.requests import RequestError, batch_items, posting_fields

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
REQUESTS = JSON | st.fixed_dictionaries(
    {"text": st.text() | JSON}, optional={"title": st.text() | JSON, "id": JSON}
)


@given(REQUESTS)
def test_any_json_value_is_a_posting_or_a_422(value):
    try:
        text, title = posting_fields(value)
    except RequestError as exc:
        assert exc.status == 422 and "\n" not in exc.message
        return
    assert isinstance(value, dict) and len(value["text"]) == len(text) and text.strip()
    assert title is None or (isinstance(title, str) and "\n" not in title)


@settings(max_examples=200, deadline=None)
@given(st.lists(REQUESTS.map(json.dumps).map(str.encode) | st.binary(max_size=40), max_size=8))
def test_any_jsonl_body_is_read_as_the_same_bytes_in_a_file(tmp_path_factory, lines):
    from rolecli.batch.config import BatchConfig
    from rolecli.batch.sources import items

    body = b"\n".join(lines)
    table = tmp_path_factory.mktemp("body") / "rows.jsonl"
    table.write_bytes(body)
    posted = list(batch_items(body))
    assert posted == list(items(BatchConfig(paths=(str(table),))))
    for item in posted:
        assert isinstance(item.id, str) and item.id
        item.id.encode("utf-8")  # writable by every output
        assert (item.error is None) != (item.text is None)
        assert item.title is None or "\n" not in item.title
