"""The tree shows the roles (docs/architecture.md, "Parts"): a test, so the shape holds."""

from __future__ import annotations

import ast
from pathlib import Path

import unbinder

PACKAGE = Path(unbinder.__file__).parent
# Each part may import the ones on its own level or below, never one above it.
LEVELS = {
    "foundation": 0,  # the modules at the top of unbinder/
    "i18n": 0,
    "trail": 1,
    "recipe": 1,
    "browser": 2,
    "engine": 3,
    "jobs": 4,
    "contrib": 5,
    "cli": 6,
}
# Known exceptions, each with its reason (shrink this list; never grow it without one).
ALLOWED = {
    # lint checks that the pages a replica names exist; the replica's spec model (not its
    # serving) belongs under recipe/, and moving it there removes this line.
    "unbinder.recipe.lint -> unbinder.browser.replica",
}


def _part(module: str) -> str:
    if module == "unbinder.__main__":
        return "cli"  # `python -m unbinder` is the command line
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in LEVELS:
        return parts[1]
    if len(parts) == 2 and (PACKAGE / parts[1]).is_dir() and parts[1] in LEVELS:
        return parts[1]
    return "foundation"


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "unbinder":
                found.update(f"unbinder.{alias.name}" for alias in node.names)
    return found


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        out[".".join(rel.parts).removesuffix(".__init__")] = path
    return out


def test_at_most_eight_modules_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    for folder in ("recipe", "browser", "engine", "jobs", "contrib", "trail", "cli", "i18n"):
        assert (PACKAGE / folder / "__init__.py").is_file(), folder


def test_only_cli_imports_click() -> None:
    offenders = [
        name
        for name, path in _modules().items()
        if _part(name) != "cli"
        and any(m == "click" or m.startswith("click.") for m in _imports(path))
    ]
    assert offenders == []


def test_no_part_imports_a_part_above_it() -> None:
    wrong = []
    for name, path in _modules().items():
        mine = _part(name)
        for imported in _imports(path):
            if imported.startswith("unbinder.") and LEVELS[_part(imported)] > LEVELS[mine]:
                wrong.append(f"{name} -> {imported}")
    assert sorted(set(wrong) - ALLOWED) == []


def test_every_module_is_on_the_map() -> None:
    """docs/architecture.md names every module, so a newcomer finds where a change belongs."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        name
        for name, path in _modules().items()
        if path.name not in ("__init__.py", "__main__.py") and f"{path.stem}.py" not in text
    ]
    assert missing == [], "add them to docs/architecture.md, Parts"
