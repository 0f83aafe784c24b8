"""`kiosk demo`'s options reach run_demo (without starting the app: run_demo is replaced), and the
command says where SUMMARY.json is."""
from __future__ import annotations


def _run(monkeypatch, tmp_path, capsys, *options):
    import kiosk.tools.demo as demo
    import kiosk.ui.display as display
    from kiosk.tools.cli import main

    calls = []

    def fake_run_demo(out, flows, keypad_flows=demo.KEYPAD_FLOWS):
        calls.append((list(flows), list(keypad_flows)))
        (out / "SUMMARY.txt").write_text("ok\n", encoding="utf-8")
        (out / "SUMMARY.json").write_text('{"journeys": []}\n', encoding="utf-8")
        return out

    monkeypatch.setattr(demo, "run_demo", fake_run_demo)
    monkeypatch.setattr(display, "prepare_kivy_env", lambda *a, **k: "offscreen")
    assert main(["demo", "--out", str(tmp_path / "demo"), *options]) == 0
    return calls, capsys.readouterr().out


def test_keypad_flows_reach_run_demo_and_the_summary_is_named(monkeypatch, tmp_path, capsys):
    calls, out = _run(monkeypatch, tmp_path, capsys, "--flows", "tam-tru", "--keypad-flows", "khai-sinh, chung-thuc-ban-sao")
    assert calls == [(["tam-tru"], ["khai-sinh", "chung-thuc-ban-sao"])]
    assert str(tmp_path / "demo" / "SUMMARY.json") in out


def test_defaults_are_the_demo_s_and_empty_means_no_keypad_journey(monkeypatch, tmp_path, capsys):
    from kiosk.tools.demo import DEFAULT_FLOWS, KEYPAD_FLOWS

    calls, _ = _run(monkeypatch, tmp_path, capsys)
    assert calls == [(list(DEFAULT_FLOWS), list(KEYPAD_FLOWS))]
    calls, _ = _run(monkeypatch, tmp_path, capsys, "--keypad-flows", "")
    assert calls == [(list(DEFAULT_FLOWS), [])]
