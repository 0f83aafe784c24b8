"""Load flow files (YAML) into :class:`flows.model.Flow`, refusing anything unsafe or wrong.

The order matters for hostile input: size first, then a streaming pass over the YAML events
(depth, anchors/aliases — no tree is built yet, so a deeply nested or "billion laughs" file costs
nothing), then the tree with line numbers, then the JSON Schema, then the checks JSON Schema
cannot express (unique ids, conditions, skip_to order, media paths). Every problem names the
file, the line and the path inside the document.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from flows import conditions
from flows import steps as step_kinds
from flows.errors import ConditionError, FlowLoadError, Problem
from flows.model import (
    Document, Fee, FeeRule, Field, Flow, Help, Option, Rule, Skip, Step,
)

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 16
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "flow.schema.json"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _schema(kinds: tuple[str, ...]) -> dict:
    """The published schema with the step kinds of the registry (flows/steps): the same ones in
    a shipped kiosk (tests/flows/test_step_kinds.py checks), a kind registered at run time too."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    kind = schema["$defs"]["step"]["properties"]["kind"]
    kind["enum"] = [k for k in kind["enum"] if k in kinds] + [k for k in kinds if k not in kind["enum"]]
    return schema


def _validator():
    return _compiled_validator(step_kinds.names())


@lru_cache(maxsize=4)
def _compiled_validator(kinds: tuple[str, ...]):
    import jsonschema

    schema = _schema(kinds)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _fast_check():
    """fastjsonschema compiles the schema to Python: ~40x faster than jsonschema on a valid file.
    It only says yes or no here; jsonschema explains a no with paths and lines."""
    return _compiled_fast_check(step_kinds.names())


@lru_cache(maxsize=4)
def _compiled_fast_check(kinds: tuple[str, ...]):
    try:
        import fastjsonschema
    except ImportError:  # optional speed-up
        return None
    return fastjsonschema.compile(_schema(kinds))


def _slot_text(names: list[str], article: bool) -> str:
    """"receipt (or ticket)"; with ``article``: "a guide step", "an identify step"."""
    text = names[0] + "".join(f" (or {n})" for n in names[1:])
    return f"{'an' if text[0] in 'aeiou' else 'a'} {text} step" if article else text


def _shape_problems(kinds: list[str], registry: dict) -> list[tuple[tuple, str]]:
    """The order every flow keeps (each kind's ``slot``: guide, identify first; review, consent,
    submit, receipt or ticket last) and the kinds a flow may have only once."""
    slots: dict[int, list[str]] = {}
    for k in registry.values():
        if k.slot is not None:
            slots.setdefault(k.slot, []).append(k.name)
    first = sorted(i for i in slots if i >= 0)
    last = sorted(i for i in slots if i < 0)
    out = []

    def fits(i):
        return -len(kinds) <= i < len(kinds) and kinds[i] in slots[i]

    if not all(fits(i) for i in first):
        out.append((("steps",), "a flow must start with " + " then ".join(_slot_text(slots[i], True) for i in first)))
    if not all(fits(i) for i in last):
        out.append((("steps",), "a flow must end with " + " → ".join(_slot_text(slots[i], False) for i in last)))
    for k in dict.fromkeys(kinds):
        if k in registry and registry[k].single and kinds.count(k) > 1:
            out.append((("steps",), f"only one {k} step is allowed"))
    return out


def _path_text(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class _Tree:
    """YAML → plain data, remembering the line of every node by its path."""

    def __init__(self, name: str):
        self.name = name
        self.lines: dict[tuple, int] = {}
        self.problems: list[Problem] = []

    def line(self, path) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def problem(self, path, message):
        self.problems.append(Problem(self.name, message, self.line(path), _path_text(path)))

    def build(self, node, loader, path=()):
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out = {}
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    self.lines[path + ("?",)] = k.start_mark.line + 1
                    self.problem(path + ("?",), "a key must be plain text")
                    continue
                key = k.value
                if key in out:
                    self.lines[path + (key,)] = k.start_mark.line + 1
                    self.problem(path + (key,), f"the key '{key}' appears twice")
                    continue
                out[key] = self.build(v, loader, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, loader, path + (i,)) for i, v in enumerate(node.value)]
        if node.tag == _TIMESTAMP:
            return node.value  # dates stay text: the schema wants "YYYY-MM-DD" strings
        return loader.construct_object(node, deep=True)


def _parse_yaml(data: bytes, name: str) -> tuple[Any, _Tree]:
    tree = _Tree(name)
    if len(data) > MAX_FILE_BYTES:
        raise FlowLoadError(problems=[Problem(name, f"file is {len(data)} bytes; a flow may be at most {MAX_FILE_BYTES} bytes")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FlowLoadError(problems=[Problem(name, f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        depth = 0
        for ev in yaml.parse(text, Loader=_Loader):
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
                raise FlowLoadError(problems=[Problem(name, "YAML anchors and aliases (&, *) are not allowed in flow files",
                                                      ev.start_mark.line + 1)])
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FlowLoadError(problems=[Problem(name, f"nested more than {MAX_DEPTH} levels deep", ev.start_mark.line + 1)])
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise FlowLoadError(problems=[Problem(name, "the file is empty")])
            value = tree.build(node, loader)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        msg = getattr(exc, "problem", None) or str(exc)
        raise FlowLoadError(problems=[Problem(name, f"not valid YAML: {msg}", mark.line + 1 if mark else None)]) from None
    if tree.problems:
        raise FlowLoadError(problems=tree.problems)
    return value, tree


def read_document(text: str, name: str = "<flow>") -> Any:
    """A flow file's plain document as the kiosk parses it (its YAML loader, with the size, depth
    and alias limits), before any check; None when it does not parse. For tools that read a flow
    without loading it (the console's draft editor and its help-clip worker)."""
    try:
        return _parse_yaml(text.encode("utf-8"), name)[0]
    except FlowLoadError:
        return None


def _schema_problems(doc, tree: _Tree) -> list[Problem]:
    fast = _fast_check()
    if fast is not None:
        import fastjsonschema

        try:
            fast(doc)
            return []
        except fastjsonschema.JsonSchemaException:
            pass
    out = []
    for err in sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(err.absolute_path)
        msg = err.message
        if err.validator == "additionalProperties":
            msg = msg.replace("Additional properties are not allowed", "unknown key(s)")
            if path[:1] == ("documents",) and any(f"'{k}'" in msg for k in ("required", "required_if", "visible_if", "kind")):
                # the old two-flag model let a paper be optional on the guide and required on the papers screen
                msg += ("; a paper's need is one key now: need: always | if (with when and when_text) | maybe "
                        "(with when_text), plus bring_original and photo")
        elif err.validator == "enum":
            msg = f"{err.instance!r} is not one of: {', '.join(map(str, err.validator_value))}"
        elif err.validator == "required":
            msg = f"missing key: {msg.split(' is a required')[0]}"
        if len(msg) > 300:
            msg = msg[:300] + "…"
        out.append(Problem(tree.name, msg, tree.line(path), _path_text(path)))
    return out


class _Checker:
    """Checks beyond JSON Schema, and builds the model at the same time."""

    def __init__(self, doc: dict, tree: _Tree):
        self.doc = doc
        self.tree = tree
        self.field_types: dict[str, str] = {}
        self.options: dict[str, set] = {}

    def problem(self, path, message):
        self.tree.problem(path, message)

    def expr(self, text, path, what="condition"):
        try:
            e = conditions.parse(text)
        except ConditionError as exc:
            self.problem(path, f"bad {what} {text!r}: {exc}")
            return None
        bad = conditions.check_names(e, self.field_types)
        if bad:
            self.problem(path, f"{what} {text!r} names unknown field(s): {', '.join(bad)}")
            return None
        for name, lit in e.literals:
            kind = self.field_types.get(name)
            if kind in ("choice", "multi_choice") and lit is not None and lit not in self.options[name]:
                self.problem(path, f"{what} {text!r} compares '{name}' with {lit!r}, which is not one of its options "
                                   f"({', '.join(sorted(self.options[name]))})")
            elif kind == "yes_no" and lit is not None and not isinstance(lit, bool):
                self.problem(path, f"{what} {text!r} compares yes/no field '{name}' with {lit!r}; use true or false")
        return e

    def media(self, value, path, flow_id):
        if value is None:
            return None
        parts = value.split("/")
        if any(p in ("", ".", "..") for p in parts) or posixpath.normpath(value) != value or "\\" in value:
            self.problem(path, f"media path {value!r} must be a plain relative path under media/ (no '..', no empty parts)")
            return None
        if not value.startswith(f"media/help/{flow_id}/"):
            self.problem(path, f"help media must live under media/help/{flow_id}/, not {value!r}")
            return None
        return value

    def build(self, sha256: str, path: str) -> Flow | None:
        d = self.doc
        fid = d["id"]
        step_ids, doc_ids = {}, {}
        # pass 1: ids and field types (conditions may look forward, e.g. a document's visible_if)
        for si, s in enumerate(d["steps"]):
            if s["id"] in step_ids:
                self.problem(("steps", si, "id"), f"step id '{s['id']}' is used twice")
            step_ids[s["id"]] = si
            for fi, f in enumerate(s.get("fields", [])):
                fp = ("steps", si, "fields", fi)
                if f["id"] in self.field_types:
                    self.problem(fp + ("id",), f"field id '{f['id']}' is used twice in this flow")
                self.field_types[f["id"]] = f["type"]
                opts = [o["id"] for o in f.get("options", [])]
                if len(set(opts)) != len(opts):
                    self.problem(fp + ("options",), "option ids must be unique")
                self.options[f["id"]] = set(opts)
                if f["type"] in ("choice", "multi_choice") and not opts:
                    self.problem(fp, f"a {f['type']} field needs options")
                if f["type"] not in ("choice", "multi_choice") and opts:
                    self.problem(fp + ("options",), f"a {f['type']} field cannot have options")
        for di, doc in enumerate(d["documents"]):
            if doc["id"] in doc_ids:
                self.problem(("documents", di, "id"), f"document id '{doc['id']}' is used twice")
            doc_ids[doc["id"]] = di

        registry = step_kinds.kinds()
        kinds = [s["kind"] for s in d["steps"]]
        for where, message in _shape_problems(kinds, registry):
            self.problem(where, message)
        # skip_to may not jump past a step of a kind that says so (the review, the face check)
        barriers = [(i, k) for i, k in enumerate(kinds) if registry[k].skip_barrier]

        steps = []
        for si, s in enumerate(d["steps"]):
            sp = ("steps", si)
            visible = self.expr(s["visible_if"], sp + ("visible_if",)) if "visible_if" in s else None
            if "visible_if" in s and not registry[s["kind"]].can_hide:
                self.problem(sp + ("visible_if",), f"a {s['kind']} step cannot be hidden")
            skips = []
            for ki, sk in enumerate(s.get("skip_to", [])):
                kp = sp + ("skip_to", ki)
                cond = self.expr(sk["if"], kp + ("if",))
                target = step_ids.get(sk["to"])
                if target is None:
                    self.problem(kp + ("to",), f"skip_to names unknown step '{sk['to']}'")
                elif target <= si:
                    self.problem(kp + ("to",), f"skip_to goes back from '{s['id']}' to '{sk['to']}': that can loop for ever (a cycle); skip only forward")
                elif (barrier := next(((i, k) for i, k in barriers if si < i < target), None)) is not None:
                    self.problem(kp + ("to",), f"skip_to cannot jump past the {barrier[1]} step (to '{sk['to']}')")
                elif cond is not None:
                    skips.append(Skip(cond, sk["to"]))
            # every step has a help video by convention; a file may point elsewhere under its folder
            help_ = Help(f"media/help/{fid}/{s['id']}.mp4", f"media/help/{fid}/{s['id']}.vtt", True)
            if "help" in s:
                h = s["help"]
                video = self.media(h["video"], sp + ("help", "video"), fid)
                captions = self.media(h.get("captions"), sp + ("help", "captions"), fid)
                if video:
                    help_ = Help(video, captions, h.get("optional", True))
            opts = dict(s.get("options", {}))
            for ri, ref in enumerate(opts.get("documents", [])):
                if ref not in doc_ids:
                    self.problem(sp + ("options", "documents", ri), f"unknown document '{ref}'")
            ref = opts.get("default_from")
            if ref is not None and self.field_types.get(ref) != "address":
                self.problem(sp + ("options", "default_from"), f"default_from must name an address field, not '{ref}'")
            fields = [self._field(f, sp + ("fields", fi)) for fi, f in enumerate(s.get("fields", []))]
            steps.append(Step(s["id"], s["kind"], s["title"], s.get("text"), help_, fields, opts, visible, skips))

        documents = [self._document(doc, ("documents", di), fid) for di, doc in enumerate(d["documents"])]
        self._titles(d)
        for k in registry.values():
            if k.check_flow is not None:
                for where, message in k.check_flow(d, [i for i, name in enumerate(kinds) if name == k.name]):
                    self.problem(where, message)

        f = d["fee"]
        rules = []
        for ri, r in enumerate(f.get("rules", [])):
            cond = self.expr(r["if"], ("fee", "rules", ri, "if"))
            if cond:
                rules.append(FeeRule(cond, r["amount"], r.get("note") or {"vi": "", "en": ""}))
            self._fee_note(r.get("note"), ("fee", "rules", ri, "note"))
        self._fee_note(f.get("note"), ("fee", "note"))
        if (f.get("rules") or f.get("per_page") or f.get("per_unit")) and "guide_text" not in f:
            self.problem(("fee",), "this fee depends on the answers (rules, per_page or per_unit): add guide_text, "
                                   "what the guide says before those answers (e.g. '2.000 đồng mỗi trang')")
        pp = f.get("per_page")
        if pp:
            for key in ("pages_field", "copies_field"):
                if self.field_types.get(pp[key]) != "number":
                    self.problem(("fee", "per_page", key), f"'{pp[key]}' must be a number field of this flow")
        pu = f.get("per_unit")
        if pu and self.field_types.get(pu["field"]) != "number":
            self.problem(("fee", "per_unit", "field"), f"'{pu['field']}' must be a number field of this flow")
        if pu and pp:
            self.problem(("fee",), "use per_page or per_unit, not both")
        fee = Fee(f["amount"], f["currency"], f.get("note") or {"vi": "", "en": ""}, rules, pp, pu, f.get("online_amount"),
                  f.get("unconfirmed", False), f.get("guide_text"))

        if self.tree.problems:
            return None
        return Flow(
            id=fid, version=d["version"], sha256=sha256, procedure_code=d["procedure_code"], name=d["name"],
            field=d["field"], competent_level=d["competent_level"], fee=fee, processing_days=d["processing_days"],
            documents=documents, steps=steps, authority=d.get("authority"), receipt_cutoff=d.get("receipt_cutoff"),
            keywords=list(d.get("keywords", [])), legal_basis=list(d.get("legal_basis", [])),
            unconfirmed=list(d.get("unconfirmed", [])), path=path, raw=d)

    def _document(self, doc: dict, dp, fid: str) -> Document:
        """One paper; a problem names the flow and the paper (the line comes with the path)."""
        where = f"flow '{fid}', document '{doc['id']}'"
        when = None
        if "when" in doc:
            before = len(self.tree.problems)
            when = self.expr(doc["when"], dp + ("when",))
            self.tree.problems[before:] = [replace(p, message=f"{where}: {p.message}") for p in self.tree.problems[before:]]
        text = doc.get("when_text")
        if text and not (text["vi"].startswith("Chỉ khi") and text["en"].startswith("Only")):
            self.problem(dp + ("when_text",), f"{where}: when_text is shown as it is: start it with 'Chỉ khi' "
                                              f"and 'Only' (e.g. 'Chỉ khi trẻ sinh ở bệnh viện' / 'Only if …')")
        photo = doc.get("photo", "required")
        if doc["need"] == "maybe" and photo == "required":
            self.problem(dp + ("photo",), f"{where}: need: maybe is for what only the counter can tell, so the kiosk "
                                          f"cannot demand its photo: use photo: optional or none")
        return Document(doc["id"], doc["name"], doc["need"], when, text, doc.get("bring_original", False), photo,
                        doc.get("hint"), doc.get("max_files", 5))

    def _fee_note(self, note, path) -> None:
        # the screens and the receipt write "Lệ phí: <fee>": a note starting with the word again
        # printed "Lệ phí: Lệ phí 15.000 đồng"
        if note and (note["vi"].casefold().startswith(("lệ phí", "phí")) or note["en"].casefold().startswith("fee")):
            self.problem(path, "a fee note is shown after the word 'Lệ phí:' / 'Fee:': do not start it with that word again")

    def _titles(self, d: dict) -> None:
        """A step title stands alone under the procedure's name: it must not repeat that name
        (issue #18: "Đăng ký tạm trú — Đăng ký tạm trú")."""
        from flows.text import fold

        for lang in ("vi", "en"):
            name = fold(d["name"][lang])
            for si, s in enumerate(d["steps"]):
                title = fold(s["title"][lang])
                if name in title or title in name:
                    self.problem(("steps", si, "title", lang), f"the step title {s['title'][lang]!r} repeats the procedure's "
                                                               f"name {d['name'][lang]!r}; the screen shows both: say what this step is")

    def _field(self, f: dict, fp) -> Field:
        v = dict(f.get("validation", {}))
        rules = []
        for ri, r in enumerate(v.pop("rules", [])):
            e = self.expr(r["check"], fp + ("validation", "rules", ri, "check"), "rule")
            if e:
                rules.append(Rule(e, r["message"]))
        min_date = self.expr(v.pop("min_date"), fp + ("validation", "min_date"), "min_date") if "min_date" in v else None
        max_date = self.expr(v.pop("max_date"), fp + ("validation", "max_date"), "max_date") if "max_date" in v else None
        if (min_date or max_date) and f["type"] != "date":
            self.problem(fp + ("validation",), "min_date / max_date apply to date fields only")
        if "pattern" in v:
            why = _pattern_problem(v["pattern"])
            if why:
                self.problem(fp + ("validation", "pattern"), why)
        default = f.get("default")
        if default is not None:
            t = f["type"]
            ok = {
                "choice": lambda x: x in self.options[f["id"]],
                "multi_choice": lambda x: isinstance(x, list) and all(i in self.options[f["id"]] for i in x),
                "yes_no": lambda x: isinstance(x, bool),
                "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
            }.get(t, lambda x: isinstance(x, str))(default)
            if not ok:
                self.problem(fp + ("default",), f"default {default!r} does not fit a {t} field")
        return Field(
            id=f["id"], type=f["type"], label=f["label"], hint=f.get("hint"), required=f.get("required", False),
            options=[Option(o["id"], o["label"]) for o in f.get("options", [])], default=default,
            prefill=self.expr(f["prefill"], fp + ("prefill",), "prefill") if "prefill" in f else None,
            validation=v, rules=rules, min_date=min_date, max_date=max_date,
            visible_if=self.expr(f["visible_if"], fp + ("visible_if",)) if "visible_if" in f else None,
            keyboard=f.get("keyboard"))


def _pattern_problem(pattern: str) -> str | None:
    """Why a validation pattern is unacceptable, or None. Nested repetition such as ``(a+)+`` can
    take exponential time on a citizen's input and freeze the kiosk (ReDoS), so it is refused."""
    import re

    try:
        re.compile(pattern)
        import re._parser as sre  # Python 3.11+
    except re.error as exc:
        return f"bad regular expression: {exc}"
    except ImportError:  # pragma: no cover - older Pythons: compile check only
        return None
    repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)}

    def walk(items, inside_repeat: bool) -> bool:
        for op, av in items:
            if op in repeats:
                lo, hi, sub = av
                unbounded = hi is sre.MAXREPEAT or hi > 1
                if inside_repeat and unbounded:
                    return True
                if walk(sub, inside_repeat or unbounded):
                    return True
            elif op is sre.SUBPATTERN:
                if walk(av[-1], inside_repeat):
                    return True
            elif op is sre.BRANCH:
                if any(walk(b, inside_repeat) for b in av[1]):
                    return True
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                if walk(av[1], inside_repeat):
                    return True
        return False

    if walk(sre.parse(pattern), False):
        return "nested repetition such as (a+)+ can freeze the kiosk on some inputs; simplify the pattern"
    return None


def load_flow_bytes(data: bytes, name: str = "<flow>") -> Flow:
    """Parse and check one flow file's bytes; raises :class:`FlowLoadError` listing every problem."""
    doc, tree = _parse_yaml(data, name)
    if not isinstance(doc, dict):
        raise FlowLoadError(problems=[Problem(name, "a flow file must be a mapping of keys (id, version, steps, …)", 1)])
    problems = _schema_problems(doc, tree)
    if problems:
        raise FlowLoadError(problems=problems)
    flow = _Checker(doc, tree).build(hashlib.sha256(data).hexdigest(), name)
    if flow is None:
        raise FlowLoadError(problems=tree.problems)
    return flow


def load_flow(path: str | Path) -> Flow:
    """Load one flow file from disk (size checked before reading it all)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FlowLoadError(problems=[Problem(str(p), f"file is {size} bytes; a flow may be at most {MAX_FILE_BYTES} bytes")])
        data = p.read_bytes()
    except OSError as exc:
        raise FlowLoadError(problems=[Problem(str(p), f"cannot read: {exc.strerror or exc}")]) from None
    return load_flow_bytes(data, str(p))


def flow_files(path: str | Path) -> list[Path]:
    """The flow files a path stands for: the file itself, or every *.yaml / *.yml under a folder."""
    p = Path(path)
    if p.is_dir():
        return sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file())
    return [p]
