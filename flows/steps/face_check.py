"""face_check: the person at the kiosk is the person on the card — the live face against the chip
photo (DG2), with a liveness challenge, or a member of staff's confirmation (docs/face.md).

The outcome goes in the dossier beside the chip's checks, in ``applicant.authentication``:
``face_match`` (``passed`` | ``failed`` | ``fallback_staff`` | ``not_required``) and ``face`` (the
numbers: distance, threshold, model, liveness, tries, and for a staff confirmation who confirmed) —
never an image or an embedding. A new applicant (``set_applicant``) drops it, so going back and
laying another card asks again. Leaving the step needs ``passed`` or ``fallback_staff``.
Loader rules: after the identify step, which must read the photo (``options: {photo: true}``); at
most one; ``skip_to`` may not jump over it.
"""
from __future__ import annotations

from flows.steps import Messages, StepKind

RESULTS = ("passed", "failed", "fallback_staff", "not_required")
LETS_THROUGH = ("passed", "fallback_staff", "not_required")
MODEL = "dlib_face_recognition_resnet_model_v1"   # devices.face.MODEL_NAME (flows does not import devices)


def outcome(engine) -> str | None:
    """The applicant's face_match so far, or None."""
    return ((engine.applicant or {}).get("authentication") or {}).get("face_match")


def record(engine, result: str, **facts) -> None:
    """Write the outcome into the applicant's authentication (the dossier's). ``facts``: distance
    (float or None), threshold, model, liveness (``passed``/``failed``/``not_checked``), tries,
    confirmed_by (a staff confirmation: "officer:<account>" for an officer's one-time code checked by
    central, "staff_pin" for the kiosk PIN used offline). Nothing else is accepted."""
    if result not in RESULTS:
        raise ValueError(f"unknown face_match {result!r}")
    allowed = {"distance", "threshold", "model", "liveness", "tries", "confirmed_by"}
    unknown = set(facts) - allowed
    if unknown:
        raise ValueError(f"not recorded in a dossier: {', '.join(sorted(unknown))}")
    if engine.applicant is None:
        raise ValueError("no applicant yet")
    auth = engine.applicant.setdefault("authentication", {})
    auth["face_match"] = result
    face = {k: v for k, v in facts.items() if v is not None}
    if isinstance(face.get("distance"), float):
        face["distance"] = round(face["distance"], 4)
    auth["face"] = face


def errors(engine, step) -> Messages:
    if not (engine.applicant or {}).get("id_number"):
        return {"face": ("Vui lòng đặt thẻ căn cước lên đầu đọc thẻ trước.", "Please lay your ID card on the reader first.")}
    if outcome(engine) not in LETS_THROUGH:
        return {"face": ("Vui lòng nhìn vào camera để máy so khuôn mặt với ảnh trên thẻ, hoặc bấm "
                         "“Nhờ cán bộ xác nhận”.",
                         "Please look at the camera so the kiosk can compare your face with the card's photo, "
                         "or press “Ask staff to confirm”.")}
    return {}


def sample(engine, step, choices) -> None:
    """The sample citizen passes: the outcome recorded as the kiosk would, with the distance the
    simulated camera's card holder gets against the sample card (tests/devices/face)."""
    if outcome(engine) is None and engine.applicant is not None:
        record(engine, "passed", distance=0.11, threshold=0.6, model=MODEL, liveness="passed", tries=1)


def check_flow(doc: dict, at: list[int]) -> list[tuple[tuple, str]]:
    problems: list[tuple[tuple, str]] = []
    steps = doc["steps"]
    for i in at:
        before = [j for j in range(i) if steps[j]["kind"] == "identify"]
        if not before:
            problems.append((("steps", i), "a face_check step needs an identify step before it"))
        elif not (steps[before[-1]].get("options") or {}).get("photo"):
            problems.append((("steps", before[-1], "options"),
                             "the identify step before a face_check must read the photo (options: {photo: true})"))
    return problems


KIND = StepKind("face_check", errors=errors, sample=sample, single=True, skip_barrier=True, check_flow=check_flow)
