"""The published JSON Schema of the ``kiosk-dossier/1`` document and THE validator for it: the
kiosk checks a dossier with it before the outbox keeps it, the central system before it takes it,
and the central system's OpenAPI document publishes the same schema. One definition of "valid"."""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "dossier.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    own = copy.deepcopy(schema())  # validators may rewrite references in place: never the shared copy
    cls = jsonschema.validators.validator_for(own)
    cls.check_schema(own)
    return cls(own)


@lru_cache(maxsize=1)
def _fast():
    import fastjsonschema

    return fastjsonschema.compile(copy.deepcopy(schema()))  # it resolves "$ref"s in the dict it is given


def dossier_problems(doc: Any) -> list[str]:
    """Every way ``doc`` breaks the schema, as "path: message" strings (empty: valid). The
    messages may quote values: for tests and the kiosk's own log after redaction, never for HTTP."""
    out = []
    for err in _validator().iter_errors(doc):
        path = "/".join(str(p) for p in err.absolute_path) or "(top)"
        out.append(f"{path}: {err.message[:200]}")
    return out


def problem_paths(doc: Any) -> list[str]:
    """Where ``doc`` breaks the schema, as field paths only ("handling_unit.commune_code",
    "attachments.0.sha256"), never the values: they may be personal, and this goes back over
    HTTP and into logs. Empty: valid. A valid document costs one compiled check."""
    import fastjsonschema

    try:
        _fast()(doc)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    paths = set()
    for err in _validator().iter_errors(doc):
        base = [str(p) for p in err.absolute_path]
        if err.validator == "required" and isinstance(err.instance, dict):
            for name in err.validator_value:
                if name not in err.instance:
                    paths.add(".".join(base + [name]))
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for name in err.instance:
                if name not in allowed:
                    paths.add(".".join(base + [str(name)[:64]]))
        else:
            paths.add(".".join(base) or "body")
    return sorted(paths)[:50]


def openapi_schema() -> dict:
    """The schema with its ``$defs`` written in place, for an OpenAPI requestBody (a ``#/$defs/…``
    reference would point into the OpenAPI document itself)."""
    s = copy.deepcopy(schema())
    defs = s.pop("$defs", {})
    s.pop("$schema", None)
    s.pop("$id", None)

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if "#/$defs/" in ref:
                return inline(copy.deepcopy(defs[ref.split("/")[-1]]))
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(s)
