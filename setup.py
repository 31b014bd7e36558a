"""Build hook: the wheel carries the shipped recipes and replicas inside the package.

A source checkout keeps them at its top level (`recipes/`, `fixtures/`), where recipe authors
work on them. Building a wheel copies what the installed tool needs into `unbinder/_shipped/`:

    recipes/*.yaml, recipes/schema.json  ->  unbinder/_shipped/recipes/
    fixtures/<id>/ for every recipes/<id>.yaml, fixtures/demo.yaml  ->  unbinder/_shipped/fixtures/

`fixtures/faults/` (the reliability suite's misbehaving sites, no recipe of their own in recipes/)
and `recorded/` drafts stay out. An editable install (`pip install -e .`) copies nothing: it
reads the checkout's folders directly (unbinder/paths.py). Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = Path("unbinder", "_shipped")
LEFT_OUT = ("recorded", "__pycache__", "*.pyc", ".*")


def shipped_files() -> dict[Path, Path]:
    """{source file: its path under the package's _shipped/} for everything the tool reads."""
    recipes, fixtures = HERE / "recipes", HERE / "fixtures"
    files: dict[Path, Path] = {}
    ids = []
    for path in sorted(recipes.glob("*.yaml")):
        files[path] = Path("recipes", path.name)
        ids.append(path.stem)
    for extra in ("schema.json",):
        if (recipes / extra).is_file():
            files[recipes / extra] = Path("recipes", extra)
    if (fixtures / "demo.yaml").is_file():
        files[fixtures / "demo.yaml"] = Path("fixtures", "demo.yaml")
    for platform_id in ids:
        folder = fixtures / platform_id
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            relative = path.relative_to(fixtures)
            left_out = any(relative.match(p) or p in relative.parts for p in LEFT_OUT)
            if path.is_file() and not left_out:
                files[path] = Path("fixtures", relative)
    return files


class BuildWithShipped(build_py):
    """build_py that also copies the shipped recipes and replicas into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / SHIPPED
        if target.exists():
            shutil.rmtree(target)
        for source, relative in shipped_files().items():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / SHIPPED
            outputs += [str(target / relative) for relative in shipped_files().values()]
        return outputs


setup(cmdclass={"build_py": BuildWithShipped})
