"""The `rolecli` command: a thin Typer app; each command lives in its own module."""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import sys
import traceback
from collections.abc import Mapping
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_command

from .. import __version__
from ..errors import ExitCode, RoleCliError, Terminated
from ..escape import visible
from .common import discard_stdout, error_line, write_stderr

# What each exit code means, and which a command can return (its --help footer lists those).
_EXIT_MEANINGS = {
    0: "ok",
    2: "usage error (bad option, missing path, directory given as FILE)",
    3: "unusable input (empty, binary, too large, not a job description)",
    4: "model missing, corrupted or incompatible",
    5: "batch finished with failed items",
    1: "an unexpected error (a bug: please report it)",
    130: "interrupted",
    143: "terminated",
}
_COMMON_CODES = (1, 130, 143)


def exit_codes_help(codes: tuple[int, ...] = tuple(_EXIT_MEANINGS)) -> str:
    return "Exit codes: " + "; ".join(f"{code} {_EXIT_MEANINGS[code]}" for code in codes) + "."


EXIT_CODES_HELP = exit_codes_help()

# Typer bundles click in some versions and depends on it in others; find its classes either way.
_CLICK_ERRORS = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
ClickException: Any = _CLICK_ERRORS["ClickException"]
ClickUsageError: Any = _CLICK_ERRORS["UsageError"]
# How commands end on purpose (typer.Exit is click's Exit where Typer uses click); the
# boundary lets these through.
_ENDINGS = (typer.Exit, typer.Abort, ClickException)


def debugging() -> bool:
    """--debug or ROLECLI_DEBUG=1: show the traceback of an unexpected error."""
    return _debug or os.environ.get("ROLECLI_DEBUG", "") not in ("", "0")


_debug = False


def exit_code_for(exc: BaseException) -> int:
    """The error boundary: any failure inside a command as one stderr line and its exit code.

    Expected failures (RoleCliError) print their message; Ctrl-C and SIGTERM print what
    happened; a reader that went away (`| head`) is a normal end; an output that cannot be
    written is exit 2; anything else is a bug: one line naming it, or the traceback with
    --debug.
    """
    if isinstance(exc, RoleCliError):
        write_stderr(error_line(exc.message))
        return int(exc.exit_code)
    if isinstance(exc, Terminated):
        write_stderr("rolecli: terminated\n")
        return int(ExitCode.TERMINATED)
    if isinstance(exc, KeyboardInterrupt):
        write_stderr("rolecli: interrupted\n")
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
        write_stderr("".join(traceback.format_exception(exc)))
    else:
        detail = " ".join(str(exc).split())[:200]
        write_stderr(error_line(
            f"unexpected {type(exc).__name__}{': ' + detail if detail else ''}; this is a bug "
            "in rolecli: please report it with the command that caused it (rerun with --debug "
            "or ROLECLI_DEBUG=1 for the traceback)"
        ))
    return int(ExitCode.BUG)


class _Boundary(TyperGroup):
    """The app's group: every command (subcommands too) runs inside the error boundary,
    whether started by the console script or in-process (Typer's CliRunner)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _ENDINGS:
            raise
        except BaseException as exc:
            if isinstance(exc, (SystemExit, GeneratorExit)):
                raise
            raise typer.Exit(exit_code_for(exc)) from None


# -h as well as --help, on every command: subcommands' contexts inherit the names.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

# Command name -> (module in rolecli.cli, function, the exit codes it can return besides
# 1/130/143), in the order --help lists them: reading postings first, then models.
COMMANDS = {
    "classify": ("classify", "classify_command", (0, 2, 3, 4)),
    "explain": ("explain", "explain_command", (0, 2, 3, 4)),
    "batch": ("batch", "batch_command", (0, 2, 3, 4, 5)),
    "serve": ("serve", "serve_command", (0, 2, 4)),
    "evaluate": ("evaluate", "evaluate_command", (0, 2, 3, 4)),
    "calibrate": ("evaluate", "calibrate_command", (0, 2, 3, 4)),
    "train": ("train", "train_command", (0, 2, 3)),
}
MODEL_COMMANDS = {"info": ("model_info", "model_info_command", (0, 2, 4))}
DATA_COMMANDS = {"build": ("data", "data_build_command", (0, 2, 3))}

# The one-line descriptions --help lists (a docstring's first sentence would be cut off).
SHORT_HELP = {
    "classify": "Label one posting: ML engineer, ML scientist or mixed.",
    "explain": "Why a posting got its label (text, JSON or an HTML page).",
    "batch": "Score many postings: files, a folder, a CSV/JSONL, or stdin.",
    "serve": "A web page and a JSON API for checking postings.",
    "evaluate": "Accuracy, AUC and calibration on labelled postings.",
    "calibrate": "Fit the confidence and mixed thresholds on labelled data.",
    "train": "Train a model from labelled postings.",
    "model": "Inspect a model: card, data, metrics, thresholds, terms.",
    "data": "Turn labelled postings into the n-gram counts training reads.",
    "info": "Show the model card: data, sizes, metrics, thresholds, terms.",
    "build": "Write the text-free n-gram counts of a labelled table.",
}


def _typer_app(commands: Mapping[str, tuple[str, str, tuple[int, ...]]], name: str | None = None,
               **settings: Any) -> typer.Typer:
    """A Typer app of these commands, their modules imported now."""
    sub = typer.Typer(name=name, add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None, **settings)
    for command, (module, function, codes) in commands.items():
        callback = getattr(import_module(f"{__package__}.{module}"), function)
        sub.command(command, short_help=SHORT_HELP[command],
                    epilog=exit_codes_help((*codes, *_COMMON_CODES)))(callback)
    return sub


def _plain_metavars(command: Any) -> Any:
    """Options shown as FILE, DIR, N, TEXT rather than Typer's `<path>`, `<int range>`."""
    for param in getattr(command, "params", []):
        if param.metavar:
            continue
        if param.param_type_name == "argument":
            param.metavar = param.name.upper() + ("..." if param.nargs != 1 else "")
            continue
        if param.param_type_name != "option" or param.is_flag:
            continue
        kind = type(param.type).__name__
        if kind == "Choice":
            param.metavar = "[" + "|".join(str(c) for c in param.type.choices) + "]"
        elif kind in ("IntRange", "IntParamType"):
            param.metavar = "N"
        elif kind in ("FloatRange", "FloatParamType"):
            param.metavar = "X"
        elif "Path" in kind:
            param.metavar = "DIR" if not param.type.file_okay else "FILE" \
                if not param.type.dir_okay else "PATH"
        else:
            param.metavar = "TEXT"
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)
    return command


def _model_group() -> None:
    """Inspect a model: its card, training data, metrics, thresholds and top terms."""


def _data_group() -> None:
    """Turn labelled postings into the text-free n-gram counts training reads."""


GROUPS = {"model": (MODEL_COMMANDS, _model_group), "data": (DATA_COMMANDS, _data_group)}


class LazyCommands(_Boundary):
    """The command tree, built one command at a time: `rolecli classify` imports and builds
    classify alone (Typer would otherwise build every command, importing each module);
    --help, which lists them all, builds them all. Each runs inside the error boundary."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *GROUPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in GROUPS:
            commands, callback = GROUPS[cmd_name]
            group = get_command(_typer_app(
                commands, name=cmd_name, no_args_is_help=True, callback=callback
            ))
            group.short_help = SHORT_HELP[cmd_name]
            return _plain_metavars(group)
        if cmd_name not in COMMANDS:
            return None
        command = get_command(_typer_app({cmd_name: COMMANDS[cmd_name]}))
        command.name = cmd_name
        return _plain_metavars(command)


app = typer.Typer(
    cls=LazyCommands,
    name="rolecli",
    help="Is this machine-learning job an ML engineer, an ML scientist, or mixed?",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    context_settings=CONTEXT_SETTINGS,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from ..classifier import load_scorer
        from ..errors import RoleCliError

        try:
            model = load_scorer().model_id
        except RoleCliError:
            model = "no usable model"
        typer.echo(f"rolecli {__version__} (model {visible(model)})")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show version and model id."
    ),
    debug: bool = typer.Option(
        False, "--debug", envvar="ROLECLI_DEBUG",
        help="Show the traceback of an unexpected error (a bug) instead of one line.",
    ),
    color: str = typer.Option(
        "auto", "--color", metavar="[auto|always|never]",
        help="Colour: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), "
        "always, or never.",
    ),
) -> None:
    """Is this machine-learning job an ML engineer, an ML scientist, or mixed?"""
    global _debug
    _debug = debug
    _set_color(color)


def _set_color(choice: str) -> None:
    """--color as the NO_COLOR / FORCE_COLOR that Rich (and batch's workers) already read."""
    if choice not in ("auto", "always", "never"):
        from ..errors import UsageError

        raise UsageError(f"--color must be one of auto, always, never (got {choice!r})")
    if choice == "always":
        os.environ.pop("NO_COLOR", None)
        os.environ["FORCE_COLOR"] = "1"
    elif choice == "never":
        os.environ.pop("FORCE_COLOR", None)
        os.environ["NO_COLOR"] = "1"



def run() -> None:
    """Console-script entry: click's own usage errors also become one line and exit 2;
    whatever fails outside a command (while parsing options) meets the same boundary."""
    _guard_std_streams()
    signal.signal(signal.SIGTERM, _terminate)
    stdout_before = _identity(1)
    try:
        code = app(standalone_mode=False)
    except ClickUsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            # `rolecli model`: its help, as asked for, not an error.
            typer.echo(exc.ctx.get_help())
            code = ExitCode.OK
        else:
            write_stderr(error_line(usage_message(exc)))
            code = ExitCode.USAGE
    except ClickException as exc:
        write_stderr(error_line(exc.format_message()))
        code = exc.exit_code
    except typer.Abort:
        write_stderr("rolecli: interrupted\n")
        code = ExitCode.INTERRUPTED
    except SystemExit as exc:
        # click (`rolecli --help | head -c 1`) and Rich (Console.on_broken_pipe, for the text
        # views) end a broken pipe with a silent exit 1; here it is a normal end, exit 0.
        if exc.code != 1 or not _pipe_was_broken(stdout_before):
            raise
        discard_stdout()
        code = ExitCode.OK
    except Exception as exc:  # the boundary, for what fails before a command runs
        code = exit_code_for(exc)
    except KeyboardInterrupt as exc:  # (not an Exception)
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
