"""The API's OpenAPI 3.1 schema, written by hand to match what the routes do.

The tests validate every answer of the running server against these schemas.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..io.documents import MAX_INPUT_BYTES
from .requests import BODY_SECONDS, JSON_TYPES, JSONL_TYPES, MAX_TITLE_CHARS

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
    "its label by the title rule, and agrees: false when the body confidently reads as a "
    "role the title does not name (null in a batch error row).",
    "required": ["text", "label", "agrees"],
    "properties": {
        "text": {"type": ["string", "null"]},
        "label": _LABEL,
        "agrees": {"type": ["boolean", "null"]},
    },
}
_VERDICT_REQUIRED = [
    "label", "probabilities", "confidence", "confidence_text", "off_topic", "reasons",
    "title", "title_check",
]
_VERDICT_PROPERTIES = {
    "label": {**_LABEL, "description": "null when the text is off-topic."},
    "probabilities": _PROBABILITIES,
    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "confidence_text": {"type": "string", "description": "The confidence in words."},
    "off_topic": {"type": "boolean"},
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
            "id", "status", "label", "probabilities", "confidence", "off_topic", "title",
            "error",
        ],
        "properties": {
            "id": {"type": "string", "description": "The id sent, or the row's number."},
            "status": {"type": "string", "enum": ["ok", "error"]},
            "label": _LABEL,
            "probabilities": {"oneOf": [_PROBABILITIES, {"type": "null"}]},
            "confidence": {"type": ["number", "null"]},
            "off_topic": {"type": ["boolean", "null"]},
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
    "408": _error(f"The body took over {BODY_SECONDS} s to arrive."),
    "413": _error(f"The body is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB."),
    "415": _error("Wrong Content-Type."),
    "503": {"description": "Too many open connections; retry."},
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
                "bad line (malformed JSON, wrong types, unusable text) is an error row; the "
                "others are still scored.",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        media: {"schema": _ref("BatchItem")} for media in JSONL_TYPES
                    },
                },
                "responses": {
                    "200": {
                        "description": "One row per item, in input order.",
                        "content": {"application/x-ndjson": {"schema": _ref("BatchRow")}},
                    },
                    "400": _error("No items (an empty body)."),
                    **{k: v for k, v in _ERRORS.items() if k != "400"},
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
