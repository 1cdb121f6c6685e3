"""Validation of request params: every failure names the field and what was expected."""

from __future__ import annotations

from typing import Any

from .errors import invalid

_MISSING = object()


def field(obj: dict, name: str, kind: type | tuple[type, ...], where: str, default: Any = _MISSING) -> Any:
    if not isinstance(obj, dict):
        raise invalid(f"{where}: expected an object")
    if name not in obj or obj[name] is None:
        if default is _MISSING:
            raise invalid(f"{where}.{name} is required")
        return default
    value = obj[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python; a flag is never a number here.
    if isinstance(value, bool) and bool not in kinds:
        raise invalid(f"{where}.{name}: expected {_names(kinds)}, got a boolean")
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kinds):
        raise invalid(f"{where}.{name}: expected {_names(kinds)}, got {type(value).__name__}")
    return value


def number(obj: dict, name: str, where: str, lo: float, hi: float, default: Any = _MISSING) -> float:
    value = field(obj, name, float, where, default)
    if value is None:
        return value
    if not lo <= value <= hi:
        raise invalid(f"{where}.{name}: expected a number in [{lo}, {hi}], got {value}")
    return value


def integer(obj: dict, name: str, where: str, lo: int, hi: int, default: Any = _MISSING) -> int:
    value = field(obj, name, int, where, default)
    if value is None:
        return value
    if not lo <= value <= hi:
        raise invalid(f"{where}.{name}: expected an integer in [{lo}, {hi}], got {value}")
    return value


def strings(obj: dict, name: str, where: str, default: Any = _MISSING) -> list[str]:
    value = field(obj, name, list, where, default)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise invalid(f"{where}.{name}[{i}]: expected a string")
    return value


def objects(obj: dict, name: str, where: str, min_items: int = 0) -> list[dict]:
    value = field(obj, name, list, where)
    if len(value) < min_items:
        raise invalid(f"{where}.{name}: expected at least {min_items} item(s)")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid(f"{where}.{name}[{i}]: expected an object")
    return value


def choice(obj: dict, name: str, where: str, options: tuple[str, ...], default: Any = _MISSING) -> str:
    value = field(obj, name, str, where, default)
    if value not in options:
        raise invalid(f"{where}.{name}: expected one of {', '.join(options)}, got {value!r}")
    return value


def _names(kinds: tuple[type, ...]) -> str:
    words = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "an array", dict: "an object"}
    return " or ".join(words.get(k, k.__name__) for k in kinds)
