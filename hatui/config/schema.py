"""Strict building of frozen dataclasses from TOML tables.

``build`` walks a dataclass's fields: an unknown key, a wrong type, a negative number or a
missing required value raises ``ConfigError`` naming the file, the dotted key and what was
expected. Fields marked ``derived`` (resolved secrets) are never read from the file.
"""
from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import field
from pathlib import Path
from typing import Any

from hatui.secrets import Secret


class ConfigError(Exception):
    """A configuration problem, already worded for the operator."""

    def __init__(self, file: str, key: str, expected: str, got: str = "") -> None:
        self.file, self.key, self.expected, self.got = file, key, expected, got
        msg = f"{file}: {key}: expected {expected}"
        super().__init__(msg + (f", got {got}" if got else ""))


def required() -> Any:
    return field(default=dataclasses.MISSING, metadata={"required": True})


def derived(default: Any = None) -> Any:
    return field(default=default, metadata={"derived": True})


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is list:
        inner = type_name(typing.get_args(tp)[0]).removeprefix("an ").removeprefix("a ")
        return f"a list of {inner}s"
    if origin is dict:
        inner = type_name(typing.get_args(tp)[1]).removeprefix("an ").removeprefix("a ")
        return f"a table of {inner}s"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return _TYPE_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def convert(value: Any, tp: Any, file: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        # ``str | list[str]``: the shape of the value picks the type (a list, or one of them)
        listed = [a for a in args if typing.get_origin(a) is list]
        if listed and len(args) > 1:
            if isinstance(value, list):
                return convert(value, listed[0], file, key)
            try:
                return convert(value, next(a for a in args if a not in listed), file, key)
            except ConfigError as exc:
                raise ConfigError(file, key, type_name(tp), exc.got) from None
        return convert(value, args[0], file, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(file, key, type_name(tp), type(value).__name__)
        (item,) = typing.get_args(tp)
        return [convert(v, item, file, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:  # a table of free names (TOML keys are strings): each value converted
        if not isinstance(value, dict):
            raise ConfigError(file, key, type_name(tp), type(value).__name__)
        item = typing.get_args(tp)[1]
        return {k: convert(v, item, file, f"{key}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):  # a section's sub-table (a class, never an instance)
        if not isinstance(value, dict):
            raise ConfigError(file, key, "a table", type(value).__name__)
        return build(tp, value, file, key)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:
            raise ConfigError(file, key, "a finite number", "an integer beyond any float") from None
    if (tp in (int, float) and isinstance(value, bool)) or not isinstance(value, tp):
        raise ConfigError(file, key, type_name(tp), f"{type(value).__name__} {value!r}")
    if tp is float and not math.isfinite(value):  # TOML has nan and inf: no interval or timeout is either
        raise ConfigError(file, key, "a finite number", repr(value))
    if tp in (int, float) and value < 0:
        raise ConfigError(file, key, "a number >= 0", repr(value))
    if tp is str and not value.strip():
        raise ConfigError(file, key, "a non-empty string", '""')
    return value


def build(cls: type, table: dict[str, Any], file: str, prefix: str) -> Any:
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("derived")}
    for key in table:
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise ConfigError(file, f"{prefix}.{key}".lstrip("."), f"one of the known keys ({allowed})",
                              "an unknown key")
    kwargs = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}".lstrip(".")
        if name in table:
            kwargs[name] = convert(table[name], hints[name], file, key)
        elif f.metadata.get("required"):
            raise ConfigError(file, key, f"{type_name(hints[name])} (required)", "nothing")
    return cls(**kwargs)


def resolve_secret(ref: Any, file: str, prefix: str) -> Secret | None:
    """Read the password a section refers to (``password_env`` / ``password_file``), or None."""
    env, path = getattr(ref, "password_env", None), getattr(ref, "password_file", None)
    if env and path:
        raise ConfigError(file, f"{prefix}.password_env", "either password_env or password_file, not both")
    if env:
        if env not in os.environ:
            raise ConfigError(file, f"{prefix}.password_env", f"environment variable {env} to be set", "unset")
        return Secret(os.environ[env], f"env {env}")
    if path:
        p = Path(path).expanduser()
        try:
            return Secret(p.read_text().rstrip("\n"), f"file {p}")
        except OSError as exc:
            raise ConfigError(file, f"{prefix}.password_file", "a readable file", exc.strerror or str(exc)) from None
    return None


def unique_names(items: list[Any], file: str, key: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.name in seen:
            raise ConfigError(file, f"{key}[{i}].name", "a name not used by another entry", repr(item.name))
        seen.add(item.name)
