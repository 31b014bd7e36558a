"""Text shipped with the package (display words, the `plan` checklist), kept as YAML data so
that it can be translated and corrected without touching code."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def load_data(name: str) -> dict[str, Any]:
    """Load `unbinder/data/<name>` (trusted package data, still read with safe loading)."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, chosen above
    if not isinstance(data, dict):
        raise ValueError(f"unbinder/data/{name} is not a mapping")
    return data
