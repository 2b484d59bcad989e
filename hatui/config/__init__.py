"""The configuration file: where it is found, what it may hold, strict validation.

Search order: ``--config PATH``, ``$HATUI_CONFIG``, ``./hatui.toml``, then
``$XDG_CONFIG_HOME/hatui/hatui.toml`` (``~/.config/hatui/hatui.toml``). Each source's section is a
frozen dataclass in its own module here, declared with its area in hatui.areas. A wrong config raises ConfigError.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hatui.areas import AREAS
from hatui.areas import load as load_ref
from hatui.config.schema import ConfigError, convert

__all__ = ["Config", "ConfigError", "NoConfig", "Settings", "load", "parse", "public_document"]

# section name -> "module:dataclass" (hatui.areas), imported only when the file has that section.
SECTIONS: dict[str, str] = {a.name: a.section for a in AREAS}


def section_class(name: str) -> type:
    return load_ref(SECTIONS[name])


@dataclass(frozen=True)
class Settings:
    interval: float = 1.0  # seconds from the end of one poll to the start of the next
    timeout: float = 1.0   # connect timeout and read timeout of every request
    # A target whose last answer is older than this is stale (UNKNOWN). Default per section:
    # 2 x interval + 2 x timeout, so one slow answer does not flap the screen.
    stale_after: float | None = None
    # Seconds between polls made by a new client (connect, TLS, login afresh) on sources that keep their
    # connection: a kept connection hides a server that turns new clients away. 0: never.
    fresh_every: float = 60.0
    theme: str | None = None  # the UI's colours: hatui-dark, hatui-light, hatui-high-contrast, hatui-mono, ...
    maintenance_file: str | None = None  # default $XDG_STATE_HOME/hatui/maintenance.json (hatui.config.maintenance)


@dataclass(frozen=True)
class Config:
    path: str
    hatui: Settings = field(default_factory=Settings)
    sections: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] = field(default_factory=dict)  # the TOML as read, for recordings

    def section(self, name: str) -> Any:
        return self.sections.get(name)

    @property
    def galera(self):  # -> GaleraSection | None
        return self.sections.get("galera")

    def interval(self, *tables: Any) -> float:
        """The first interval set: on the given tables in order, then [hatui]."""
        return _first(tables, "interval") or self.hatui.interval

    def timeout(self, *tables: Any) -> float:
        return _first(tables, "timeout") or self.hatui.timeout

    def fresh_every(self, *tables: Any) -> float:
        """The first fresh_every set (0 included: it turns it off), then [hatui]'s."""
        return next((v for t in tables if (v := getattr(t, "fresh_every", None)) is not None), self.hatui.fresh_every)


def _first(tables: tuple[Any, ...], name: str) -> float | None:
    for table in tables:
        value = getattr(table, name, None)
        if value:
            return value
    return None


def parse(doc: dict[str, Any], file: str, *, resolve_secrets: bool = True) -> Config:
    """Validate a TOML document into a Config. ``resolve_secrets=False`` is for replays."""
    known = {"hatui", *SECTIONS}
    for key in doc:
        if key not in known:
            raise ConfigError(file, key or '""', f"one of the sections ({', '.join(sorted(known))})",
                              "an unknown section")
    settings = convert(doc["hatui"], Settings, file, "hatui") if "hatui" in doc else Settings()
    if settings.interval <= 0 or settings.timeout <= 0:
        raise ConfigError(file, "hatui.interval" if settings.interval <= 0 else "hatui.timeout", "a number > 0")
    sections = {}
    for name in SECTIONS:
        if name in doc:
            section = convert(doc[name], section_class(name), file, name)
            sections[name] = section.validate(file, resolve_secrets)
    return Config(path=file, hatui=settings, sections=sections, document=doc)


def find_config(explicit: str | None) -> Path | None:
    """The config file to use, by the documented search order, or None if there is none."""
    if explicit:
        return Path(explicit)
    if os.environ.get("HATUI_CONFIG"):
        return Path(os.environ["HATUI_CONFIG"])
    local = Path("hatui.toml")
    if local.exists():
        return local
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "hatui" / "hatui.toml"
    return xdg if xdg.exists() else None


class NoConfig(ConfigError):
    """No config file anywhere hatui looks: the message says where it looked and what to try."""

    def __init__(self) -> None:
        super().__init__("hatui.toml", "(file)", "a config file: --config PATH, $HATUI_CONFIG, ./hatui.toml "
                         "or ~/.config/hatui/hatui.toml", "none found")
        self.args = ("no config file: looked at --config PATH, $HATUI_CONFIG, ./hatui.toml and "
                     "~/.config/hatui/hatui.toml. Write one from the cloud itself: hatui init --cloud NAME "
                     "(hatui init -h), or start from hatui.example.toml (annotated, in hatui's source); or see "
                     "hatui at work without any server: hatui demo",)


def load(explicit: str | None = None) -> Config:
    path = find_config(explicit)
    if path is None:
        raise NoConfig()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), "(file)", "a readable file", exc.strerror or str(exc)) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), "(file)", "UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", "valid TOML", str(exc)) from None
    return parse(doc, str(path))


_SECRET_KEYS = ("password", "password_env", "password_file", "token")


def public_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of a config document without any key that holds or points at a secret."""
    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items() if not any(s in k for s in _SECRET_KEYS)}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value
    return scrub(doc)
