"""What a loaded flow is: plain dataclasses built by :mod:`flows.loader`, read by the engine and
the kiosk screens. Every citizen-facing text is a ``{"vi": …, "en": …}`` dict."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any

from flows.conditions import Expression

Text = dict  # {"vi": str, "en": str}

FIELD_TYPES = ("text", "number", "date", "choice", "multi_choice", "yes_no", "phone", "email", "id_number", "address")


@dataclass(frozen=True)
class Option:
    id: str
    label: Text


@dataclass(frozen=True)
class Rule:
    check: Expression
    message: Text


@dataclass
class Field:
    id: str
    type: str
    label: Text
    hint: Text | None = None
    required: bool = False
    options: list[Option] = dc_field(default_factory=list)
    default: Any = None
    prefill: Expression | None = None
    validation: dict = dc_field(default_factory=dict)
    rules: list[Rule] = dc_field(default_factory=list)
    min_date: Expression | None = None
    max_date: Expression | None = None
    visible_if: Expression | None = None
    keyboard: str | None = None
    presets: list = dc_field(default_factory=list)   # number: common answers as big buttons (+ "Khác")
    scan: str | None = None                          # "birth_certificate.<what>": filled from that paper's QR

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Help:
    video: str
    captions: str | None = None
    optional: bool = True


@dataclass
class Document:
    id: str
    name: Text
    required: bool
    hint: Text | None = None
    required_if: Expression | None = None
    visible_if: Expression | None = None
    kind: str = "copy"
    capture: bool = True
    max_files: int = 5


@dataclass
class Skip:
    condition: Expression
    to: str


@dataclass
class Step:
    id: str
    kind: str  # one of flows.steps.names(): what the kind does lives in flows/steps/<kind>.py
    title: Text
    text: Text | None = None
    help: Help | None = None
    fields: list[Field] = dc_field(default_factory=list)
    options: dict = dc_field(default_factory=dict)
    visible_if: Expression | None = None
    skip_to: list[Skip] = dc_field(default_factory=list)


@dataclass
class FeeRule:
    condition: Expression
    amount: int
    note: Text


@dataclass
class Fee:
    amount: int
    currency: str
    note: Text
    rules: list[FeeRule] = dc_field(default_factory=list)
    per_page: dict | None = None
    per_unit: dict | None = None
    online_amount: int | None = None
    unconfirmed: bool = False


@dataclass
class Flow:
    id: str
    version: int
    sha256: str
    procedure_code: str
    name: Text
    field: Text
    competent_level: str
    fee: Fee
    processing_days: int
    documents: list[Document]
    steps: list[Step]
    authority: Text | None = None
    receipt_cutoff: str | None = None
    keywords: list[str] = dc_field(default_factory=list)
    legal_basis: list[str] = dc_field(default_factory=list)
    unconfirmed: list[dict] = dc_field(default_factory=list)
    path: str = ""
    raw: dict = dc_field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._fields = {f.id: f for s in self.steps for f in s.fields}
        # the form fields' effort options (presets, scan) come from the flow file as written (the
        # loader checks them through the form kind's check_flow, flows/steps/form.py)
        for raw_step in (self.raw.get("steps") or []) if isinstance(self.raw, dict) else []:
            for raw_field in raw_step.get("fields") or []:
                f = self._fields.get(raw_field.get("id"))
                if f is not None:
                    f.presets = list(raw_field.get("presets") or f.presets)
                    f.scan = raw_field.get("scan", f.scan)
        self._steps = {s.id: i for i, s in enumerate(self.steps)}
        self._documents = {d.id: d for d in self.documents}

    @property
    def fields(self) -> dict[str, Field]:
        """Every form field of the flow by id (ids are unique across steps)."""
        return self._fields

    def step_index(self, step_id: str) -> int:
        return self._steps[step_id]

    def document(self, document_id: str) -> Document | None:
        return self._documents.get(document_id)

    def media_paths(self) -> list[str]:
        out = []
        for s in self.steps:
            if s.help:
                out.append(s.help.video)
                if s.help.captions:
                    out.append(s.help.captions)
        return out
