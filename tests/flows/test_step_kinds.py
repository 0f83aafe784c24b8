"""Step kinds registered in one place (flows/steps, kiosk/ui/steps): the registry names exactly the
kinds the published schema allows, every kind has its engine, sample, preview and kiosk entries,
and a kind registered here and nowhere else is loaded, walked and previewed."""
from __future__ import annotations

import ast
import copy
import importlib.util
import json
import subprocess
import sys
import textwrap
from datetime import date

import pytest

from flows import FlowEngine, steps
from flows.loader import SCHEMA_PATH, _schema, load_flow_bytes
from flows.preview import render_step
from flows.sample import KIOSK_UNIT, walk
from flows.errors import FlowLoadError

from flows_testdata import DEFINITIONS, MINIMAL, ROOT, dump

TODAY = date(2026, 11, 23)


def published_kinds() -> list[str]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema["$defs"]["step"]["properties"]["kind"]["enum"]


def test_the_registry_names_exactly_the_kinds_the_schema_allows():
    assert sorted(steps.names()) == sorted(published_kinds())
    assert len(set(published_kinds())) == len(published_kinds())
    # the loader validates against the published schema unchanged
    assert _schema(steps.names()) == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_every_kind_declares_engine_sample_and_preview_entries():
    import flows

    shipped = flows.load_registry(DEFINITIONS).flows
    for name, k in steps.kinds().items():
        assert isinstance(k, steps.StepKind) and k.name == name
        for hook in (k.errors, k.enter, k.sample, k.check_flow):
            assert hook is None or callable(hook), (name, hook)
        assert callable(k.preview), name
        assert k.slot is None or isinstance(k.slot, int), name
    # every kind a shipped flow uses previews to text and is left by the sample walker
    used = {s.kind for f in shipped for s in f.steps}
    assert used <= set(steps.names())
    for f in shipped:
        for i, s in enumerate(f.steps, 1):
            lines = steps.kind(s.kind).preview(f, s)
            assert all(isinstance(x, str) for x in lines), (f.id, s.id)
            assert f"[{s.kind}]" in render_step(f, s, i)
    # the kinds that block "next" say so until their sample answers are given
    blocking = {n for n, k in steps.kinds().items() if k.errors is not None}
    assert {"identify", "form", "documents", "handling_unit", "submit"} <= blocking
    assert {n for n, k in steps.kinds().items() if k.sample is not None} <= blocking


def test_the_flow_shape_comes_from_the_kinds():
    k = steps.kinds()
    assert [n for n in k if k[n].slot == 0] == ["guide"] and [n for n in k if k[n].slot == 1] == ["identify"]
    assert {n for n in k if k[n].slot == -1} == {"receipt", "ticket"}
    # consent and submit are one screen (issue #18): the submit step carries the consent
    assert "consent" not in k
    assert [k[n].slot for n in ("review", "submit")] == [-3, -2]
    assert sorted(n for n in k if k[n].skip_barrier) == ["face_check", "review"]   # nobody skips the face check
    assert {n for n in k if not k[n].can_hide} == {"identify", "review", "submit", "receipt", "ticket"}
    assert {n for n in k if k[n].single} == {"identify", "face_check", "review", "submit"}
    assert {n for n in k if k[n].terminal} == {"receipt", "ticket"}


def _class_in_module(ref: str) -> bool:
    """``module:Class`` names a class defined in that module (read, not imported: no Kivy here)."""
    module, _, name = ref.partition(":")
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, ref
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    return any(isinstance(n, ast.ClassDef) and n.name == name for n in tree.body)


def test_every_kind_has_a_kiosk_screen_texts_and_scripted_handlers():
    from kiosk.ui.i18n import tr
    from kiosk.ui.steps import StepUI, by_screen, screen_for, ui_kinds

    entries = ui_kinds()
    assert sorted(entries) == sorted(steps.names())
    for name, e in entries.items():
        assert isinstance(e, StepUI) and e.kind == name
        assert e.screen and screen_for(name) == e.screen and by_screen(e.screen) is e
        assert _class_in_module(e.screen_class), e.screen_class
        assert callable(e.citizen), name
        assert e.clip is None or callable(e.clip), name
        assert e.button is None or tr(e.button) != e.button, (name, e.button)
        assert "{button}" not in e.hint_vi or e.button is not None, name
    assert by_screen("home") is None


def test_every_text_key_the_screens_and_tools_ask_for_exists_in_both_languages():
    """tr("key") with a literal key anywhere in kiosk/ui or kiosk/tools names a text of
    kiosk/ui/texts.yaml (tr falls back to the key itself, which a citizen must never see)."""
    import ast

    from kiosk.ui.i18n import STRINGS

    missing, checked = [], 0
    for path in sorted((ROOT / "kiosk").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("tr", "_t")):
                continue
            keys = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)][:1]
            keys += [v.value for a in node.args if isinstance(a, ast.IfExp)  # tr("form.yes" if v else "form.no")
                     for v in (a.body, a.orelse) if isinstance(v, ast.Constant)]
            checked += len(keys)
            missing += [f"{path.relative_to(ROOT)}:{node.lineno}: {k}" for k in keys if k not in STRINGS]
    assert not missing, missing
    assert checked > 100, checked  # the scan sees the screens' calls at all
    assert all(vi and en for vi, en in STRINGS.values())


def test_the_kiosk_side_of_the_kinds_imports_without_kivy():
    code = textwrap.dedent(f"""
        import sys
        sys.modules["kivy"] = None
        sys.path.insert(0, {str(ROOT)!r})
        from kiosk.ui.steps import ui_kinds
        from kiosk.ui.i18n import tr
        ui_kinds()
        print(tr("review.edit"), len(ui_kinds()))
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["Sửa", str(len(steps.names()))]


# --- a throwaway kind, registered here and nowhere else ---------------------------------------------
def _pause_errors(engine, step):
    if not getattr(engine, "paused", False):
        return {"pause": ("Xin chờ một chút.", "Please wait a moment.")}
    return {}


def _pause_sample(engine, step, choices):
    engine.paused = True


PAUSE = steps.StepKind("pause", errors=_pause_errors, sample=_pause_sample,
                       preview=lambda flow, step: ["", f"(a pause of {len(flow.steps)} steps' flow)"],
                       can_hide=False, single=True)
LETTER = steps.StepKind("letter", slot=-1, can_hide=False, terminal=True)


@pytest.fixture
def throwaway_kinds():
    steps.register(PAUSE)
    steps.register(LETTER)
    try:
        yield
    finally:
        steps.unregister("pause")
        steps.unregister("letter")


def _with_pause(last="receipt"):
    doc = copy.deepcopy(MINIMAL)
    doc["steps"].insert(2, {"id": "cho", "kind": "pause", "title": {"vi": "Chờ", "en": "Wait"}})
    doc["steps"][-1]["kind"] = last
    return doc


def test_a_kind_registered_in_flows_only_is_loaded_walked_and_previewed(throwaway_kinds):
    flow = load_flow_bytes(dump(_with_pause()), "pause.yaml")
    assert [s.kind for s in flow.steps][:3] == ["guide", "identify", "pause"]
    e = FlowEngine(flow, today=TODAY, kiosk_unit=KIOSK_UNIT)
    e.next()
    e.set_applicant({"id_number": "001185012345", "full_name": "Trần Thị Ngọc Ánh"}, "typed")
    assert e.next() and e.step.kind == "pause"
    assert not e.next() and e.errors() == {"pause": "Xin chờ một chút."}
    _pause_sample(e, e.step, {})
    assert e.next() and e.step.kind == "form"
    done = walk(flow, TODAY)  # the sample walker answers it through the kind's sample hook
    assert done.done and "cho" in [s.id for s in done.history]
    assert "(a pause of 9 steps' flow)" in render_step(flow, flow.steps[2], 3)


def test_a_registered_kind_gets_the_loader_rules_it_declares(throwaway_kinds):
    doc = _with_pause()
    doc["steps"][2]["visible_if"] = "need_paper == true"
    with pytest.raises(FlowLoadError, match="a pause step cannot be hidden"):
        load_flow_bytes(dump(doc), "x.yaml")
    doc = _with_pause()
    doc["steps"].insert(3, copy.deepcopy(dict(doc["steps"][2], id="cho-nua")))
    with pytest.raises(FlowLoadError, match="only one pause step is allowed"):
        load_flow_bytes(dump(doc), "x.yaml")
    # another last step: it ends a flow like a receipt, and there is no going back from it
    flow = load_flow_bytes(dump(_with_pause(last="letter")), "letter.yaml")
    engine = walk(flow, TODAY)
    assert engine.step.kind == "letter" and not engine.back()
    doc = _with_pause(last="pause")
    with pytest.raises(FlowLoadError, match=r"must end with review → submit → receipt \(or ticket\) \(or letter\)"):
        load_flow_bytes(dump(doc), "x.yaml")


def test_an_unregistered_kind_is_refused_again():
    with pytest.raises(FlowLoadError, match="'pause' is not one of"):
        load_flow_bytes(dump(_with_pause()), "x.yaml")
    assert "pause" not in steps.names()
