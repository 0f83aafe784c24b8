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


NEEDS = ("always", "if", "maybe")
PHOTOS = ("required", "optional", "none")


@dataclass
class Document:
    """One paper of a flow. Whether the citizen needs it is ONE key, ``need`` (issue #18: a paper
    was "không bắt buộc" on the guide and required on the papers screen, because the two read two
    different flags):

    * ``always``: every citizen brings it ("Phải mang");
    * ``if``: needed exactly when ``when`` holds for the answers. Before those answers (the guide)
      it is "Chỉ khi …" (``when_text``); after them it is hidden, or "Phải mang";
    * ``maybe``: needed in a situation only the officer at the counter can tell (the record is not
      on the system yet): "Chỉ khi …" everywhere, never demanded by the kiosk; ``when`` may still
      hide it when the answers rule it out.

    ``bring_original``: the original goes to the counter (handed in or shown). ``photo``: what
    the kiosk asks of it (``required`` when needed, ``optional``, ``none``)."""

    id: str
    name: Text
    need: str = "always"
    when: Expression | None = None
    when_text: Text | None = None
    bring_original: bool = False
    photo: str = "required"
    hint: Text | None = None
    max_files: int = 5

    # --- what FlowEngine.step_documents reads (it resolves a paper for the visit from these) ---
    @property
    def visible_if(self) -> Expression | None:
        """The answers that leave the paper on the list (None: always listed)."""
        return self.when if self.need in ("if", "maybe") else None

    @property
    def required(self) -> bool:
        return self.need == "always"

    @property
    def required_if(self) -> Expression | None:
        return self.when if self.need == "if" else None

    @property
    def kind(self) -> str:
        """"present" for a paper whose photo the kiosk never demands; the engine's rule is
        "a needed paper must be photographed unless it is only presented at the counter"."""
        if self.photo != "required" or self.need == "maybe":
            return "present"
        return "original" if self.bring_original else "copy"

    def label(self, needed_now: bool | None) -> str:
        """"must" (Phải mang) or "only_if" (Chỉ khi …) for a paper listed to the citizen.
        ``needed_now``: the answers decided it is needed (the papers screen), or None (the guide,
        before any answer)."""
        if self.need == "always":
            return "must"
        if self.need == "if" and needed_now:
            return "must"
        return "only_if"


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
    note: Text = dc_field(default_factory=lambda: {"vi": "", "en": ""})


@dataclass
class Fee:
    """The screens and the receipt say the amount; ``note`` replaces it only where the amount is
    not known (an empty note: say the amount). ``guide_text``: the fee on the guide when it
    depends on answers not given yet (rules, per page, per copy)."""

    amount: int
    currency: str
    note: Text = dc_field(default_factory=lambda: {"vi": "", "en": ""})
    rules: list[FeeRule] = dc_field(default_factory=list)
    per_page: dict | None = None
    per_unit: dict | None = None
    online_amount: int | None = None
    unconfirmed: bool = False
    guide_text: Text | None = None


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
