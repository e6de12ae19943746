"""The API's OpenAPI 3.1 schema, written by hand to match what the routes do.

The tests validate every answer of the running server against these schemas.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..io.documents import MAX_INPUT_BYTES
from ..io.sheets import SHEET_TYPES
from ..io.tables import MAX_ID_CHARS, MAX_TITLE_CHARS
from .connection import HEAD_SECONDS
from .requests import BODY_SECONDS, JSON_TYPES, JSONL_TYPES, MAX_BATCH_ITEMS

_LABEL = {"type": ["string", "null"], "enum": ["engineer", "scientist", "mixed", None]}
_PROBABILITIES = {
    "type": "object",
    "required": ["engineer", "scientist"],
    "properties": {
        "engineer": {"type": "number", "minimum": 0, "maximum": 1},
        "scientist": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
_MODEL = {
    "type": "object",
    "required": ["id", "sha256"],
    "properties": {"id": {"type": "string"}, "sha256": {"type": "string"}},
}
_SPAN = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
_TITLE = {
    "type": ["object", "null"],
    "description": "The title check: the title (given, or the posting's own title line), "
    "its label by the title rule, how the body compares (grade: agrees, leans the other way "
    "or only partly its way, contradicts), and agrees: false only when the body "
    "contradicts the title (null in a batch error row).",
    "required": ["text", "label", "agrees", "grade"],
    "properties": {
        "text": {"type": ["string", "null"]},
        "label": _LABEL,
        "agrees": {"type": ["boolean", "null"]},
        "grade": {"type": ["string", "null"], "enum": ["agrees", "leans", "contradicts", None]},
    },
}
_FAMILY = {
    "type": ["string", "null"],
    "enum": ["data_engineer", "data_analyst", "software", "other", None],
    "description": "Off-topic: the job family the text reads as; null for an ML posting.",
}
_SHORT = {"type": ["boolean", "null"],
          "description": "The verdict rests on little text (its confidence is low)."}
_WHAT_IF = {
    "type": ["object", "null"],
    "description": "What would change the verdict: the fewest of the posting's strongest "
    "lines whose removal changes it, and the verdict without them (exact: scoring the "
    "posting without those lines gives it).",
    "required": ["sentence", "lines", "label", "changed", "probabilities"],
    "properties": {
        "sentence": {"type": "string"},
        "lines": {"type": "array", "items": {
            "type": "object", "required": ["start", "end"],
            "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}}}},
        "label": _LABEL,
        "changed": {"type": "boolean"},
        "probabilities": _PROBABILITIES,
    },
}
_VERDICT_REQUIRED = [
    "label", "probabilities", "confidence", "confidence_text", "off_topic", "off_topic_family",
    "short_text", "reasons", "title", "title_check", "what_if",
]
_VERDICT_PROPERTIES = {
    "label": {**_LABEL, "description": "null when the text is off-topic."},
    "probabilities": _PROBABILITIES,
    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "confidence_text": {"type": "string", "description": "The confidence in words."},
    "off_topic": {"type": "boolean"},
    "off_topic_family": _FAMILY,
    "short_text": _SHORT,
    "what_if": _WHAT_IF,
    "reasons": {
        "type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3,
        "description": "One to three plain-language reasons; what they quote is in the posting.",
    },
    "title": _TITLE,
    "title_check": {"type": ["string", "null"], "description": "The title check in a sentence."},
}
_POSTING_PROPERTIES = {
    "text": {
        "type": "string",
        "description": "The posting's text: not empty, not binary, at most 8 MiB as UTF-8.",
    },
    "title": {
        "type": ["string", "null"],
        "maxLength": MAX_TITLE_CHARS,
        "description": "The posting's job title, one line, checked against the body by "
        "the title rule (never scored with it).",
    },
}

SCHEMAS: dict[str, Any] = {
    "Posting": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": _POSTING_PROPERTIES,
    },
    "BatchItem": {
        "type": "object",
        "description": "One row, read as `rolecli batch` reads a JSONL file: other fields "
        "are ignored, as a table's other columns are.",
        "required": ["text"],
        "properties": {
            "id": {"type": ["string", "number"], "description": "Echoed as a string; without "
                   "one, the row's number (1-based, blank lines not counted). A repeated id "
                   "gets a ~2, ~3... suffix."},
            **_POSTING_PROPERTIES,
        },
    },
    "Classification": {
        "type": "object",
        "description": "Exactly what `rolecli classify --format json` prints.",
        "required": [*_VERDICT_REQUIRED, "top_terms", "model"],
        "properties": {
            **_VERDICT_PROPERTIES,
            "top_terms": {
                "type": "object",
                "required": ["engineer", "scientist"],
                "properties": {
                    "engineer": {"type": "array", "items": {"type": "string"}},
                    "scientist": {"type": "array", "items": {"type": "string"}},
                },
            },
            "model": _MODEL,
        },
    },
    "Explanation": {
        "type": "object",
        "description": "Exactly what `rolecli explain --format json` prints.",
        "required": [
            *_VERDICT_REQUIRED, "mixed_grounds", "logit", "intercept", "how", "terms",
            "sentences", "unlisted_lines", "sections", "named_roles", "closest_article",
            "model", "limits",
        ],
        "properties": {
            **_VERDICT_PROPERTIES,
            "mixed_grounds": {"type": "array", "items": {
                "type": "string", "enum": ["named", "split", "band"]}},
            "logit": {"type": "number"},
            "intercept": {"type": "number"},
            "how": {"type": "string"},
            "terms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["term", "contribution", "occurrences", "spans"],
                    "properties": {
                        "term": {"type": "string"},
                        "contribution": {"type": "number"},
                        "occurrences": {"type": "integer", "minimum": 1},
                        "spans": {"type": "array", "items": _SPAN},
                    },
                },
            },
            "sentences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "text", "start", "end", "contribution", "decisive", "section", "heading"
                    ],
                    "properties": {
                        "text": {"type": "string"},
                        "start": {"type": "integer"},
                        "end": {"type": "integer"},
                        "contribution": {"type": "number"},
                        "decisive": {"type": "boolean"},
                        "section": {"type": "string"},
                        "heading": {"type": "boolean"},
                    },
                },
            },
            "unlisted_lines": {
                "type": "object", "required": ["count", "contribution"],
                "properties": {"count": {"type": "integer"}, "contribution": {"type": "number"}},
            },
            "sections": {"type": "array", "items": {
                "type": "object", "required": ["kind", "start", "end", "heading"],
                "properties": {"kind": {"type": "string"}, "start": {"type": "integer"},
                               "end": {"type": "integer"},
                               "heading": {"oneOf": [_SPAN, {"type": "null"}]}},
            }},
            "named_roles": {"type": "array", "items": {
                "type": "object", "required": ["text", "start", "end", "label"],
                "properties": {"text": {"type": "string"}, "start": {"type": "integer"},
                               "end": {"type": "integer"}, "label": _LABEL},
            }},
            "limits": {"type": "object"},
            "closest_article": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "label", "text", "similarity"],
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string", "enum": ["engineer", "scientist"]},
                        "text": {"type": "string"},
                        "similarity": {"type": "number"},
                    },
                },
            },
            "model": _MODEL,
        },
    },
    "BatchRow": {
        "type": "object",
        "description": "One row of `rolecli batch --format jsonl`: status ok with a verdict, "
        "or status error with the reason and nulls.",
        "required": [
            "id", "status", "label", "probabilities", "confidence", "off_topic",
            "off_topic_family", "short_text", "title", "error",
        ],
        "properties": {
            "id": {"type": "string", "description": "The id sent, or the row's number."},
            "status": {"type": "string", "enum": ["ok", "error"]},
            "label": _LABEL,
            "probabilities": {"oneOf": [_PROBABILITIES, {"type": "null"}]},
            "confidence": {"type": ["number", "null"]},
            "off_topic": {"type": ["boolean", "null"]},
            "off_topic_family": _FAMILY,
            "short_text": _SHORT,
            "title": _TITLE,
            "error": {"type": ["string", "null"]},
        },
    },
    "ModelCard": {
        "type": "object",
        "description": "The model's card.json: id, training data, hyperparameters, "
        "calibration, thresholds, metrics, library versions and file hashes.",
        "required": ["model_id", "thresholds", "files"],
        "properties": {"model_id": {"type": "string"}},
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {"error": {"type": "string", "description": "One line saying why."}},
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


_ERRORS = {
    "400": _error("Malformed JSON or body."),
    "401": _error("Missing or wrong bearer token (only when the server has a token)."),
    "408": _error(f"The request head took over {HEAD_SECONDS} s, or the body over "
                  f"{BODY_SECONDS} s, to arrive."),
    "413": _error(f"The body is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB."),
    "415": _error("Wrong Content-Type."),
    "503": _error("Too many open connections (from this client, or in all), a large request "
                  "that waited too long for its turn, or a server that is stopping; retry."),
}


def _posting_operation(summary: str, result: str, cli: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": f"Answers exactly what `{cli}` prints for the same text.",
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {media: {"schema": _ref("Posting")} for media in JSON_TYPES},
        },
        "responses": {
            "200": {
                "description": "The answer, also for off-topic text (label null, off_topic true).",
                "content": {"application/json": {"schema": _ref(result)}},
            },
            "422": _error("Wrong types, unknown fields, or unusable text (empty, binary)."),
            **_ERRORS,
        },
    }


def openapi() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rolecli",
            "version": __version__,
            "description": "Is this machine-learning job an ML engineer, an ML scientist, or "
            "mixed? Every request body is limited to 8 MiB. When the server was started with "
            "a token, every /v1 call needs `Authorization: Bearer TOKEN`.",
        },
        "paths": {
            "/v1/classify": {"post": _posting_operation(
                "Classify one posting", "Classification", "rolecli classify --format json"
            )},
            "/v1/explain": {"post": _posting_operation(
                "Explain one posting's verdict", "Explanation", "rolecli explain --format json"
            )},
            "/v1/batch": {"post": {
                "summary": "Classify many postings",
                "description": "A JSONL body, one BatchItem per line (blank lines skipped), "
                "answered as a JSONL stream of BatchRows in input order, byte for byte as "
                "`rolecli batch --format jsonl` writes them for the same lines in a file. A "
                "bad line (malformed JSON, wrong types, unusable text, an id over "
                f"{MAX_ID_CHARS} characters) is an error row; the others are still scored. "
                "Repeated ids get ~2, ~3... as in the CLI. At most "
                f"{MAX_BATCH_ITEMS:,} items per request (413 past that). "
                + SHEET_DESCRIPTION,
                "security": [{"bearer": []}],
                "parameters": _sheet_parameters(),
                "requestBody": {
                    "required": True,
                    "content": {
                        **{media: {"schema": _ref("BatchItem")} for media in JSONL_TYPES},
                        **_sheet_content(),
                    },
                },
                "responses": {
                    "200": {
                        "description": "One row per item, in input order; or the spreadsheet.",
                        "content": {"application/x-ndjson": {"schema": _ref("BatchRow")},
                                    **_sheet_content()},
                    },
                    "400": _error("No items (an empty body)."),
                    **{k: v for k, v in _ERRORS.items() if k != "400"},
                    "413": _error(f"The body is larger than {MAX_INPUT_BYTES // (1024 * 1024)} "
                                  f"MiB, or holds more than {MAX_BATCH_ITEMS:,} items."),
                },
            }},
            "/v1/model": {"get": {
                "summary": "The model card",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": "card.json of the model the server scores with.",
                        "content": {"application/json": {"schema": _ref("ModelCard")}},
                    },
                    "401": _ERRORS["401"],
                },
            }},
            "/healthz": {"get": {
                "summary": "Liveness: the server answers (no token needed)",
                "responses": {"200": {
                    "description": "Up.",
                    "content": {"application/json": {"schema": _ref("Health")}},
                }},
            }},
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


# -- /v1/batch with a spreadsheet ------------------------------------------------------------

SHEET_DESCRIPTION = (
    "A CSV (`text/csv`) or Excel (.xlsx) body is a spreadsheet of postings, one a row, with "
    "a header: it is answered with the same rows and rolecli's columns added (rolecli_label, "
    "rolecli_confidence, rolecli_title_check, rolecli_title_grade, rolecli_off_topic_reason, "
    "rolecli_top_reason, "
    "rolecli_error), in the format sent or the one `Accept` names. The text, title and id "
    "columns are picked from the header unless named. At most 5,000 rows and 8 MiB (413 or "
    "422 past them); cells that would start a formula are escaped with a leading '."
)


def _sheet_content() -> dict[str, Any]:
    return {media: {"schema": {"type": "string", "contentMediaType": media}}
            for media in SHEET_TYPES}


def _sheet_parameters() -> list[dict[str, Any]]:
    return [
        {"name": f"{what}_column", "in": "query", "required": False,
         "description": f"Spreadsheets: the {what} column's header (else picked from the "
                        "header)", "schema": {"type": "string"}}
        for what in ("text", "title", "id")
    ]

