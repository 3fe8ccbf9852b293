"""Texts decoded to what they mean (escapes, percent-encoding, NFKC), with the way back to spans."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

__all__ = [
    "ENCODED_BYTES_RE2",
    "ENCODED_RE2",
    "ESCAPED_QUOTE",
    "MAX_ROUNDS",
    "Decoded",
    "decoded",
    "may_be_encoded",
    "text_of_bytes",
    "wide_encoding",
]

#: What ``\"`` decodes to: a quote of its own, so a quote escaped inside a JSON string never
#: ends the string for a matcher (``"tempauth=\"S\""`` reads as ``tempauth=\x01S\x01``).
ESCAPED_QUOTE = "\x01"

#: Decoding repeats until nothing changes (``%2574`` -> ``%74`` -> ``t``), at most this often
#: (real texts need one to three; each round reads the whole text).
MAX_ROUNDS = 16

#: One encoded character (or a run of non-ASCII ones), as the decoding rounds find them.
_ENCODED = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|\\u[0-9a-fA-F]{4}"
    r'|\\["\\/bfnrt\x01]'
    r"|%[0-7][0-9a-fA-F]"
    r"|%[c-fC-F][0-9a-fA-F](?:%[89abAB][0-9a-fA-F]){1,3}"
    r"|&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};|&(?:amp|quot|apos|lt|gt);"
    r"|\x00"
    r"|[^\x00-\x7f]+"
)
#: ``\"`` and, a level deeper, ``\`` before an escaped quote (``\\\"`` in JSON inside JSON).
_JSON_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", '"': ESCAPED_QUOTE}
_JSON_ESCAPES[ESCAPED_QUOTE] = ESCAPED_QUOTE
_ENTITIES = {"&amp;": "&", "&quot;": '"', "&apos;": "'", "&lt;": "<", "&gt;": ">"}
#: Unicode's default-ignorable code points (zero-width spaces, soft hyphen, BOM, bidi marks,
#: variation selectors, tags), as inclusive ranges: invisible, so decoding leaves them out.
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
_IGNORABLE_RE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _IGNORABLE) + "]")
#: 256-code-point blocks holding every character whose NFKC form holds ASCII (full-width forms,
#: ligatures, letter-like and enclosed alphanumerics, ...); a test checks the list is complete.
_COMPATIBILITY_BLOCKS = (
    0x00, 0x01, 0x02, 0x03, 0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x24, 0x2A, 0x2C, 0x30, 0x32, 0x33,
    0xA7, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 0x107, 0x1D4, 0x1D5, 0x1D6, 0x1D7, 0x1F1, 0x1FB,
)  # fmt: skip
_UTF_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class _Round:
    """How one decoding round's pieces sit in its input: piece i starts at ``starts[i]`` of the
    output and ``origins[i]`` of the input; a literal piece is copied, a decoded one replaces
    the input up to the next piece's origin (the lists end with a sentinel)."""

    starts: list[int]
    origins: list[int]
    literal: list[bool]

    def start(self, at: int) -> int:
        """Where output position ``at`` starts in the input."""
        piece = bisect_right(self.starts, at) - 1
        if self.literal[piece]:
            return self.origins[piece] + at - self.starts[piece]
        return self.origins[piece]

    def end(self, at: int) -> int:
        """Where an output span ending (exclusively) at ``at`` ends in the input."""
        piece = bisect_right(self.starts, at - 1) - 1
        if self.literal[piece]:
            return self.origins[piece] + at - self.starts[piece]
        return self.origins[piece + 1]


@dataclass(frozen=True, slots=True)
class Decoded:
    """``text`` decoded (``original`` is what it came from) and the rounds that decoded it;
    ``complete`` is False when :data:`MAX_ROUNDS` rounds left something still encoded."""

    original: str
    text: str
    rounds: tuple[_Round, ...] = ()
    complete: bool = True

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that ``text[start:end]`` (not empty) was decoded from.

        It holds whole escapes, so replacing it keeps a JSON string a JSON string."""
        for step in reversed(self.rounds):
            start, end = step.start(start), step.end(end)
        return start, end


def may_be_encoded(text: str) -> bool:
    """Whether ``text`` may hold anything :func:`decoded` changes (a cheap test)."""
    return (
        not text.isascii()
        or "\\" in text
        or "%" in text
        or "\x00" in text
        or ("&" in text and ";" in text)
    )


def decoded(text: str) -> Decoded:
    """``text`` with JSON escapes (``\\u0061``, ``\\/``; ``\\"`` as :data:`ESCAPED_QUOTE`),
    percent-encoding (UTF-8), HTML character references, NUL characters (UTF-16 read as bytes),
    invisible characters and compatibility forms (NFKC: full-width letters) undone, again and
    again until nothing changes (at most :data:`MAX_ROUNDS` times)."""
    rounds: list[_Round] = []
    current = text
    while may_be_encoded(current):
        step = _decode_round(current)
        if step is None:
            break
        if len(rounds) == MAX_ROUNDS:
            return Decoded(text, current, tuple(rounds), complete=False)
        current, spans = step
        rounds.append(spans)
    return Decoded(text, current, tuple(rounds))


class _Pieces:
    """The decoded pieces of one round, with where each came from (builds a ``_Round``)."""

    __slots__ = ("literal", "origins", "out", "starts", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.starts: list[int] = []
        self.origins: list[int] = []
        self.literal: list[bool] = []
        self.out = 0

    def add(self, text: str, origin: int, *, literal: bool) -> None:
        self.starts.append(self.out)
        self.origins.append(origin)
        self.literal.append(literal)
        self.texts.append(text)
        self.out += len(text)

    def finished(self, end: int) -> tuple[str, _Round]:
        self.starts.append(self.out)
        self.origins.append(end)
        self.literal.append(True)
        return "".join(self.texts), _Round(self.starts, self.origins, self.literal)


def _decode_round(text: str) -> tuple[str, _Round] | None:
    """``text`` with every encoded character found by ``_ENCODED`` decoded once; None when no
    character changed."""
    pieces = _Pieces()
    pos = 0
    for match in _ENCODED.finditer(text):
        at = match.start()
        for offset, value, width in _decodings(match.group()):
            start = at + offset
            if start > pos:
                pieces.add(text[pos:start], pos, literal=True)
            pieces.add(value, start, literal=False)
            pos = start + width
    if not pieces.texts:
        return None
    if pos < len(text):
        pieces.add(text[pos:], pos, literal=True)
    return pieces.finished(len(text))


def _decodings(token: str) -> list[tuple[int, str, int]]:
    """(offset in ``token``, what it decodes to, width) of each part of ``token`` that changes."""
    first = token[0]
    if first == "\\":
        return [(0, _unescaped(token), len(token))]
    if first == "%":
        value = _unquoted(token)
        return [] if value is None else [(0, value, len(token))]
    if first == "&":
        value = _unreferenced(token)
        return [] if value is None else [(0, value, len(token))]
    if first == "\x00":
        return [(0, "", 1)]
    return _normalized(token)


def _unescaped(token: str) -> str:
    if token[1] != "u":
        return _JSON_ESCAPES.get(token[1], token[1])
    if len(token) == 12:
        high, low = int(token[2:6], 16), int(token[8:12], 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    value = chr(int(token[2:], 16))
    return ESCAPED_QUOTE if value == '"' else value


def _unquoted(token: str) -> str | None:
    try:
        return bytes.fromhex(token.replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _unreferenced(token: str) -> str | None:
    if token in _ENTITIES:
        return _ENTITIES[token]
    number = int(token[3:-1], 16) if token[2] in "xX" else int(token[2:-1])
    return chr(number) if number <= 0x10FFFF else None


def _normalized(run: str) -> list[tuple[int, str, int]]:
    """The characters of a run of non-ASCII ones that NFKC changes or that are invisible."""
    if unicodedata.is_normalized("NFKC", run) and _IGNORABLE_RE.search(run) is None:
        return []
    changes = []
    for offset, char in enumerate(run):
        value = "" if _IGNORABLE_RE.match(char) else unicodedata.normalize("NFKC", char)
        if value != char:
            changes.append((offset, value, 1))
    return changes


def text_of_bytes(raw: bytes) -> tuple[str, bool]:
    """(``raw`` as text, whether it decoded cleanly): UTF-8 (a BOM dropped), or UTF-16/32 told by
    :func:`wide_encoding`; undecodable bytes become U+FFFD."""
    wide = wide_encoding(raw[:256])
    if wide is not None:
        text = _strictly(raw, wide)
        if text is not None:
            return text.removeprefix("\ufeff"), True
    text = _strictly(raw, "utf-8-sig")
    if text is not None:
        return text, True
    return raw.decode("utf-8", errors="replace"), False


def wide_encoding(head: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding a text starting with ``head`` is in: told by its BOM or by
    the NULs of UTF-16, and only when ``head`` so read is mostly ASCII (UTF-8 behind a stray
    BOM is not); None for UTF-8."""
    encoding = _bom_or_nul_encoding(head)
    if encoding is None:
        return None
    text = head[: len(head) - len(head) % 4].decode(encoding, errors="replace")
    return encoding if _mostly_ascii(text) else None


def _bom_or_nul_encoding(head: bytes) -> str | None:
    for bom, encoding in _UTF_BOMS:
        if head.startswith(bom):
            return encoding
    half = len(head) // 2
    if half < 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= half // 2 and even == 0:
        return "utf-16-le"
    if even >= half // 2 and odd == 0:
        return "utf-16-be"
    return None


def _strictly(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def _mostly_ascii(text: str) -> bool:
    """Whether at least half of ``text`` is ASCII (UTF-8 bytes read as UTF-16 are not)."""
    return "\x00" not in text and 2 * sum(ch.isascii() for ch in text) >= len(text)


def _re2_class(ranges: list[tuple[int, int]]) -> str:
    """An RE2 character class (``[\\x{ff01}-\\x{ff5e}...]``) of inclusive code point ranges."""
    parts = (f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)
    return "[" + "".join(parts) + "]"


def _changed_ranges() -> list[tuple[int, int]]:
    """Code point ranges of every non-ASCII character :func:`decoded` changes (it drops the
    invisible ones and maps the others through NFKC)."""
    codes = [
        code
        for block in _COMPATIBILITY_BLOCKS
        for code in range(max(block << 8, 0x80), (block + 1) << 8)
        if unicodedata.normalize("NFKC", chr(code)) != chr(code)
    ]
    codes += [code for low, high in _IGNORABLE for code in range(low, high + 1)]
    ranges: list[tuple[int, int]] = []
    for code in sorted(set(codes)):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


#: The ASCII escapes :func:`decoded` undoes, as RE2 (pyarrow.compute) patterns.
_ENCODED_ASCII_RE2 = (
    r'\\u[0-9a-fA-F]{4}|\\["\\/bfnrt\x01]|%[0-9a-fA-F]{2}|&#|&(?:amp|quot|apos|lt|gt);|\x00'
)
#: An RE2 pattern (pyarrow.compute) matching every text :func:`decoded` may change.
ENCODED_RE2 = _ENCODED_ASCII_RE2 + "|" + _re2_class(_changed_ranges())
#: The same for binary values (RE2 reads them as Latin-1): any byte above 0x7f may be UTF-8.
ENCODED_BYTES_RE2 = _ENCODED_ASCII_RE2 + r"|[\x80-\xff]"
