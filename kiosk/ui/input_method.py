"""Vietnamese input methods (Telex and VNI), pure and Kivy-free.

A word is recomposed from its raw keystrokes every time a key arrives, so backspace simply
drops the last keystroke and "undo by repeating" ("ss" → "s") falls out of the same rules.
Tones are placed by the traditional rule most ID cards and registers use ("Hòa", "Thủy"):
the vowel carrying a diacritic wins (ơ in "ươ"); a final consonant moves the tone to the last
vowel; otherwise the first of two vowels, the middle of three; "qu" and "gi" are consonants.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

TONES = {"acute": "\u0301", "grave": "\u0300", "hook": "\u0309", "tilde": "\u0303", "dot": "\u0323"}
_MARKS = {"circ": "\u0302", "breve": "\u0306", "horn": "\u031b"}

TELEX_TONES = {"s": "acute", "f": "grave", "r": "hook", "x": "tilde", "j": "dot"}
VNI_TONES = {"1": "acute", "2": "grave", "3": "hook", "4": "tilde", "5": "dot"}
VOWELS = set("aeiouy")


@dataclass
class _Letter:
    base: str            # one ASCII letter, case kept
    mark: str | None = None   # circ | breve | horn | stroke (đ)

    @property
    def low(self) -> str:
        return self.base.lower()

    def render(self, tone: str | None = None) -> str:
        if self.mark == "stroke":
            return "Đ" if self.base.isupper() else "đ"
        s = self.base + (_MARKS[self.mark] if self.mark else "") + (TONES[tone] if tone else "")
        return unicodedata.normalize("NFC", s)


@dataclass
class _Word:
    letters: list[_Letter] = field(default_factory=list)
    tone: str | None = None

    def vowel_positions(self) -> list[int]:
        pos = [i for i, l in enumerate(self.letters) if l.low in VOWELS]
        # "qu" and "gi" followed by another vowel: the u / i belongs to the consonant
        if len(pos) >= 2:
            first = pos[0]
            prev = self.letters[first - 1].low if first else ""
            if (prev == "q" and self.letters[first].low == "u") or (
                prev == "g" and self.letters[first].low == "i" and first == 1
            ):
                pos = pos[1:]
        return pos

    def tone_position(self) -> int | None:
        pos = self.vowel_positions()
        if not pos:
            return None
        # the vowel cluster is the last contiguous run of vowels
        cluster = [pos[-1]]
        for p in reversed(pos[:-1]):
            if p == cluster[0] - 1:
                cluster.insert(0, p)
            else:
                break
        marked = [p for p in cluster if self.letters[p].mark in ("circ", "breve", "horn")]
        if marked:
            return marked[-1]  # ươ → ơ; a single marked vowel otherwise
        has_final = cluster[-1] < len(self.letters) - 1
        if len(cluster) == 1 or has_final:
            return cluster[-1]
        if len(cluster) == 2:
            return cluster[0]
        return cluster[1]

    def render(self) -> str:
        at = self.tone_position() if self.tone else None
        return "".join(l.render(self.tone if i == at else None) for i, l in enumerate(self.letters))


def _apply_mark(word: _Word, targets: str, mark: str) -> bool:
    """Put ``mark`` on the last letter in ``targets``; repeating the key removes it (False)."""
    for letter in reversed(word.letters):
        if letter.low in targets:
            if letter.mark == mark:
                letter.mark = None
                return False
            letter.mark = mark
            return True
    return False


def _telex_w(word: _Word) -> bool:
    lows = [l.low for l in word.letters]
    # "uo" + w → ươ (both get the horn)
    for i in range(len(lows) - 1, 0, -1):
        if lows[i - 1] == "u" and lows[i] == "o":
            u, o = word.letters[i - 1], word.letters[i]
            if u.mark == "horn" and o.mark == "horn":
                u.mark = o.mark = None
                return False
            u.mark = o.mark = "horn"
            return True
    for letter in reversed(word.letters):
        if letter.low in "aou":
            want = "breve" if letter.low == "a" else "horn"
            if letter.mark == want:
                letter.mark = None
                return False
            letter.mark = want
            return True
    return False


def compose(raw: str, method: str = "telex") -> str:
    """Compose one word from its raw keystrokes."""
    word = _Word()
    tones = TELEX_TONES if method == "telex" else VNI_TONES
    for ch in raw:
        low = ch.lower()
        has_vowel = any(l.low in VOWELS for l in word.letters)
        literal = False
        if method == "off":
            literal = True
        elif low in tones and has_vowel:
            if word.tone == tones[low]:
                word.tone = None
                literal = True
            else:
                word.tone = tones[low]
        elif (method == "telex" and low == "z") or (method == "vni" and low == "0"):
            if word.tone:
                word.tone = None
            else:
                literal = True
        elif method == "telex" and low in "aeo" and word.letters and any(
            l.low == low for l in word.letters if l.low in VOWELS
        ):
            target = next(l for l in reversed(word.letters) if l.low == low)
            if target.mark == "circ":
                target.mark = None
                literal = True
            else:
                target.mark = "circ"
        elif method == "telex" and low == "d" and any(l.low == "d" for l in word.letters):
            target = next(l for l in word.letters if l.low == "d")
            if target.mark == "stroke":
                target.mark = None
                literal = True
            else:
                target.mark = "stroke"
        elif method == "telex" and low == "w":
            if not _telex_w(word):
                # a lone w (or an undo) — "w" alone at a vowel slot is ư
                if not any(l.low in "aou" for l in word.letters):
                    word.letters.append(_Letter("U" if ch.isupper() else "u", "horn"))
                else:
                    literal = True
        elif method == "vni" and low == "6" and has_vowel:
            literal = not _apply_mark(word, "aeo", "circ")
        elif method == "vni" and low == "7" and has_vowel:
            lows = [l.low for l in word.letters]
            if "uo" in "".join(lows):
                literal = not _telex_w(word)
            else:
                literal = not _apply_mark(word, "ou", "horn")
        elif method == "vni" and low == "8" and has_vowel:
            literal = not _apply_mark(word, "a", "breve")
        elif method == "vni" and low == "9" and any(l.low == "d" for l in word.letters):
            literal = not _apply_mark(word, "d", "stroke")
        else:
            literal = True
        if literal:
            word.letters.append(_Letter(ch))
    return word.render()


def compose_text(raw: str, method: str = "telex") -> str:
    """Compose a whole string: words are separated by anything that is not a letter/digit key."""
    out, current = [], []
    for ch in raw:
        if ch.isalpha() or (method == "vni" and ch.isdigit()):
            current.append(ch)
        else:
            out.append(compose("".join(current), method))
            current = []
            out.append(ch)
    out.append(compose("".join(current), method))
    return "".join(out)


class Composer:
    """Editing state of one text field: committed text plus the raw keystrokes of the last word."""

    def __init__(self, text: str = "", method: str = "telex"):
        self.committed = text
        self.raw = ""
        self.method = method

    @property
    def text(self) -> str:
        return self.committed + compose(self.raw, self.method)

    def key(self, ch: str) -> str:
        if ch.isalpha() or (self.method == "vni" and ch.isdigit() and self.raw):
            self.raw += ch
        else:
            self.committed = self.text + ch
            self.raw = ""
        return self.text

    def backspace(self) -> str:
        if self.raw:
            self.raw = self.raw[:-1]
        else:
            self.committed = self.committed[:-1]
        return self.text

    def set_text(self, text: str) -> None:
        self.committed, self.raw = text, ""

    def clear(self) -> None:
        self.set_text("")
