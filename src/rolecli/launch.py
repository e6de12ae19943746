"""The console script's entry: Ctrl-C while the CLI is still importing ends quietly.

Importing the CLI takes a moment (longer where bytecode is not cached); a Ctrl-C in that
window would otherwise print an import traceback. The boundary is light enough to load
first, so that it ends that window too.
"""

from __future__ import annotations

import signal

from .cli.boundary import interrupted_while_starting


def main() -> None:
    signal.signal(signal.SIGINT, interrupted_while_starting)
    from .cli.main import run

    # From here the boundary turns Ctrl-C into "interrupted" and exit 130 as it unwinds.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run()
