"""The `rolecli` command: a thin Typer app; each command lives in its own module."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_command

from .. import __version__
from ..errors import ExitCode
from ..escape import visible
from . import boundary

# What each exit code means, and which a command can return (its --help footer lists those).
_EXIT_MEANINGS = {
    ExitCode.OK: "ok",
    ExitCode.USAGE: "usage error (bad option, missing path or --model, directory given as FILE)",
    ExitCode.UNUSABLE_INPUT: "unusable input (empty, binary, too large, not a job description)",
    ExitCode.MODEL: "model files missing, corrupted or incompatible",
    ExitCode.BATCH_PARTIAL: "batch finished with failed items",
    ExitCode.BUG: "an unexpected error (a bug: please report it)",
    ExitCode.INTERRUPTED: "interrupted",
    ExitCode.TERMINATED: "terminated",
}
_COMMON_CODES = (ExitCode.BUG, ExitCode.INTERRUPTED, ExitCode.TERMINATED)


def exit_codes_help(codes: tuple[int, ...] = tuple(_EXIT_MEANINGS)) -> str:
    return "Exit codes: " + "; ".join(
        f"{int(code)} {_EXIT_MEANINGS[ExitCode(code)]}" for code in codes
    ) + "."


EXIT_CODES_HELP = exit_codes_help()


class _Boundary(TyperGroup):
    """The app's group: every command (subcommands too) runs inside the error boundary."""

    def invoke(self, ctx: Any) -> Any:
        return boundary.guard(super().invoke, ctx)


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
        if hasattr(param.type, "choices"):  # click's Choice, Typer's enum TyperChoice
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
            for sub in getattr(group, "commands", {}).values():
                _add_color_option(sub)
            return _plain_metavars(group)
        if cmd_name not in COMMANDS:
            return None
        command = get_command(_typer_app({cmd_name: COMMANDS[cmd_name]}))
        command.name = cmd_name
        return _plain_metavars(_add_color_option(command))


COLOR_HELP = ("Colour: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), "
              "always, or never.")


def _add_color_option(command: Any) -> Any:
    """--color after the command too (`rolecli batch x --color never`), as before it."""
    from typer.core import TyperOption

    def chosen(ctx: Any, param: Any, value: str | None) -> None:
        if value is not None:
            _set_color(value)

    command.params.append(TyperOption(
        param_decls=["--color"], metavar="[auto|always|never]", default=None,
        expose_value=False, is_eager=True, callback=chosen, help=COLOR_HELP,
    ))
    return command


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
        from ..errors import RoleCliError
        from ..tasks.classify import load_scorer

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
        "auto", "--color", metavar="[auto|always|never]", help=COLOR_HELP,
    ),
) -> None:
    """Is this machine-learning job an ML engineer, an ML scientist, or mixed?"""
    boundary.show_tracebacks(debug)
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
    """Console-script entry: the app, inside the error boundary."""
    boundary.run(app)
