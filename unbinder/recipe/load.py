"""Load recipes: safe YAML, validation against the models, every problem as `file:line: message`.

This is the only place where recipe dicts exist: the YAML is read with `safe_yaml` (plain data, no
anchors or aliases, bounded size and depth), validated against `model.Recipe`, and handed out as a
frozen `LoadedRecipe` that remembers each key's line. Also: finding and selecting recipes by id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from unbinder import paths
from unbinder.errors import RecipeError, UnknownPlatform
from unbinder.i18n.translate import _
from unbinder.recipe.model import STEP_KINDS, NumberChange, Recipe, Source, _StepBase
from unbinder.recipe.names import ID_RE, did_you_mean
from unbinder.recipe.safe_yaml import MAX_BYTES as MAX_RECIPE_BYTES
from unbinder.recipe.safe_yaml import FileProblem, Lines, nearest_line, read_text
from unbinder.recipe.safe_yaml import YamlProblem as _Problem
from unbinder.recipe.safe_yaml import compose as _compose


@dataclass(frozen=True)
class LoadedRecipe:
    """A validated recipe with where it came from."""

    recipe: Recipe
    path: Path
    digest: str  # sha256 of the file, first 12 hex digits: the recipe's version
    lines: Lines

    @property
    def id(self) -> str:
        return self.recipe.id

    def line_of(self, loc: Iterable[Any]) -> int:
        """The line of the nearest known key on the path `loc` (1-based)."""
        return nearest_line(self.lines, loc)


def yaml_with_lines(text: str, path: Path) -> tuple[Any, Lines]:
    """Safe-load YAML the way recipes are loaded, plus a map from key paths to lines.

    For the other YAML files contributors write (replica.yaml); errors say `file:line: ...`.
    """
    try:
        return _compose(text)
    except _Problem as problem:
        raise RecipeError(f"{path}:{problem.line}: {problem.message}") from None


def _field_aliases(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic error locations use field names; the YAML uses aliases."""
    alias = {
        "if_": "if",
        "else_": "else",
        "not_": "not",
        "zh_CN": "zh-CN",
        "json_path": "json",
        "one_of": "in",
        "schema_ref": "$schema",
    }
    out: list[Any] = []
    for part in loc:
        if isinstance(part, str) and part in alias:
            out.append(alias[part])
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # union branch names such as 'str' or 'GotoArgs' are not in the file
        else:
            out.append(part)
    return tuple(out)


# What the items of a list are called, for one-based places: `flows.check.detect[rule 5]`.
_ITEMS = {
    "detect": "rule",
    "steps": "step",
    "then": "step",
    "else": "step",
    "tests": "test",
    "any": "condition",
    "all": "condition",
    "routes": "route",
    "domains": "domain",
    "regions": "region",
}


def describe_loc(loc: Iterable[Any]) -> str:
    """A key path as people count: `flows.check.detect[rule 1].when` (lists from one)."""
    parts = tuple(loc)
    out = ""
    for index, part in enumerate(parts):
        if isinstance(part, int):
            parent = parts[index - 1] if index else None
            noun = _ITEMS.get(str(parent), "item")
            if index == 2 and parts[0] == "selectors":
                noun = "alternative"
            out += f"[{noun} {part + 1}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _literal_choices(err: Any) -> list[str]:
    import re

    return re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))


def _format_validation(exc: ValidationError, lines: Lines) -> list[_Problem]:
    problems: list[_Problem] = []
    seen: set[tuple[int, str]] = set()
    errors = exc.errors(include_url=False)
    # A value of a closed set (an outcome, a kind) may be checked against several branches of
    # a union: one message with every choice, and the closest.
    choices: dict[tuple[Any, ...], list[str]] = {}
    for err in errors:
        if err["type"] == "literal_error":
            key = _field_aliases(tuple(err["loc"]))
            choices.setdefault(key, []).extend(_literal_choices(err))
    for err in errors:
        loc = _field_aliases(tuple(err["loc"]))
        # Drop union-branch noise: a str-or-model field reports both branches.
        loc = tuple(
            p
            for p in loc
            if p
            not in (
                "str",
                "GotoArgs",
                "ClickArgs",
                "Target",
                "ScreenshotArgs",
                "list[str]",
                "list[Condition]",
            )
        )
        line = nearest_line(lines, loc)
        where = describe_loc(loc)
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            parent = loc[:-1]
            message = f"unknown key {loc[-1]!r}" + (
                f" in {'.'.join(map(str, parent))}" if parent else ""
            )
            message += did_you_mean(str(loc[-1]), _known_keys_hint(loc))
        elif err["type"] == "missing":
            message = f"{where}: required key {loc[-1]!r} is missing"
        elif err["type"] == "literal_error":
            options = list(dict.fromkeys(choices.get(_field_aliases(tuple(err["loc"])), [])))
            value = str(err.get("input"))
            message = f"{where}: {value!r} is not one of {', '.join(options)}" + did_you_mean(
                value, options
            )
        else:
            message = f"{where}: {message}"
        if (line, message) not in seen:
            seen.add((line, message))
            problems.append(_Problem(line, message))
    return problems


def _known_keys_hint(loc: tuple[Any, ...]) -> list[str]:
    if len(loc) == 3 and loc[0] == "sources":
        return list(Source.model_fields)
    if len(loc) == 2 and loc[0] == "number_change":
        return list(NumberChange.model_fields)
    top = [f.alias or n for n, f in Recipe.model_fields.items()]
    step = list(STEP_KINDS) + list(_StepBase.model_fields)
    return (
        top
        + step
        + ["side_effects", "requires_login", "steps", "detect", "timeout", "detect_timeout"]
    )


def _unknown_sources(recipe: Recipe, lines: Lines) -> list[_Problem]:
    """A `source:` must name entries of `sources:` (what the schema alone cannot say)."""
    problems: list[_Problem] = []
    for loc, ids in recipe.citations():
        for source_id in ids:
            if source_id in recipe.sources:
                continue
            where = describe_loc(loc)
            hint = did_you_mean(source_id, recipe.sources) or (
                "; add it there with `url` (or `repo` and `path`), `read` and `shows`"
            )
            problems.append(
                _Problem(
                    nearest_line(lines, loc),
                    f"{where}: source {source_id!r} is not in `sources:`{hint}",
                )
            )
    return problems


def parse_recipe(text: str, path: Path) -> LoadedRecipe:
    """Validate recipe text. Raise RecipeError('file:line: message') listing every problem."""
    problems = recipe_problems(text, path)
    if isinstance(problems, LoadedRecipe):
        return problems
    raise RecipeError("; ".join(problems))


def recipe_problems(text: str, path: Path, *, semantics: bool = True) -> LoadedRecipe | list[str]:
    """The loaded recipe, or every `file:line: message` problem with it.

    With `semantics` (always, but for lint, which runs them itself with its warnings), the
    errors lint finds in what the recipe does when it runs are problems too (`lint.refusals`):
    no command runs a recipe that lint refuses for those.
    """
    if len(text.encode("utf-8", "replace")) > MAX_RECIPE_BYTES:
        return [f"{path}:1: recipe is larger than {MAX_RECIPE_BYTES // 1024} KiB"]
    try:
        data, lines = _compose(text)
    except _Problem as problem:
        return [f"{path}:{problem.line}: {problem.message}"]
    if not isinstance(data, dict):
        return [f"{path}:1: a recipe is a mapping of keys (id, name, flows, ...)"]
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        return [f"{path}:{p.line}: {p.message}" for p in _format_validation(exc, lines)]
    unknown = _unknown_sources(recipe, lines)
    if unknown:
        return [f"{path}:{p.line}: {p.message}" for p in unknown]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    loaded = LoadedRecipe(recipe=recipe, path=path, digest=digest, lines=lines)
    if semantics:
        from unbinder.recipe.lint import refusals

        refused = refusals(loaded)
        if refused:
            return [str(problem) for problem in refused]
    return loaded


def read_recipe_text(path: Path) -> str:
    """A recipe file's text: a regular file, at most MAX_RECIPE_BYTES (checked before reading)."""
    try:
        return read_text(path, MAX_RECIPE_BYTES)
    except FileNotFoundError:
        raise RecipeError(_("{path}: no such recipe file").format(path=path)) from None
    except FileProblem as problem:
        raise RecipeError(
            _("{path}:1: recipe {message}").format(path=path, message=problem.message)
        ) from None


def load_recipe_file(path: Path) -> LoadedRecipe:
    """Load one recipe file."""
    return parse_recipe(read_recipe_text(path), path)


def recipe_files(directory: Path | None = None) -> list[Path]:
    """The recipe files in `directory`, or every recipe (shipped and UNBINDER_RECIPES'), by id."""
    return paths.recipe_files(directory)


def load_all_report(
    directory: Path | None = None,
) -> tuple[list[LoadedRecipe], list[tuple[Path, str]]]:
    """Every recipe that loads, and (path, first problem) for each that does not."""
    loaded: list[LoadedRecipe] = []
    failures: list[tuple[Path, str]] = []
    for path in recipe_files(directory):
        try:
            loaded.append(load_recipe_file(path))
        except RecipeError as exc:
            failures.append((path, exc.message))
    return loaded, failures


def load_all(directory: Path | None = None) -> list[LoadedRecipe]:
    """Every shipped recipe. A broken one is an error naming file and line."""
    loaded, failures = load_all_report(directory)
    if failures:
        path, message = failures[0]
        raise RecipeError(
            message,
            hint=_("Run `unbinder recipes lint {path}` for every problem.").format(path=path),
        )
    return loaded


def find_recipe(platform_id: str, directory: Path | None = None) -> LoadedRecipe:
    """The recipe with this id, or UnknownPlatform listing close ids."""
    path = paths.recipe_path(platform_id, directory)
    if ID_RE.fullmatch(platform_id) and path.is_file():
        return load_recipe_file(path)
    ids = [p.stem for p in recipe_files(directory)]
    raise UnknownPlatform(
        _("no recipe for platform {platform_id!r}{value}.").format(
            platform_id=platform_id, value=did_you_mean(platform_id, ids)
        ),
        hint=_("`unbinder recipes list` shows every platform."),
    )


def select_recipes(
    ids: Iterable[str] = (),
    *,
    region: str | None = None,
    include_demo: bool = False,
    directory: Path | None = None,
) -> list[LoadedRecipe]:
    """Recipes by id (in the given order), or all (optionally of one region)."""
    wanted = list(ids)
    if wanted:
        chosen = [find_recipe(i, directory) for i in dict.fromkeys(wanted)]
    else:
        chosen = [r for r in load_all(directory) if include_demo or not r.recipe.demo]
    if region:
        region = region.upper()
        chosen = [r for r in chosen if region in r.recipe.regions or "GLOBAL" in r.recipe.regions]
    return chosen


__all__ = [
    "LoadedRecipe",
    "describe_loc",
    "find_recipe",
    "load_all",
    "load_all_report",
    "load_recipe_file",
    "nearest_line",
    "parse_recipe",
    "read_recipe_text",
    "recipe_files",
    "recipe_problems",
    "select_recipes",
    "yaml_with_lines",
]
