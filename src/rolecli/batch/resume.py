"""The --output file: opened and locked, its run record, and --resume.

A resumable output (jsonl, csv) has a run record beside it: the model and the inputs
that wrote it. --resume checks the record, keeps the output's complete rows (a torn last
row is cut off) and tells the run which ids to skip.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import UsageError
from ..escape import json_text
from ..io.tables import ID_FIELD, unbounded_fields
from ..model.scorer import Scorer
from .config import BatchConfig
from .items import Row
from .writers import (
    CSV_COLUMNS,
    DEFAULT_PRECISION,
    JSON_TAIL,
    WRITERS,
    FileOutput,
    RowWriter,
    WriterFactory,
)

RESUMABLE_FORMATS = ("jsonl", "csv")


@dataclass
class Resumed:
    """Rows already in an output file that --resume keeps."""

    ids: set[str] = field(default_factory=set)
    errors: int = 0
    has_header: bool = False


RUN_RECORD_SUFFIX = ".rolecli-run.json"
RUN_RECORD_VERSION = 1


def run_record_path(output: Path) -> Path:
    """Beside each --output file: which model scored it, for which inputs (for --resume)."""
    return output.with_name(output.name + RUN_RECORD_SUFFIX)


def run_record(config: BatchConfig, scorer: Scorer, format: str) -> dict[str, Any]:
    """What --resume must find unchanged: the model, the inputs as given, and the options
    that decide which items there are and what their ids are."""
    inputs = {
        "paths": [os.path.abspath(p) for p in config.paths], "globs": list(config.globs),
        "text_column": config.text_column, "id_column": config.id_column,
        # Ids come from this field without --id-column (records before it numbered rows).
        "id_field": ID_FIELD,
    }
    return {
        "rolecli_batch_run": RUN_RECORD_VERSION, "format": format,
        "model": {"id": scorer.model_id, "sha256": scorer.sha256},
        "inputs": inputs,
        "inputs_sha256": hashlib.sha256(json_text(inputs).encode("utf-8")).hexdigest(),
    }


def refuse_input_as_output(config: BatchConfig, output: Path) -> None:
    """--output naming one of the inputs would destroy (--force) or grow (--resume) it."""
    if not output.exists():
        return
    for raw in config.paths:
        with suppress(OSError):
            if os.path.samefile(raw, output):
                raise UsageError(
                    f"--output {output} is one of the inputs ({raw}); name another file"
                )


def open_output(
    output: Path, format: str, resume: bool, force: bool, record: dict[str, Any] | None = None,
    precision: int = DEFAULT_PRECISION, writers: Mapping[str, WriterFactory] = WRITERS,
) -> tuple[RowWriter, Resumed]:
    """A writer appending to (--resume), replacing (--force) or creating the output file.

    The file is locked (exclusively, for as long as the writer is open) before it is read
    or cut, so two runs can never write the same output. `record` (run_record) is kept
    beside a resumable output; --resume refuses an output whose record differs.
    """
    if resume and force:
        raise UsageError("--resume and --force contradict each other: pick one")
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; name a file")
    resumable = format in RESUMABLE_FORMATS
    if resume and not resumable:
        raise UsageError(
            f"--resume needs --format jsonl or csv (a {format} output cannot be appended to)"
        )
    if not resume and not force and output.exists():
        raise UsageError(
            f"{output} exists; add --resume to score only what it lacks, or --force to overwrite it"
        )
    file = _locked(output)
    try:
        resumed = Resumed()
        if resume and os.fstat(file.fileno()).st_size:
            _check_record(output, record)
            resumed = read_resumable(file, output, format)
        else:
            file.truncate(0)
            if resumable and record is not None:
                _write_record(output, record)
        file.seek(0, os.SEEK_END)
        out = FileOutput(output, file, resumable, tail=JSON_TAIL if format == "json" else "")
        return writers[format](out, not resumed.has_header, precision), resumed
    except BaseException:
        file.close()
        raise


def _locked(output: Path) -> IO[bytes]:
    """The output opened for reading and writing (created if need be) and exclusively locked."""
    import fcntl

    try:
        # Not O_APPEND: a json output's writer rewrites its closing bracket in place.
        fd = os.open(output, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise UsageError(f"cannot write {output} ({exc.strerror or exc})") from None
    file = os.fdopen(fd, "r+b", buffering=0)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.close()
        raise UsageError(
            f"{output} is being written by another rolecli batch (it holds the file's lock); "
            "wait for that run to finish, or choose another --output"
        ) from None
    return file


def _check_record(output: Path, record: dict[str, Any] | None) -> None:
    if record is None:
        return
    path = run_record_path(output)
    hint = "resume with the same model, PATHs and options, or use --force to start over"
    if path.exists() and not path.is_file():  # a FIFO would block, a device flood
        raise UsageError(
            f"{path}: cannot resume: the run record is not a regular file; "
            "use --force to start over"
        )
    try:
        found = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(
            f"{output}: cannot resume: no record of the run that wrote it ({path.name} is "
            f"missing), so its model and inputs cannot be checked; use --force to start over"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(
            f"{path}: cannot resume: unreadable run record ({type(exc).__name__}); "
            "use --force to start over"
        ) from None
    if not isinstance(found, dict):
        found = {}
    if found.get("format") != record["format"]:
        raise UsageError(
            f"{output}: cannot resume: it was written as {found.get('format')!r}, this run "
            f"writes {record['format']!r}; {hint}"
        )
    model: dict[str, Any] = found["model"] if isinstance(found.get("model"), dict) else {}
    if model.get("sha256") != record["model"]["sha256"]:
        raise UsageError(
            f"{output}: cannot resume: it was scored by model {model.get('id')!r}, this run "
            f"uses {record['model']['id']!r}; pass that model with --model, or use --force "
            "to start over"
        )
    if found.get("inputs_sha256") != record["inputs_sha256"]:
        raise UsageError(
            f"{output}: cannot resume: it was written for other inputs or options "
            f"({_describe_inputs(found.get('inputs'))}); {hint}"
        )


def _describe_inputs(inputs: Any) -> str:
    if not isinstance(inputs, dict) or not isinstance(inputs.get("paths"), list):
        return "unknown"
    paths = ", ".join(map(str, inputs["paths"][:3]))
    return paths + (", ..." if len(inputs["paths"]) > 3 else "")


def _write_record(output: Path, record: dict[str, Any]) -> None:
    path = run_record_path(output)
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json_text(record) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path} ({exc.strerror or exc})") from None


def read_resumable(handle: IO[bytes], output: Path, format: str) -> Resumed:
    """The ids of the complete rows of an earlier run's output; a torn last row is cut off.

    The file is read record by record: only the ids are kept in memory.
    """
    handle.seek(0)
    size = os.fstat(handle.fileno()).st_size
    resumed = Resumed()
    end = 0
    records = _records(handle, quoted=format == "csv")
    for number, (record, record_end) in enumerate(records, start=1):
        row = _parse_record(record, format)
        if row is None:
            if record_end < size:  # damage before the last row is not a crash
                raise UsageError(
                    f"{output}: record {number} is not a rolecli batch {format} row; "
                    "cannot resume (use --force to start over)"
                )
            break
        if isinstance(row, str):  # the csv header
            resumed.has_header = True
        else:
            resumed.ids.add(row["id"])
            resumed.errors += row["status"] == "error"
        end = record_end
    if end < size:
        handle.truncate(end)
    return resumed


def _records(handle: IO[bytes], quoted: bool) -> Iterator[tuple[bytes, int]]:
    """(record, offset of its end) for each newline-ended record, and a last unended one.

    With `quoted`, a newline inside a quoted CSV field does not end the record: the csv
    module doubles quotes inside fields, so a record is complete when its quotes pair up.
    """
    offset = 0
    record = b""
    for line in handle:
        record += line
        if quoted and record.count(b'"') % 2 and line.endswith(b"\n"):
            continue
        offset += len(record)
        yield record, offset
        record = b""
    if record:
        yield record, offset + len(record)


def _parse_record(record: bytes, format: str) -> Row | str | None:
    """The row (or "header") a complete record holds; None for a torn or foreign one."""
    if not record.endswith(b"\n"):
        return None
    try:
        text = record.decode("utf-8")
        if format == "jsonl":
            row = json.loads(text)
            # Valid JSON is not yet a row: it must be an object with a text id and a status.
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                return None
            return row if row.get("status") in ("ok", "error") else None
        with unbounded_fields():
            fields = next(csv.reader(io.StringIO(text)))
    # ValueError: bad JSON, or an integer of thousands of digits; RecursionError: nesting.
    except (UnicodeDecodeError, ValueError, RecursionError, StopIteration, csv.Error):
        return None
    if tuple(fields) == CSV_COLUMNS:
        return "header"
    if len(fields) != len(CSV_COLUMNS) or fields[1] not in ("ok", "error"):
        return None
    return {"id": fields[0], "status": fields[1]}
