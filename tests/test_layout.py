"""The tree is the architecture: imports run downhill, app → http → domains → core → forms/, media/, models, settings,
and no module grows past what a reader takes in at once."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("people", "surveys", "intake", "households", "needs", "ops")
MAX_LINES = 300

# What each layer may import of the project, by module prefix.
BELOW_CORE = ("server.core", "server.models", "server.settings", "forms", "media")
ALLOWED = {
    "forms": ("forms",),
    "media": ("media",),
    "server.settings": (),
    "server.models": ("server.models",),
    "server.core": BELOW_CORE,
    **{f"server.{domain}": BELOW_CORE + tuple(f"server.{d}" for d in DOMAINS) for domain in DOMAINS},
    "server.http": ("server.http",) + BELOW_CORE + tuple(f"server.{d}" for d in DOMAINS),
}
PROJECT = ("server", "forms", "media")


def _modules():
    for folder in PROJECT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(path: Path) -> set[str]:
    """Every project module the file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PROJECT}


def _layer(module: str) -> str | None:
    return next((layer for layer in sorted(ALLOWED, key=len, reverse=True)
                 if module == layer or module.startswith(layer + ".")), None)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module, path", list(_modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_run_downhill(module, path):
    layer = _layer(module)
    if layer is None:  # server.app and server.cli stand on top of everything
        assert module in ("server", "server.app", "server.cli"), f"{module} belongs to no layer"
        return
    # "from server.intake import photos" names a module of the package; judge the module, not the package.
    uphill = sorted(name for name in _imports(path) if not _within(name, ALLOWED[layer])
                    and name not in ("server", *PROJECT))
    assert not uphill, f"{module} imports {uphill}"


def test_no_server_module_is_longer_than_a_reader_takes_in():
    long = {str(path.relative_to(ROOT)): n for module, path in _modules()
            if module.startswith("server") and (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long
