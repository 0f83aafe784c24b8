"""The small expression language of `visible_if`, `skip_to` and `prefill`.

Parsed once, at load time, into a tuple tree and checked against the flow's field ids; evaluation
walks the tree (there is no ``eval``). Grammar::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := term (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") term)?
    term    := NUMBER | STRING | "true" | "false" | "null" | NAME | NAME "(" args ")"
             | "[" literals "]" | "(" expr ")"
    NAME    := field id, "applicant.<attribute>", "handling_unit.<attribute>" or "today"

Functions: ``age(x)`` whole years from date ``x`` to today; ``days_since(x)``; ``len(x)``;
``is_set(x)``; ``first_word(x)`` / ``last_words(x)`` (surname / given names of a full name);
``year(x)``; ``commune_of(address)`` (the address without its street);
``choose(condition, a, b)`` is ``a`` when the condition holds, else ``b`` (for prefills);
``id_matches(id, birth_date, sex)`` is false only when a 12-digit personal ID number contradicts
the birth date or sex given (flows.id_number).
Strings compared with dates are read as ISO dates (``child_birth_date < '2025-07-01'``). A
comparison that does not make sense at run time (a missing answer compared with ``<``) is false,
never an exception: a citizen must not see a crash because an answer is still empty.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable, Iterable

from flows.errors import ConditionError

MAX_LENGTH = 500
MAX_DEPTH = 16

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>-?\d+(?:\.\d+)?)
    | (?P<str>'[^'\\\n]*'|"[^"\\\n]*")
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
FUNCTIONS = {"choose": 3, "id_matches": 3, "year": 1, "commune_of": 1, "age": 1, "days_since": 1, "len": 1, "is_set": 1, "first_word": 1, "last_words": 1}
APPLICANT_ATTRIBUTES = {
    "id_number", "full_name", "date_of_birth", "sex", "nationality", "ethnicity", "religion",
    "home_town", "residence", "issue_date", "expiry_date", "father_name", "mother_name",
    "spouse_name", "old_id_number", "phone", "email", "source",
}
HANDLING_UNIT_ATTRIBUTES = {"province_code", "commune_code", "name"}


def _tokenize(text: str) -> list[tuple[str, Any, int]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError(f"unexpected character {text[pos:].lstrip()[:1]!r}", pos)
        start = m.start(m.lastgroup)
        kind, value = m.lastgroup, m.group(m.lastgroup)
        if kind == "num":
            value = float(value) if "." in value else int(value)
        elif kind == "str":
            value = value[1:-1]
        elif kind == "name" and value in _KEYWORDS:
            kind = "kw"
        tokens.append((kind, value, start))
        pos = m.end()
    tokens.append(("end", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, kind, value=None):
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = value or kind
            got = "the end" if tok[0] == "end" else repr(tok[1])
            raise ConditionError(f"expected {want!r} but found {got}", tok[2])
        return tok

    def deeper(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"expression nested more than {MAX_DEPTH} levels", self.peek()[2])

    def parse(self):
        node = self.or_()
        tok = self.peek()
        if tok[0] != "end":
            raise ConditionError(f"unexpected {tok[1]!r}", tok[2])
        return node

    def or_(self):
        node = self.and_()
        while self.peek()[:2] == ("kw", "or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.not_()
        while self.peek()[:2] == ("kw", "and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self):
        if self.peek()[:2] == ("kw", "not"):
            self.take()
            self.deeper()
            node = ("not", self.not_())
            self.depth -= 1
            return node
        return self.cmp()

    def cmp(self):
        left = self.term()
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return ("cmp", tok[1], left, self.term())
        if tok[:2] == ("kw", "in"):
            self.take()
            return ("cmp", "in", left, self.term())
        if tok[:2] == ("kw", "not") and self.tokens[self.i + 1][:2] == ("kw", "in"):
            self.i += 2
            return ("cmp", "not in", left, self.term())
        return left

    def term(self):
        kind, value, pos = self.take()
        if kind in ("num", "str"):
            return ("lit", value)
        if kind == "kw" and value in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[value])
        if kind == "name":
            if self.peek()[:2] == ("op", "("):
                if value not in FUNCTIONS:
                    raise ConditionError(f"unknown function {value!r}; known: {', '.join(sorted(FUNCTIONS))}", pos)
                self.take()
                self.deeper()
                args = [] if self.peek()[:2] == ("op", ")") else [self.or_()]
                while self.peek()[:2] == ("op", ","):
                    self.take()
                    args.append(self.or_())
                self.expect("op", ")")
                self.depth -= 1
                if len(args) != FUNCTIONS[value]:
                    raise ConditionError(f"{value}() takes {FUNCTIONS[value]} argument(s), got {len(args)}", pos)
                return ("call", value, tuple(args))
            return ("name", value)
        if (kind, value) == ("op", "("):
            self.deeper()
            node = self.or_()
            self.expect("op", ")")
            self.depth -= 1
            return node
        if (kind, value) == ("op", "["):
            items = []
            while self.peek()[:2] != ("op", "]"):
                if items:
                    self.expect("op", ",")
                t = self.take()
                if t[0] not in ("num", "str"):
                    raise ConditionError("a list may hold only numbers and quoted strings", t[2])
                items.append(t[1])
            self.take()
            return ("lit", tuple(items))
        got = "the end" if kind == "end" else repr(value)
        raise ConditionError(f"expected a value, a name or '(' but found {got}", pos)


class Expression:
    """A parsed expression; ``names`` are the answers / applicant attributes it reads."""

    __slots__ = ("source", "tree", "names", "literals")

    def __init__(self, source: str, tree: tuple):
        self.source = source
        self.tree = tree
        self.names: set[str] = set()
        self.literals: list[tuple[str, Any]] = []  # (name, literal) pairs compared directly
        self._collect(tree)

    def _collect(self, node):
        op = node[0]
        if op == "name":
            self.names.add(node[1])
        elif op in ("and", "or"):
            self._collect(node[1])
            self._collect(node[2])
        elif op == "not":
            self._collect(node[1])
        elif op == "call":
            for a in node[2]:
                self._collect(a)
        elif op == "cmp":
            self._collect(node[2])
            self._collect(node[3])
            for a, b in ((node[2], node[3]), (node[3], node[2])):
                if a[0] == "name" and b[0] == "lit":
                    values = b[1] if isinstance(b[1], tuple) else (b[1],)
                    self.literals.extend((a[1], v) for v in values)

    def evaluate(self, resolve: Callable[[str], Any], today: date) -> Any:
        return _eval(self.tree, resolve, today)

    def test(self, resolve: Callable[[str], Any], today: date) -> bool:
        return bool(_eval(self.tree, resolve, today))

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def parse(text: str) -> Expression:
    """Parse an expression; raises :class:`ConditionError` with the character position."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("an expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"expression longer than {MAX_LENGTH} characters")
    return Expression(text, _Parser(text).parse())


def check_names(expr: Expression, known_fields: Iterable[str]) -> list[str]:
    """Names the expression reads that the flow does not define (empty list: all fine)."""
    known = set(known_fields)
    bad = []
    for name in sorted(expr.names):
        head, _, attr = name.partition(".")
        if attr:
            allowed = {"applicant": APPLICANT_ATTRIBUTES, "handling_unit": HANDLING_UNIT_ATTRIBUTES}.get(head)
            if allowed is None or attr not in allowed:
                bad.append(name)
        elif name != "today" and name not in known:
            bad.append(name)
    return bad


# --- evaluation -------------------------------------------------------------------------------

def _as_date(v):
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            return None
    return None


def _age(v, today: date):
    d = _as_date(v)
    if d is None:
        return None
    return today.year - d.year - ((today.month, today.day) < (d.month, d.day))


def _call(name, args, today):
    if name == "choose":
        return args[1] if args[0] else args[2]
    if name == "id_matches":
        from flows.id_number import id_matches

        return id_matches(*args)
    (x,) = args
    if name == "age":
        return _age(x, today)
    if name == "commune_of":
        if isinstance(x, dict) and x.get("commune_code"):
            return {"province_code": x.get("province_code"), "commune_code": x["commune_code"], "street": ""}
        return None
    if name == "year":
        d = _as_date(x)
        return None if d is None else d.year
    if name == "days_since":
        d = _as_date(x)
        return None if d is None else (today - d).days
    if name == "len":
        return len(x) if isinstance(x, (str, list, tuple)) else 0
    if name == "is_set":
        return x not in (None, "", [], ())
    if name == "first_word":
        return x.split()[0] if isinstance(x, str) and x.split() else None
    if name == "last_words":
        return " ".join(x.split()[1:]) or None if isinstance(x, str) else None
    raise ConditionError(f"unknown function {name!r}")  # unreachable after parse()


def _compare(op, a, b):
    if op in ("in", "not in"):
        if isinstance(b, (list, tuple, set)):
            found = a in b
        elif isinstance(b, str) and isinstance(a, str):
            found = a in b
        else:
            found = False
        return found if op == "in" else not found
    if isinstance(a, date) and isinstance(b, str):
        b = _as_date(b)
    elif isinstance(b, date) and isinstance(a, str):
        a = _as_date(a)
    if isinstance(a, bool) or isinstance(b, bool):
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        return False
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    try:
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b
    except TypeError:
        return False


def _eval(node, resolve, today):
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "name":
        return today if node[1] == "today" else resolve(node[1])
    if op == "and":
        return bool(_eval(node[1], resolve, today)) and bool(_eval(node[2], resolve, today))
    if op == "or":
        return bool(_eval(node[1], resolve, today)) or bool(_eval(node[2], resolve, today))
    if op == "not":
        return not _eval(node[1], resolve, today)
    if op == "cmp":
        return _compare(node[1], _eval(node[2], resolve, today), _eval(node[3], resolve, today))
    if op == "call":
        return _call(node[1], [_eval(a, resolve, today) for a in node[2]], today)
    raise ConditionError(f"bad expression node {op!r}")
