"""Walks a citizen through one flow: current step, answers, validation, next/back, and the
dossier document at the end. One engine per visit; it never reloads its flow, so a bundle
switched in the meantime cannot change a flow under a citizen.

What a kind of step requires before it may be left, and what happens on entering it, is the
kind's business (``flows/steps/<kind>.py``); the engine asks the registry and names no kind in
its walking. Error keys returned by :meth:`FlowEngine.errors`: a field id on form steps;
``applicant`` on the identify step; ``document:<id>`` on documents steps; ``handling_unit``; ``consent``.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from common import clock
from flows import calendar, steps, units
from flows.errors import FlowError
from flows.model import Field, Flow, Step
# the consent text lives with the submit kind; these names stay importable from here (and from flows)
from flows.steps.submit import DEFAULT_CONSENT as DEFAULT_CONSENT
from flows.steps.submit import consent_sha256 as consent_sha256
from flows.steps.submit import consent_text as consent_text
from flows.validation import is_empty, normalize

DOSSIER_SCHEMA = "kiosk-dossier/1"

_APPLICANT_KEYS = ("id_number", "full_name", "date_of_birth", "sex", "nationality", "ethnicity", "religion",
                   "home_town", "residence", "issue_date", "expiry_date", "father_name", "mother_name",
                   "spouse_name", "old_id_number", "phone", "email")


def _iso(v):
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


class FlowEngine:
    """State of one visit through ``flow``.

    ``today`` is the kiosk's local date (ages and date limits use it); ``kiosk_unit`` is
    ``{"province_code", "commune_code", "name"}`` of the kiosk, the fallback handling unit and
    the province a boundary-free dossier may be routed within.
    """

    def __init__(self, flow: Flow, today: date, applicant: dict | None = None, kiosk_unit: dict | None = None):
        self.flow = flow
        self.today = today
        self.kiosk_unit = dict(kiosk_unit) if kiosk_unit else None
        self.answers: dict[str, Any] = {}
        self.applicant: dict | None = None
        self.attachments: dict[str, list[dict]] = {}
        self.handling_unit: dict | None = None
        self.consent: dict | None = None
        self.done = False
        self._touched: set[str] = set()
        self._prefilled: set[str] = set()
        self._index = 0
        self._history: list[int] = []
        # set by edit(..., back_to_review=True): (the review's index, the steps walked after the
        # edited one); next() then goes straight back to the review (see _back_to_review)
        self._return_to: tuple[int, frozenset[int]] | None = None
        for f in flow.fields.values():
            if f.default is not None:
                self.answers[f.id] = normalize(f, f.default)
        if applicant is not None:
            self.set_applicant(applicant)

    # --- reading state -------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.flow.steps[self._index]

    @property
    def history(self) -> list[Step]:
        return [self.flow.steps[i] for i in self._history]

    def resolve(self, name: str) -> Any:
        head, _, attr = name.partition(".")
        if attr:
            if head == "applicant":
                return (self.applicant or {}).get(attr)
            if head == "handling_unit":
                return (self.handling_unit or {}).get(attr)
            return None
        return self.answers.get(name)

    def _visible(self, expr) -> bool:
        return expr is None or expr.test(self.resolve, self.today)

    def step_visible(self, step: Step) -> bool:
        """Whether ``step`` is part of this visit: walked already (or current), or — for a step
        still ahead — not hidden by its ``visible_if``. Steps jumped over by ``skip_to`` are not."""
        idx = self.flow.step_index(step.id)
        if idx <= self._index:
            return idx == self._index or idx in self._history
        return self._visible(step.visible_if)

    def progress(self) -> tuple[int, int]:
        """(number of the current step, number of steps this visit will show), both from 1: the
        steps walked so far, this one, and the ones ahead that the answers given so far leave on
        the path (``skip_to`` and ``visible_if`` followed as ``next()`` would). The total can
        change when a later answer opens or closes a step; the screen says it again each time."""
        shown = len(self._history) + 1
        index = self._index
        ahead = 0
        seen = {index}
        while index < len(self.flow.steps) - 1:
            target = self._following(index)
            if target in seen:  # a loop back can only come from a bad definition: stop counting
                break
            seen.add(target)
            ahead += 1
            index = target
        return shown, shown + ahead

    def visible_fields(self, step: Step | None = None) -> list[Field]:
        step = step or self.step
        return [f for f in step.fields if self._visible(f.visible_if)]

    def step_documents(self, step: Step | None = None) -> list:
        """Documents a documents step collects that apply to this visit, with ``required`` resolved:
        a list of (Document, required: bool)."""
        step = step or self.step
        ids = step.options.get("documents")
        docs = [self.flow.document(i) for i in ids] if ids else self.flow.documents
        out = []
        for d in docs:
            if not self._visible(d.visible_if):
                continue
            required = d.required or (d.required_if is not None and d.required_if.test(self.resolve, self.today))
            # originals to show at the desk cannot be handed in at a kiosk
            out.append((d, required and d.kind != "present"))
        return out

    # --- changing state ------------------------------------------------------------------------
    def set(self, field_id: str, value: Any) -> None:
        """Record a citizen's answer (normalised; a wrong value is kept and reported by errors())."""
        f = self.flow.fields.get(field_id)
        if f is None:
            raise FlowError(en=f"flow {self.flow.id} has no field {field_id!r}")
        if f.type == "address" and isinstance(value, str):
            value = self.address_from_text(value) or value
        elif f.type == "address" and isinstance(value, dict):
            value = self._address(value)
        value = normalize(f, value)
        if is_empty(value):
            self.answers.pop(field_id, None)
        else:
            self.answers[field_id] = value
        self._touched.add(field_id)
        # prefills on this screen that read the answer follow it until the citizen edits them
        self._prefill(f2 for f2 in self.step.fields if f2.id != field_id)

    def _address(self, value: dict) -> dict:
        out = {k: value.get(k) for k in ("province_code", "commune_code", "street") if value.get(k) is not None}
        c = units.commune(str(out.get("commune_code", "")))
        if c is not None and c.province_code == out.get("province_code"):
            street = (out.get("street") or "").strip()
            out["street"] = street
            out["text"] = ", ".join(([street] if street else []) + [c.name, c.province_name])
        return out

    def address_from_text(self, text: str) -> dict | None:
        """An address dict from a written address (the card's residence, pre- or post-2025)."""
        conv = units.convert_old_address(text)
        if conv is None or conv.commune is None:
            return None
        out = self._address({"province_code": conv.province.code, "commune_code": conv.commune.code, "street": conv.street})
        if conv.ambiguous:
            out["converted_from"] = text
            out["ambiguous"] = True
        return out

    def set_applicant(self, person: dict, source: str = "chip", authentication: dict | None = None) -> None:
        """The identified applicant (``devices.idcard`` Person as a dict, a CCCD QR or typed data);
        fills the form fields whose ``prefill`` reads from it, unless the citizen already typed there."""
        if source not in ("chip", "qr", "typed"):
            raise FlowError(en=f"unknown applicant source {source!r}")
        if hasattr(person, "__dataclass_fields__"):
            from dataclasses import asdict

            person = asdict(person)
        a = {k: _iso(person.get(k)) for k in _APPLICANT_KEYS if person.get(k) not in (None, "")}
        a["source"] = source
        if authentication:
            a["authentication"] = dict(authentication)
        self.applicant = a
        self._prefill(self.flow.fields.values())

    def _prefill(self, fields) -> None:
        for f in fields:
            if f.prefill is None or f.id in self._touched:
                continue
            v = f.prefill.evaluate(self.resolve, self.today)
            if f.type == "address" and isinstance(v, str):
                v = self.address_from_text(v)
            elif f.type == "address" and isinstance(v, dict):
                v = self._address(v)
            elif f.type == "yes_no" and not isinstance(v, bool) and v is not None:
                v = bool(v)
            v = normalize(f, _iso(v))
            if not is_empty(v):
                self.answers[f.id] = v
                self._prefilled.add(f.id)
            elif f.id in self._prefilled:
                # the prefill no longer applies (e.g. the applicant is now the grandmother, not the mother)
                self._prefilled.discard(f.id)
                if f.default is not None:
                    self.answers[f.id] = normalize(f, f.default)
                else:
                    self.answers.pop(f.id, None)

    def set_attachment(self, document_id: str, sha256: str, size: int, media_type: str) -> None:
        """A captured or attached file for a document (several pages: call once per file)."""
        d = self.flow.document(document_id)
        if d is None:
            raise FlowError(en=f"flow {self.flow.id} has no document {document_id!r}")
        if not (isinstance(sha256, str) and len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
            raise FlowError(en="attachment sha256 must be 64 lower-case hex digits")
        if not isinstance(size, int) or size <= 0:
            raise FlowError(en="attachment size must be a positive number of bytes")
        files = self.attachments.setdefault(document_id, [])
        if any(x["sha256"] == sha256 for x in files):
            return
        if len(files) >= d.max_files:
            raise FlowError(en=f"at most {d.max_files} files for {document_id}",
                            vi=f"Chỉ được đính kèm tối đa {d.max_files} tệp cho {d.name['vi']}.")
        files.append({"sha256": sha256, "size": size, "media_type": media_type})

    def remove_attachment(self, document_id: str, sha256: str | None = None) -> None:
        files = self.attachments.get(document_id, [])
        self.attachments[document_id] = [x for x in files if sha256 is not None and x["sha256"] != sha256]
        if not self.attachments[document_id]:
            del self.attachments[document_id]

    def allowed_communes(self) -> list:
        """Communes the dossier may be routed to: any commune of the kiosk's province (boundary-free
        filing), or only the kiosk's own when the step says ``scope: kiosk_commune``."""
        step = next((s for s in self.flow.steps if s.kind == "handling_unit"), None)
        if not self.kiosk_unit:
            return []
        if step is not None and step.options.get("scope") == "kiosk_commune":
            c = units.commune(self.kiosk_unit["commune_code"])
            return [c] if c else []
        return units.communes(self.kiosk_unit["province_code"])

    def default_handling_unit(self) -> dict | None:
        """The commune named by the step's ``default_from`` address answer if any, else the commune
        of residence when it is in the kiosk's province, else the kiosk's commune."""
        step = next((s for s in self.flow.steps if s.kind == "handling_unit"), None)
        prefer = (step.options.get("default") if step else None) or "residence"
        source = step.options.get("default_from") if step else None
        if source and isinstance(self.answers.get(source), dict):
            addr = self.answers[source]
            c = units.commune(str(addr.get("commune_code")))
            allowed = {x.code for x in self.allowed_communes()}
            if c and (not allowed or c.code in allowed):
                return {"province_code": c.province_code, "commune_code": c.code, "name": c.name}
        if prefer == "residence" and self.applicant and self.applicant.get("residence"):
            addr = self.address_from_text(self.applicant["residence"])
            if addr and (not self.kiosk_unit or addr["province_code"] == self.kiosk_unit["province_code"]):
                c = units.commune(addr["commune_code"])
                allowed = {x.code for x in self.allowed_communes()}
                if not allowed or c.code in allowed:
                    return {"province_code": c.province_code, "commune_code": c.code, "name": c.name}
        if self.kiosk_unit:
            c = units.commune(self.kiosk_unit["commune_code"])
            if c:
                return {"province_code": c.province_code, "commune_code": c.code, "name": c.name}
        return None

    def set_handling_unit(self, province_code: str, commune_code: str, name: str | None = None) -> None:
        """The commune that will resolve the dossier; must be a real commune of that province."""
        c = units.commune(commune_code)
        if c is None or c.province_code != province_code:
            raise FlowError(en=f"commune {commune_code!r} is not in province {province_code!r}",
                            vi="Xã/phường đã chọn không thuộc tỉnh/thành phố đã chọn.")
        allowed = {x.code for x in self.allowed_communes()}
        if allowed and c.code not in allowed:
            raise FlowError(en=f"commune {commune_code} is outside the communes this kiosk may route to",
                            vi="Xã/phường này nằm ngoài phạm vi tiếp nhận của ki-ốt.")
        self.handling_unit = {"province_code": province_code, "commune_code": commune_code, "name": name or c.name}

    def set_consent(self, given: bool, text_sha256: str, at: datetime | None = None) -> None:
        self.consent = {"given": bool(given), "text_sha256": text_sha256,
                        "at": (at or clock.now()).isoformat(timespec="seconds")}

    # --- validation and moving -----------------------------------------------------------------
    def error_details(self, step: Step | None = None) -> dict[str, tuple[str, str]]:
        """{key: (message_vi, message_en)} for what blocks leaving ``step`` (default: current)."""
        step = step or self.step
        hook = steps.kind(step.kind).errors
        return dict(hook(self, step)) if hook else {}

    def errors(self, step: Step | None = None) -> dict[str, str]:
        """{key: Vietnamese message} for the current (or given) step; empty when it may be left."""
        return {k: v[0] for k, v in self.error_details(step).items()}

    def errors_en(self, step: Step | None = None) -> dict[str, str]:
        return {k: v[1] for k, v in self.error_details(step).items()}

    def _enter(self, index: int) -> None:
        self._index = index
        step = self.step
        self._prefill(step.fields)
        hook = steps.kind(step.kind).enter
        if hook:
            hook(self, step)

    def next(self) -> bool:
        """Validate the current step and move on; False (state unchanged) when errors() is not empty."""
        if self.done or self.error_details():
            return False
        if self._index == len(self.flow.steps) - 1:
            self.done = True
            return True
        self._history.append(self._index)
        target = self._following(self._index)
        if self._return_to is not None:
            target = self._back_to_review(target)
        self._enter(target)
        return True

    def _following(self, index: int) -> int:
        """The step after ``index`` on this visit's path: its first ``skip_to`` that holds, else
        the next step its ``visible_if`` leaves on the path."""
        step = self.flow.steps[index]
        target = index + 1
        for skip in step.skip_to:
            if skip.condition.test(self.resolve, self.today):
                target = self.flow.step_index(skip.to)
                break
        while target < len(self.flow.steps) - 1 and not self._visible(self.flow.steps[target].visible_if):
            target += 1
        return target

    def _back_to_review(self, target: int) -> int:
        """After a change made from the review: pass through the steps walked before that still
        hold as they were left, straight to the review. A step the change newly put on the path,
        or one it left wanting an answer, is shown (the mark stays, so the next ``next()`` goes on)."""
        review, walked = self._return_to
        while target < review and target in walked:
            self._enter(target)  # prefills follow the changed answers, as a walk would
            if self.error_details():
                return target
            self._history.append(target)
            target = self._following(target)
        if target >= review:
            self._return_to = None
        return target

    def back(self) -> bool:
        """Return to the previous step shown; False on the first step or once submitted."""
        if not self._history or steps.kind(self.step.kind).terminal:
            return False
        self._index = self._history.pop()
        self._return_to = None  # going back is walking again, step by step
        self.done = False
        return True

    def edit(self, step_id: str, back_to_review: bool = False) -> bool:
        """Jump back to an already visited step (the review screen's "Sửa" buttons). With
        ``back_to_review`` (from the review step), "Tiếp tục" on that step comes straight back
        to the review instead of walking every step in between again."""
        idx = self.flow.step_index(step_id)
        if idx not in self._history or steps.kind(self.step.kind).terminal:
            return False
        cut = self._history.index(idx)
        walked = frozenset(self._history[cut + 1:])
        here = self._index
        self._history = self._history[:cut]
        self._index = idx
        # the step the citizen was on (the review) is where "Tiếp tục" leads back to
        self._return_to = (here, walked) if back_to_review else None
        return True

    @property
    def editing_from_review(self) -> bool:
        """True while a change made from the review is under way (the screen may say so)."""
        return self._return_to is not None

    # --- results -------------------------------------------------------------------------------
    def fee(self) -> dict:
        """{"amount", "currency", "note": {vi, en}, "note_vi", "note_en"} (+ "unconfirmed": True) for this visit."""
        fee = self.flow.fee
        amount, note = fee.amount, fee.note
        for r in fee.rules:
            if r.condition.test(self.resolve, self.today):
                amount, note = r.amount, r.note
                break
        def count(field_id):
            v = self.answers.get(field_id)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
            return v if ok else None

        if fee.per_page:
            p = fee.per_page
            pages, copies = count(p["pages_field"]), count(p["copies_field"])
            if pages is not None and copies is not None:
                first = min(pages, p["first_pages"])
                per_copy = min(p["cap_per_copy"], first * p["first_rate"] + max(0, pages - first) * p["next_rate"])
                amount = int(per_copy * copies)
        if fee.per_unit:
            n = count(fee.per_unit["field"])
            if n is not None:
                amount = int(fee.per_unit["rate"] * n)
        out = {"amount": int(amount), "currency": fee.currency, "note": dict(note), "note_vi": note["vi"], "note_en": note["en"]}
        if fee.unconfirmed:
            out["unconfirmed"] = True
        return out

    def appointment_date(self, received: datetime) -> date:
        """The date the result is due: ``processing_days`` working days after ``received`` (local
        time), counting from the next working day when received after the flow's cut-off."""
        return calendar.appointment_date(received, self.flow.processing_days, self.flow.receipt_cutoff)

    def visible_answers(self) -> dict[str, Any]:
        """Answers to the fields the citizen could see on the steps actually walked."""
        steps = [self.flow.steps[i] for i in self._history] + [self.step]
        out = {}
        for s in steps:
            for f in self.visible_fields(s):
                if f.id in self.answers:
                    v = self.answers[f.id]
                    if f.type == "address" and isinstance(v, dict):
                        v = {k: v[k] for k in ("province_code", "commune_code", "street", "text") if k in v}
                    out[f.id] = v
        return out

    def dossier(self, uuid: str, kiosk_id: str, created_at: datetime) -> dict:
        """The ``kiosk-dossier/1`` document; raises :class:`FlowError` while anything is missing."""
        missing = {}
        for s in [self.flow.steps[i] for i in self._history] + [self.step]:
            missing.update(self.error_details(s))  # a submit step's errors are its walked steps' again
        if not any(s.kind == "submit" for s in self.history + [self.step]):
            missing["consent"] = ("Chưa đến bước đồng ý và nộp hồ sơ.", "The agree-and-submit step has not been reached.")
        if self.applicant is None:
            missing["applicant"] = ("Chưa xác định người nộp hồ sơ.", "The applicant is not identified.")
        if self.handling_unit is None:
            hu = self.default_handling_unit()
            if hu is None:
                missing["handling_unit"] = ("Chưa chọn nơi giải quyết hồ sơ.", "No handling unit chosen.")
            else:
                self.handling_unit = hu
        if missing:
            first = next(iter(missing.values()))
            raise FlowError(en=f"dossier incomplete: {', '.join(missing)}", vi=first[0])
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=clock.VN_TZ)
        a = self.applicant
        applicant = {k: a[k] for k in ("id_number", "full_name", "date_of_birth", "sex", "residence") if a.get(k)}
        phone = self.answers.get("applicant_phone") or a.get("phone")
        if phone:
            applicant["phone"] = phone
        applicant["source"] = a["source"]
        auth = dict(a.get("authentication") or {})
        if not any(s.kind == "face_check" for s in self.flow.steps):
            # said, not left out: the officer reads that this procedure asks no face check, rather
            # than wondering whether the kiosk skipped it (docs/face.md)
            auth["face_match"] = "not_required"
        if auth:
            applicant["authentication"] = auth
        attachments = []
        for d in self.flow.documents:
            for x in self.attachments.get(d.id, []):
                attachments.append({"document_id": d.id, "name_vi": d.name["vi"], **x})
        fee = self.fee()
        return {
            "schema": DOSSIER_SCHEMA,
            "uuid": uuid,
            "flow": {"id": self.flow.id, "version": self.flow.version, "sha256": self.flow.sha256},
            "procedure": {"code": self.flow.procedure_code, "name_vi": self.flow.name["vi"], "name_en": self.flow.name["en"]},
            "applicant": applicant,
            "answers": self.visible_answers(),
            "attachments": attachments,
            "handling_unit": dict(self.handling_unit),
            "fee": {"amount": fee["amount"], "currency": fee["currency"], "note_vi": fee["note_vi"],
                    **({"unconfirmed": True} if fee.get("unconfirmed") else {})},  # central: paid at the counter
            "processing_days": self.flow.processing_days,
            "receipt_cutoff": self.flow.receipt_cutoff,
            "kiosk_id": kiosk_id,
            "consent": dict(self.consent),
            "created_at": created_at.isoformat(timespec="seconds"),
        }
