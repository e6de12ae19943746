"""Imports point down the layers of docs/architecture.md, and no module imports itself back.

Every import counts, the ones inside functions too: a lazy import still ties the module to
what it names. The package's `__init__` holds `__version__` and lazy attributes only, so
`from .. import __version__` is allowed from anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "rolecli"

# Lowest first. A module may import its own layer and those below it, never one above.
LAYERS = (
    ("errors", "escape", "paths", "quiet", "extras"),
    ("text", "text.roles", "text.sentences", "text.sections", "text.title", "text.work"),
    ("io", "io.walk", "io.documents", "io.parquet", "io.tables"),
    ("model", "model.analyzer", "model.card", "model.check_cache", "model.scorer_file",
     "model.scorer", "model.hyperparameters", "io.counts"),
    ("io.labelled",),
    ("model.platt", "model.vocabulary", "model.training", "model.directory"),
    ("verdict", "verdict.decision", "verdict.evidence"),  # the label rule reads typed thresholds
    ("verdict.reasons", "verdict.result", "verdict.whatif"),
    ("tasks", "tasks.classify", "tasks.explain", "tasks.evaluate", "tasks.model_info",
     "tasks.fit_thresholds", "tasks.train"),
    ("batch", "batch.items"),  # the package holds only a docstring
    ("batch.config",),
    ("batch.sources", "batch.writers"),
    ("batch.resume", "batch.engines.local", "batch.engines.dask"),
    ("batch.engines",),  # the engine protocol and registry
    ("batch.run",),
    ("render", "render.jsonout", "render.terminal", "render.tables", "render.explain_view",
     "render.html", "render.model_card", "render.batch_progress"),
    ("cli", "serve", "__main__", ""),  # "": the package itself, the public facade
)
# Imports that go up (none today), each with where it goes: the test fails once one is gone, so
# the list cannot go stale.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    base = PACKAGE.joinpath(*name.split(".")) if name else PACKAGE
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(source: str, name: str, package: str) -> set[str]:
    """The rolecli modules the source of module `name` (in `package`) imports, named
    relative to rolecli ("model.scorer")."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.removeprefix("rolecli").lstrip(".")
                      for a in node.names if a.name.split(".")[0] == "rolecli"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").split(".")[0] == "rolecli":
                target = (node.module or "").removeprefix("rolecli").lstrip(".")
            else:
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}".lstrip(".")
                if is_module(submodule):
                    found.add(submodule)
                elif target or alias.name != "__version__":
                    found.add(target)
    found.discard(name)
    return found


def layer_of(name: str) -> int:
    while True:
        for i, layer in enumerate(LAYERS):
            if name in layer:
                return i
        assert name, "every module has a layer"
        name = name.rpartition(".")[0]  # cli.batch is in cli's layer


def module_imports(path: Path) -> set[str]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports(path.read_text(encoding="utf-8"), name, package)


GRAPH = {module_name(p): module_imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer_and_the_layers_name_real_modules() -> None:
    named = {m for layer in LAYERS for m in layer}
    assert all(is_module(m) for m in named), named - {m for m in named if is_module(m)}
    for module in GRAPH:
        layer_of(module)


def test_imports_point_down() -> None:
    upward = {(m, dep) for m, deps in GRAPH.items() for dep in deps
              if layer_of(dep) > layer_of(m)}
    assert upward == KNOWN_UPWARD


def test_no_import_cycles() -> None:
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path[path.index(module):], module))
        if module in done:
            return
        for dep in sorted(GRAPH.get(module, ())):
            visit(dep, (*path, module))
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, ())


def test_the_checker_sees_upward_lazy_and_absolute_imports() -> None:
    source = (
        "from ..io import counts\nfrom .. import __version__\n"
        "from .scorer import Scorer\n"
        "import rolecli.batch.items\n"
        "def later():\n"
        "    from ..render import console\n"
    )
    found = imports(source, "model.training", "model")
    assert found == {"io.counts", "model.scorer", "batch.items", "render"}
    assert {dep for dep in found if layer_of(dep) > layer_of("model.training")} == {
        "batch.items", "render"}
