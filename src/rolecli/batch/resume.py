"""The --output file: opened and locked, its run record, and --resume.

A resumable output (jsonl, csv) has a run record beside it: the model and the inputs
that wrote it. --resume checks the record and then the output itself: every record must
be a batch row whose id one of the inputs gives. What is safe to repair is repaired (a torn
last row cut off; a row repeated byte for byte dropped; a csv header missing, repeated or
moved, put back at the top); anything else (one id with two different rows, an id no input
gives, a record that is not a row) is refused. It then tells the run which ids to skip.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import UsageError
from ..escape import json_text, spreadsheet_cell
from ..io.tables import ID_FIELD, unbounded_fields
from ..model.scorer import Scorer
from ..text.roles import ROLE_NAMES
from .config import BatchConfig
from .items import Row
from .sources import file_key, input_named_by
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
# A row of an output is a few hundred bytes past its id: a record longer than this is no
# batch row, and is never held whole; a run record is far smaller than its limit.
MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_RUN_RECORD_BYTES = 1024 * 1024


def _same(item_id: str) -> str:
    return item_id


@dataclass
class Resumed:
    """Rows already in an output file that --resume keeps."""

    ids: set[str] = field(default_factory=set)  # as the output holds them
    errors: int = 0
    has_header: bool = False
    # How the output holds an input's id (a csv output escapes formula-like cells).
    stored: Callable[[str], str] = _same
    repairs: list[str] = field(default_factory=list)  # what was repaired, in words
    # Byte ranges of the records to keep, in order, when the file must be rewritten.
    keep: list[tuple[int, int]] = field(default_factory=list)

    def has(self, item_id: str) -> bool:
        """Whether the output already holds the row of this (unique) input id."""
        return self.stored(item_id) in self.ids


RUN_RECORD_SUFFIX = ".rolecli-run.json"
RUN_RECORD_VERSION = 1


def run_record_path(output: Path) -> Path:
    """Beside each --output file: which model scored it, for which inputs (for --resume)."""
    return output.with_name(output.name + RUN_RECORD_SUFFIX)


def run_record(config: BatchConfig, scorer: Scorer, format: str,
               raw_cells: bool = False) -> dict[str, Any]:
    """What --resume must find unchanged: the model, the inputs as given, and the options
    that decide which items there are and what their ids are (and, for csv, whether its
    cells are written raw or escaped)."""
    inputs: dict[str, Any] = {
        "paths": [os.path.abspath(p) for p in config.paths], "globs": list(config.globs),
        "text_column": config.text_column, "id_column": config.id_column,
        # Ids come from this field without --id-column (records before it numbered rows).
        "id_field": ID_FIELD,
    }
    if config.follow_links:  # (only then: the records of earlier runs stay valid)
        inputs["follow_links"] = True
    record = {
        "rolecli_batch_run": RUN_RECORD_VERSION, "format": format,
        "model": {"id": scorer.model_id, "sha256": scorer.sha256},
        "inputs": inputs,
        "inputs_sha256": hashlib.sha256(json_text(inputs).encode("utf-8")).hexdigest(),
    }
    if format == "csv":
        record["csv_cells"] = "raw" if raw_cells else "escaped"
    return record


def refuse_input_as_output(config: BatchConfig, output: Path) -> None:
    """An --output that is an input (given as a PATH, or a file batch would read in an input
    folder, by any name: a link, a hard link) would be destroyed by --force or grown by
    --resume: refused before anything is written. An earlier output of batch (its run
    record beside it) inside an input folder is not an input: the walk leaves it out."""
    key = file_key(output)
    if key is None:
        return
    for raw in config.paths:
        if file_key(Path(raw)) == key:
            raise UsageError(f"output {output} is one of the inputs ({raw})", "name another file",
                             cli_message=f"--output {output} is one of the inputs ({raw})")
    if _is_batch_output(output):
        return
    found = input_named_by(config, key)
    if found is not None:
        which = f"{output} is one of the inputs ({found}, which batch would read)"
        raise UsageError(f"output {which}", "name a file outside the inputs",
                         cli_message=f"--output {which}")


def _is_batch_output(output: Path) -> bool:
    """Whether `output` was written by rolecli batch: its run record is beside it."""
    path = run_record_path(output)
    try:
        if not path.is_file() or path.stat().st_size > MAX_RUN_RECORD_BYTES:
            return False
        found = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(found, dict) and "rolecli_batch_run" in found


def open_output(
    output: Path, format: str, resume: bool, force: bool, record: dict[str, Any] | None = None,
    precision: int = DEFAULT_PRECISION, writers: Mapping[str, WriterFactory] = WRITERS,
    input_ids: Callable[[], Iterable[str]] | None = None,
) -> tuple[RowWriter, Resumed]:
    """A writer appending to (--resume), replacing (--force) or creating the output file.

    The file is locked (exclusively, for as long as the writer is open) before it is read
    or cut, so two runs can never write the same output. `record` (run_record) is kept
    beside a resumable output; --resume refuses an output whose record differs, and (given
    `input_ids`, every unique id the inputs give) one holding an id no input gives.
    """
    if resume and force:
        raise UsageError("resume and force contradict each other", "pick one",
                         cli_message="--resume and --force contradict each other", join=": ")
    if output.is_dir():
        raise UsageError(f"output {output} is a directory", "name a file",
                         cli_message=f"--output {output} is a directory")
    resumable = format in RESUMABLE_FORMATS
    if resume and not resumable:
        raise UsageError(
            f"resume needs format jsonl or csv (a {format} output cannot be appended to)",
            cli_message=f"--resume needs --format jsonl or csv (a {format} output cannot be "
            "appended to)",
        )
    if not resume and not force and output.exists():
        raise UsageError(
            f"{output} exists; pass resume=True to score only what it lacks, or force=True to "
            "overwrite it", "add --resume to score only what it lacks, or --force to overwrite it",
            cli_message=f"{output} exists",
        )
    file = _locked(output)
    try:
        resumed = Resumed()
        if resume and os.fstat(file.fileno()).st_size:
            _check_record(output, record)
            escaped = format == "csv" and (record or {}).get("csv_cells") == "escaped"
            stored = spreadsheet_cell if escaped else _same
            known = {stored(i) for i in input_ids()} if input_ids is not None else None
            resumed = read_resumable(file, output, format, known, stored)
            if resumed.repairs:
                file = _rewritten(file, output, format, resumed)
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
            f"{output} is being written by another rolecli batch (it holds the file's lock)",
            "wait for that run to finish, or choose another --output",
        ) from None
    return file


# The remedy for an output that cannot be resumed, as the CLI says it (the error's hint).
START_OVER = "use --force to start over"


def _check_record(output: Path, record: dict[str, Any] | None) -> None:
    if record is None:
        return
    path = run_record_path(output)
    hint = f"resume with the same model, PATHs and options, or {START_OVER}"
    if path.exists() and not path.is_file():  # a FIFO would block, a device flood
        raise UsageError(
            f"{path}: cannot resume: the run record is not a regular file", START_OVER
        )
    try:
        if path.stat().st_size > MAX_RUN_RECORD_BYTES:
            raise ValueError("over 1 MiB")
        found = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(
            f"{output}: cannot resume: no record of the run that wrote it ({path.name} is "
            f"missing), so its model and inputs cannot be checked", START_OVER
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(
            f"{path}: cannot resume: unreadable run record ({type(exc).__name__})", START_OVER
        ) from None
    if not isinstance(found, dict):
        found = {}
    if found.get("format") != record["format"]:
        raise UsageError(
            f"{output}: cannot resume: it was written as {found.get('format')!r}, this run "
            f"writes {record['format']!r}", hint
        )
    model: dict[str, Any] = found["model"] if isinstance(found.get("model"), dict) else {}
    if model.get("sha256") != record["model"]["sha256"]:
        raise UsageError(
            f"{output}: cannot resume: it was scored by model {model.get('id')!r}, this run "
            f"uses {record['model']['id']!r}",
            "pass that model with --model, or use --force to start over",
        )
    if found.get("inputs_sha256") != record["inputs_sha256"]:
        raise UsageError(
            f"{output}: cannot resume: it was written for other inputs or options "
            f"({_describe_inputs(found.get('inputs'))})", hint
        )
    # Outputs from before formula escaping have raw cells and no word on it.
    cells = found.get("csv_cells", "raw") if record["format"] == "csv" else None
    if cells != record.get("csv_cells"):
        how = {"raw": "raw cells (--raw-csv)", "escaped": "formula-escaped cells"}
        raise UsageError(
            f"{output}: cannot resume: it was written with {how.get(str(cells), 'unknown cells')}"
            f", this run writes {how[record['csv_cells']]}",
            "resume with the same choice, or use --force to start over",
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


def read_resumable(
    handle: IO[bytes], output: Path, format: str, known: set[str] | None = None,
    stored: Callable[[str], str] = _same,
) -> Resumed:
    """The ids of the complete rows of an earlier run's output, checked; what is safe to
    repair is listed in `repairs` (and the file cut or rewritten by the caller), the rest
    refused with a UsageError saying why. `known`: the ids the inputs give, as stored.

    The file is read record by record: only the ids (and each row's hash, to tell a
    repeated row from a different one with the same id) are kept in memory.
    """
    handle.seek(0)
    size = os.fstat(handle.fileno()).st_size
    resumed = Resumed(stored=stored)
    first: dict[str, tuple[int, int]] = {}  # id -> (record number, hash of the record)
    headers: list[int] = []
    repeated = blank = 0
    end = start = 0
    # Read through a buffer of its own over the same descriptor (a raw file reads a line a
    # byte at a time); the caller's handle stays open and is positioned explicitly after.
    reader = open(handle.fileno(), "rb", closefd=False)  # noqa: SIM115
    records = _records(reader, quoted=format == "csv")
    for number, (record, record_end, whole) in enumerate(records, start=1):
        start, end = end, record_end
        if whole and record and not record.strip():  # a blank line (an editor's): dropped
            blank += 1
            continue
        row = _parse_record(record, format) if whole else None
        if row is None:
            # A crash tears the last row (it has not ended yet); anything else is damage.
            if record_end < size or whole:
                raise UsageError(
                    f"{output}: record {number} is not a rolecli batch {format} row; "
                    "cannot resume (use --force to start over)"
                )
            end = start
            break
        if isinstance(row, str):  # the csv header
            headers.append(number)
            continue
        item_id = row["id"]
        digest = hash(record)
        if item_id in first:
            if first[item_id][1] != digest:
                raise UsageError(
                    f"{output}: cannot resume: records {first[item_id][0]} and {number} are "
                    f"two different rows for the id {_shown(item_id)}; keep the right one, "
                    "or use --force to start over"
                )
            repeated += 1
            continue
        if known is not None and item_id not in known:
            raise UsageError(
                f"{output}: cannot resume: record {number} is a row for {_shown(item_id)}, "
                "which none of the inputs gives (the output was written for other inputs, or "
                "edited); remove that row, or use --force to start over"
            )
        first[item_id] = (number, digest)
        resumed.ids.add(item_id)
        resumed.errors += row["status"] == "error"
        resumed.keep.append((start, end))
    resumed.has_header = bool(headers) or format != "csv"
    if repeated:
        resumed.repairs.append(f"dropped {repeated} repeated row{'s' * (repeated > 1)}")
    if blank:
        resumed.repairs.append(f"dropped {blank} blank line{'s' * (blank > 1)}")
    if format == "csv" and resumed.ids and headers != [1]:
        resumed.repairs.append(
            "put back the missing csv header" if not headers
            else "moved the csv header to the top" if len(headers) == 1
            else f"kept one of {len(headers)} csv headers, at the top"
        )
    if not resumed.repairs and end < size:
        handle.truncate(end)  # a torn last row: cut off, then scored again
    return resumed


def _shown(item_id: str) -> str:
    return repr(item_id if len(item_id) <= 80 else item_id[:80] + "...")


def _rewritten(file: IO[bytes], output: Path, format: str, resumed: Resumed) -> IO[bytes]:
    """The output rewritten as `resumed` says (its header first, the rows kept in order),
    into a new file that is locked before it replaces the old one, so that no other run can
    take the output in between; returns the new file, positioned at its end."""
    import fcntl

    real = Path(os.path.realpath(output))  # a link to the output stays a link
    fd, name = _temporary_beside(real)
    new = os.fdopen(fd, "r+b", buffering=0)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if format == "csv":
            new.write(_csv_line(CSV_COLUMNS))
        for start, end in resumed.keep:
            file.seek(start)
            new.write(file.read(end - start))
        with suppress(OSError):
            os.chmod(fd, os.fstat(file.fileno()).st_mode & 0o7777)
        os.fsync(fd)
        os.replace(name, real)
    except OSError as exc:
        new.close()
        with suppress(OSError):
            os.unlink(name)
        raise UsageError(f"cannot repair {output} for --resume ({exc.strerror or exc})") from None
    file.close()
    resumed.has_header = True
    resumed.keep = []
    return new


def _temporary_beside(path: Path) -> tuple[int, str]:
    import tempfile

    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot repair {path} for --resume ({exc.strerror or exc})") from None


def _csv_line(fields: Iterable[str]) -> bytes:
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(fields)
    return line.getvalue().encode("utf-8")


def _records(handle: IO[bytes], quoted: bool) -> Iterator[tuple[bytes, int, bool]]:
    """(record, offset of its end, whether it ended) for each newline-ended record, and a
    last one that has not ended (a crash tore it).

    With `quoted`, a newline inside a quoted CSV field does not end the record: the csv
    module doubles quotes inside fields, so a record is complete when its quotes pair up.
    """
    offset = 0
    record = b""
    while line := handle.readline(MAX_RECORD_BYTES + 1 - len(record)):
        record += line
        if len(record) > MAX_RECORD_BYTES:  # no batch row is this long: skipped to its end
            ended = line.endswith(b"\n")
            while not ended and (line := handle.readline(1 << 16)):
                ended = line.endswith(b"\n")
            offset = handle.tell()
            yield b"", offset, ended
            record = b""
            continue
        if not line.endswith(b"\n") or (quoted and record.count(b'"') % 2):
            continue
        offset += len(record)
        yield record, offset, True
        record = b""
    if record:
        yield record, offset + len(record), False


LABELS = tuple(ROLE_NAMES)


def _parse_record(record: bytes, format: str) -> Row | str | None:
    """The row (or "header") a complete record holds; None for a torn or foreign one.

    A row is a row as batch writes it: a text id, a status, and for an ok row a known
    label (or none, off-topic) and probabilities between 0 and 1; for an error row its reason.
    """
    if not record.endswith(b"\n"):
        return None
    try:
        text = record.decode("utf-8")
        if format == "jsonl":
            row = json.loads(text)
            # Valid JSON is not yet a row: it must be an object with a text id and a status.
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                return None
            probabilities = row.get("probabilities")
            scientist = probabilities.get("scientist") if isinstance(probabilities, dict) \
                else None
            return row if _usable(row.get("status"), row.get("label"), scientist,
                                  row.get("error")) else None
        with unbounded_fields():
            fields = next(csv.reader(io.StringIO(text)))
    # ValueError: bad JSON, or an integer of thousands of digits; RecursionError: nesting.
    except (UnicodeDecodeError, ValueError, RecursionError, StopIteration, csv.Error):
        return None
    if tuple(fields) == CSV_COLUMNS:
        return "header"
    if len(fields) != len(CSV_COLUMNS):
        return None
    row = dict(zip(CSV_COLUMNS, fields))
    try:
        scientist = float(row["probabilities.scientist"]) if row["status"] == "ok" else None
    except ValueError:
        return None
    if not _usable(row["status"], row["label"] or None, scientist, row["error"] or None):
        return None
    return {"id": fields[0], "status": fields[1]}


def _usable(status: Any, label: Any, scientist: Any, error: Any) -> bool:
    if status == "error":
        return isinstance(error, str) and bool(error)
    return (
        status == "ok" and (label is None or label in LABELS)
        and isinstance(scientist, (int, float)) and not isinstance(scientist, bool)
        and 0.0 <= scientist <= 1.0
    )
