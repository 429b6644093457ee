"""A reader for the block-style YAML subset that docker-compose.yml is written in.

PyYAML is not a dependency of this project, and the compose file only needs: nested block
mappings, block sequences of scalars, one-line flow sequences of scalars ([a, "b"]), quoted
and plain scalars, and comments. Anything else (anchors, multi-line strings, flow mappings,
mappings inside sequences) is refused with ValueError rather than misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_UNSUPPORTED_START = ("&", "*", "|", ">", "{", "!")
_KEY = re.compile(r'^(?P<key>"[^"]*"|\'[^\']*\'|[^\s:#][^:#]*?)\s*:(?:\s+(?P<rest>.*))?$')


@dataclass(frozen=True)
class _Line:
    number: int
    indent: int
    text: str


def load(text: str) -> Any:
    lines = _significant_lines(text)
    if not lines:
        return None
    value, end = _block(lines, 0, lines[0].indent)
    if end != len(lines):
        raise ValueError(f"line {lines[end].number}: unexpected indentation")
    return value


def _significant_lines(text: str) -> list[_Line]:
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError(f"line {number}: tab in indentation")
        content = _strip_comment(raw).rstrip()
        if content.strip():
            stripped = content.lstrip(" ")
            result.append(_Line(number, len(content) - len(stripped), stripped))
    return result


def _strip_comment(line: str) -> str:
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


def _block(lines: list[_Line], start: int, indent: int) -> tuple[Any, int]:
    if lines[start].text == "-" or lines[start].text.startswith("- "):
        return _sequence(lines, start, indent)
    return _mapping(lines, start, indent)


def _sequence(lines: list[_Line], start: int, indent: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    index = start
    while index < len(lines) and lines[index].indent == indent:
        line = lines[index]
        if not (line.text == "-" or line.text.startswith("- ")):
            raise ValueError(f"line {line.number}: expected a '- ' item")
        item = line.text[1:].strip()
        if not item:
            raise ValueError(f"line {line.number}: nested blocks in sequences are not supported")
        if _KEY.match(item) and not item.startswith(("'", '"')):
            raise ValueError(f"line {line.number}: mappings in sequences are not supported")
        items.append(_scalar_or_flow(item, line.number))
        index += 1
    return items, index


def _mapping(lines: list[_Line], start: int, indent: int) -> tuple[dict[str, Any], int]:
    mapping: dict[str, Any] = {}
    index = start
    while index < len(lines) and lines[index].indent == indent:
        line = lines[index]
        match = _KEY.match(line.text)
        if match is None:
            raise ValueError(f"line {line.number}: expected 'key: value', got {line.text!r}")
        key = _unquote(match.group("key").strip())
        if key in mapping:
            raise ValueError(f"line {line.number}: duplicate key {key!r}")
        rest = match.group("rest")
        index += 1
        if rest:
            mapping[key] = _scalar_or_flow(rest, line.number)
        elif index < len(lines) and lines[index].indent > indent:
            mapping[key], index = _block(lines, index, lines[index].indent)
        else:
            mapping[key] = None
    if index < len(lines) and lines[index].indent > indent:
        raise ValueError(f"line {lines[index].number}: unexpected indentation")
    return mapping, index


def _scalar_or_flow(text: str, number: int) -> Any:
    if text.startswith(_UNSUPPORTED_START):
        raise ValueError(f"line {number}: unsupported YAML construct {text!r}")
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError(f"line {number}: flow sequences must close on their line")
        inner = text[1:-1].strip()
        return [_scalar(part.strip(), number) for part in _split_flow(inner)] if inner else []
    return _scalar(text, number)


def _split_flow(text: str) -> list[str]:
    parts, current, quote = [], "", None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _scalar(text: str, number: int) -> Any:
    if text[:1] in "\"'":
        if len(text) < 2 or text[-1] != text[0]:
            raise ValueError(f"line {number}: unterminated quoted string {text!r}")
        return _unquote(text)
    if text in ("true", "false"):
        return text == "true"
    if text in ("null", "~"):
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text
