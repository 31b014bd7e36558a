"""The recipe JSON Schema, generated from the models: `recipes/schema.json` is this, written out.

`unbinder recipes schema --write` writes it; a test keeps the file in sync with the models.
Recipes point editors at it with their first line, `SCHEMA_HEADER`.
"""

from __future__ import annotations

import json
from typing import Any

from unbinder.recipe.model import Recipe

SCHEMA_URL = "https://unbinder.dev/schema/recipe.json"
# The first line of every recipe: editors with the YAML language server complete and check it.
SCHEMA_HEADER = "# yaml-language-server: $schema=schema.json"


def json_schema() -> dict[str, Any]:
    """The recipe JSON Schema (the file recipes/schema.json is generated from this)."""
    schema = Recipe.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_URL
    schema["title"] = "unbinder recipe"
    return schema


def schema_text() -> str:
    """recipes/schema.json as written by `unbinder recipes schema --write`."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
