"""The `rolecli` command: a thin Typer app; each command lives in its own module."""

from __future__ import annotations

import os
import sys

import typer

from .. import __version__
from ..errors import ExitCode
from .batch import batch_command
from .classify import classify_command
from .evaluate import calibrate_command, evaluate_command
from .explain import explain_command
from .model_info import model_info_command
from .train import train_command

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 2 usage error (bad option, missing path, directory given as FILE); "
    "3 unusable input (empty, binary, too large, not a job description); "
    "4 model missing, corrupted or incompatible; 5 batch finished with failed items; "
    "130 interrupted."
)

# Typer bundles click in some versions and depends on it in others; find its classes either way.
_CLICK_ERRORS = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
ClickException = _CLICK_ERRORS["ClickException"]
ClickUsageError = _CLICK_ERRORS["UsageError"]

app = typer.Typer(
    name="rolecli",
    help="Is this machine-learning job an ML engineer, an ML scientist, or mixed?",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
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
        typer.echo(f"rolecli {__version__} (model {model})")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show version and model id."
    ),
) -> None:
    """Is this machine-learning job an ML engineer, an ML scientist, or mixed?"""


app.command("classify", epilog=EXIT_CODES_HELP)(classify_command)
app.command("train", epilog=EXIT_CODES_HELP)(train_command)
app.command("evaluate", epilog=EXIT_CODES_HELP)(evaluate_command)
app.command("calibrate", epilog=EXIT_CODES_HELP)(calibrate_command)
app.command("batch", epilog=EXIT_CODES_HELP)(batch_command)
app.command("explain", epilog=EXIT_CODES_HELP)(explain_command)

model_app = typer.Typer(
    help="Inspect a model: its card, training data, metrics, thresholds and top terms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
model_app.command("info", epilog=EXIT_CODES_HELP)(model_info_command)
app.add_typer(model_app, name="model")


def run() -> None:
    """Console-script entry: click's own usage errors also become one line and exit 2."""
    try:
        code = app(standalone_mode=False)
    except ClickUsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        sys.stderr.write(f"rolecli: error: {exc.format_message()}{hint}\n")
        code = ExitCode.USAGE
    except ClickException as exc:
        sys.stderr.write(f"rolecli: error: {exc.format_message()}\n")
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("rolecli: interrupted\n")
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = ExitCode.OK
    _flush_quietly()
    sys.exit(int(code) if isinstance(code, int) else 0)


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
