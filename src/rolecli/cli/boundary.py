"""The one error boundary: how a run ends, as one stderr line and an `errors.ExitCode`.

Commands raise; only this module turns an exception (an error, Ctrl-C, SIGTERM, a reader
that went away, click's usage errors) into the line and the code. It imports nothing heavy
(not Typer, which the app has loaded by the time anything fails).
"""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ExitCode, RoleCliError, Terminated
from ..escape import holds_unicode, visible

T = TypeVar("T")

INTERRUPTED = "rolecli: interrupted\n"
TERMINATED = "rolecli: terminated\n"

_debug = False


def show_tracebacks(on: bool) -> None:
    """--debug: an unexpected error prints its traceback instead of one line."""
    global _debug
    _debug = on


def debugging() -> bool:
    """--debug or ROLECLI_DEBUG=1: show the traceback of an unexpected error."""
    return _debug or os.environ.get("ROLECLI_DEBUG", "") not in ("", "0")


def error_line(message: str) -> str:
    """The one stderr line of an error: outside text in it is shown literally, on one line."""
    return f"rolecli: error: {visible(message)}\n"


def write_stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr itself is broken: nothing left to tell
        pass


def discard_stdout() -> None:
    """Point stdout at /dev/null so that the flush at exit cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout closed (>&-) or replaced
        pass


def _typer() -> Any:
    import typer  # loaded by then: only the app raises what needs it

    return typer


def _click_error(name: str) -> Any:
    """One of click's exception classes: Typer bundles click in some versions and depends
    on it in others, so find it through Typer's own BadParameter either way."""
    return next(cls for cls in _typer().BadParameter.__mro__ if cls.__name__ == name)


def _endings() -> tuple[type[BaseException], ...]:
    """How commands end on purpose (typer.Exit is click's Exit where Typer uses click)."""
    typer = _typer()
    return (typer.Exit, typer.Abort, _click_error("ClickException"))


def exit_code_for(exc: BaseException) -> int:
    """Any failure as its stderr line (written here) and its exit code.

    Expected failures (RoleCliError) and click's usage errors print their message; Ctrl-C
    and SIGTERM print what happened; a reader that went away (`| head`) is a normal end; an
    output that cannot be written is exit 2; anything else is a bug: one line naming it, or
    the traceback with --debug.
    """
    typer = _typer()
    if isinstance(exc, _click_error("UsageError")):
        if type(exc).__name__ == "NoArgsIsHelpError":
            # `rolecli model`: its help, as asked for, not an error.
            typer.echo(exc.ctx.get_help())
            return int(ExitCode.OK)
        write_stderr(error_line(usage_message(exc)))
        return int(ExitCode.USAGE)
    if isinstance(exc, _click_error("ClickException")):
        write_stderr(error_line(exc.format_message()))
        return int(exc.exit_code)
    if isinstance(exc, RoleCliError):
        write_stderr(error_line(exc.cli_line()))
        return int(exc.exit_code)
    if isinstance(exc, Terminated):
        write_stderr(TERMINATED)
        return int(ExitCode.TERMINATED)
    if isinstance(exc, (KeyboardInterrupt, typer.Abort)):  # Abort: click's Ctrl-C
        write_stderr(INTERRUPTED)
        return int(ExitCode.INTERRUPTED)
    if isinstance(exc, BrokenPipeError):
        # Stop quietly, as other filters do: click would make it a silent exit 1, which
        # fails `set -o pipefail`.
        discard_stdout()
        return int(ExitCode.OK)
    if isinstance(exc, OSError):
        # Inputs report their own errors, so an OSError that reaches here is a failed write
        # (a full disk, /dev/full, a file-size limit): exit 2 as for any other output
        # rolecli cannot write (--html, --output).
        discard_stdout()
        write_stderr(error_line(_os_error_message(exc)))
        return int(ExitCode.USAGE)
    if debugging():
        import traceback  # only for --debug

        write_stderr("".join(traceback.format_exception(exc)))
    else:
        detail = " ".join(str(exc).split())[:200]
        write_stderr(error_line(
            f"unexpected {type(exc).__name__}{': ' + detail if detail else ''}; this is a bug "
            "in rolecli: please report it with the command that caused it (rerun with --debug "
            "or ROLECLI_DEBUG=1 for the traceback)"
        ))
    return int(ExitCode.BUG)


def guard(command: Callable[..., T], *args: Any) -> T:
    """Run a command (every command and subcommand, by the app's group) inside the boundary,
    whether started by the console script or in-process (Typer's CliRunner): its failures
    end it as typer.Exit with their code; the endings click handles pass through to `run`."""
    try:
        return command(*args)
    except _endings():
        raise
    except BaseException as exc:
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        raise _typer().Exit(exit_code_for(exc)) from None


def run(app: Callable[..., Any]) -> None:
    """The console script's run of the app: what fails outside a command (click's usage
    errors, while parsing options) meets the same boundary; then exit with the code."""
    _guard_std_streams()
    signal.signal(signal.SIGTERM, _terminate)
    stdout_before = _identity(1)
    try:
        code = app(standalone_mode=False)
    except SystemExit as exc:
        # click (`rolecli --help | head -c 1`) and Rich (Console.on_broken_pipe, for the text
        # views) end a broken pipe with a silent exit 1; here it is a normal end, exit 0.
        if exc.code != 1 or not _pipe_was_broken(stdout_before):
            raise
        discard_stdout()
        code = ExitCode.OK
    except (Exception, KeyboardInterrupt) as exc:
        code = exit_code_for(exc)
    _flush_quietly()
    sys.exit(int(code) if isinstance(code, int) else 0)


_NOT_ONE_OF = re.compile(r"^.*?: '(?P<got>.*)' is not one of (?P<choices>.*)\.$", re.S)


def usage_message(exc: Any) -> str:
    """click's usage errors in rolecli's words, with a pointer to the command's help."""
    message = exc.format_message()
    command = exc.ctx.command_path if exc.ctx else "rolecli"
    param = getattr(exc, "param", None)
    choice = _NOT_ONE_OF.match(message)
    if param is not None and choice is not None:
        name = max(param.opts, key=len)
        choices = choice["choices"].replace("'", "")
        message = f"{name} must be one of {choices} (got '{choice['got']}')"
    elif message.startswith("Got unexpected extra argument") and exc.ctx and \
            exc.ctx.info_name in ("classify", "explain"):
        return (f"{exc.ctx.info_name} takes one posting; to score several, use "
                "`rolecli batch FILE...` (see `rolecli batch --help`)")
    return f"{message} (see `{command} --help`)"


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C (a batch flushes its rows first), then exits 143."""
    raise Terminated


_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EBADF}


class _ClosedStdout(io.TextIOBase):
    """Stands in for a stdout closed by the shell (`>&-`): writing to it is an error."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")


def _guard_std_streams() -> None:
    """Closed standard streams (`<&-`, `>&-`, `2>&-`) become clear errors, not crashes.

    /dev/null takes each closed descriptor so that a file opened later (an --output) cannot
    become fd 0-2 and receive stray writes; sys.stdin stays None, which `read_stdin` reports.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            spare = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: fd itself
            if spare != fd:
                os.dup2(spare, fd)
                os.close(spare)
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    if sys.stderr is None:  # nobody can read diagnostics: drop them
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        _writable_in_any_encoding(stream)


def _writable_in_any_encoding(stream: Any) -> None:
    """A stream in ASCII or Latin-1 (PYTHONIOENCODING, a non-UTF-8 locale) writes what its
    encoding lacks as backslash escapes instead of failing; JSON output escapes such
    characters itself (jsonout, batch's writers), so it stays valid JSON."""
    if not holds_unicode(stream) and isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")


def _identity(file: int | str) -> tuple[int, int] | None:
    """(device, inode) of a descriptor or a path, None when it cannot be read."""
    try:
        stat = os.stat(file)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _pipe_was_broken(stdout_before: tuple[int, int] | None) -> bool:
    """Whether click or Rich has just handled a broken pipe on stdout."""
    if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # click's mark
        return True
    # Rich's mark: stdout's descriptor now points at /dev/null, where it did not before.
    devnull = _identity(os.devnull)
    return devnull is not None and _identity(1) == devnull != stdout_before


def _os_error_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if exc.filename:
        return f"{exc.filename}: {reason}"
    if exc.errno in _WRITE_ERRNOS:
        return f"cannot write output ({reason})"
    return f"input/output error ({reason})"


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):  # a broken pipe, a full disk, or stdout closed (>&-)
        discard_stdout()
