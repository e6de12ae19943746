"""The console script's entry: Ctrl-C while the CLI is still importing ends quietly.

Importing the CLI takes a moment (longer where bytecode is not cached); a Ctrl-C in that
window would otherwise print an import traceback. The handler is set before anything else
is imported, even the error boundary, so that the window is as short as it can be.
"""

from __future__ import annotations

import os
import signal
from types import FrameType


def _interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"rolecli: interrupted\n")  # boundary.INTERRUPTED, without importing it
    os._exit(130)  # ExitCode.INTERRUPTED; nothing has started that needs unwinding


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from .main import run

    # From here the boundary turns Ctrl-C into "interrupted" and exit 130 as it unwinds.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run()
