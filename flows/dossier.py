"""The published JSON Schema of the ``kiosk-dossier/1`` document and a validator for it
(used by the engine's tests, the kiosk outbox and the central system)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "dossier.schema.json"


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def dossier_problems(doc: dict) -> list[str]:
    """Every way ``doc`` breaks the schema, as "path: message" strings (empty: valid)."""
    out = []
    for err in _validator().iter_errors(doc):
        path = "/".join(str(p) for p in err.absolute_path) or "(top)"
        out.append(f"{path}: {err.message[:200]}")
    return out


def validate_dossier(doc: dict) -> None:
    """Raise ValueError naming every problem when ``doc`` is not a valid kiosk-dossier/1."""
    problems = dossier_problems(doc)
    if problems:
        raise ValueError("invalid kiosk-dossier/1: " + "; ".join(problems[:10]))
