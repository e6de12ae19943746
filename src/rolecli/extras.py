"""The optional extras: one check, `require_extra`, for every feature that needs one.

The light install (`pip install rolecli`) classifies; training, serving, Dask and Parquet
each come with an extra. A missing one is a UsageError that says what needs it and names
the extra to install.
"""

from __future__ import annotations

from importlib import import_module
from typing import NamedTuple

from .errors import UsageError


class Extra(NamedTuple):
    modules: tuple[str, ...]  # what must import
    needs: str  # how the error names what is missing


EXTRAS = {
    "train": Extra(("sklearn", "joblib", "numpy", "threadpoolctl"),
                   "scikit-learn, joblib and NumPy, which the light install leaves out"),
    "serve": Extra(("starlette", "uvicorn", "python_multipart"), "the optional extra"),
    "dask": Extra(("distributed",), "the optional extra"),
    "parquet": Extra(("pyarrow.parquet",), "pyarrow"),
}


def require_extra(name: str, what: str) -> None:
    """UsageError "`what` needs ...: pip install 'rolecli[name]'" unless every module of the
    extra `name` imports."""
    extra = EXTRAS[name]
    try:
        for module in extra.modules:
            import_module(module)
    except ImportError:
        raise UsageError(f"{what} needs {extra.needs}: pip install 'rolecli[{name}]'") from None
