"""Recipes: the model (`model`), loading (`load`, `safe_yaml`), the JSON Schema, the catalog, lint.

Kept empty on purpose: `recipes list` imports only `catalog`, which must not pull in pydantic.
"""
