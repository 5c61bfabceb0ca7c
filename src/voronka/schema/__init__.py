"""JSON Schemas of the public contract (audit result and lint-stages output)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (``audit`` or ``lint``) as a dict."""
    text = resources.files("voronka.schema").joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
