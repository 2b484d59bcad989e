"""Secrets by reference, and redaction of anything that might carry one.

A secret is read from an environment variable or a file named in the config, never required
inline. ``Secret`` never shows its value in repr/str, and ``redact`` scrubs known secret values
and URL credentials from any text before it reaches a screen, a log or a recording.
"""
from __future__ import annotations

import re
import threading

# Field names whose values are credentials, whatever their value: a raw answer shown on screen (the UI's
# detail) has these masked even when the value was never registered (a server echoing a token back).
_SECRET_KEY = re.compile(r"pass(word|wd|phrase)|(^|[\W_])pass$|secret|token|credential|api_?key|private_?key|cookie|"
                         r"authorization", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s:]+(:[^/@\s]*)?@")
_KNOWN: set[str] = set()
_LOCK = threading.Lock()


class Secret:
    """A credential. ``reveal()`` is the only way to the value; it is registered for redaction."""

    __slots__ = ("_value", "origin")

    def __init__(self, value: str, origin: str) -> None:
        self._value = value
        self.origin = origin  # e.g. "env HATUI_DB_PASSWORD": safe to show
        if len(value) >= 3:  # redacting one or two characters would mangle every message
            with _LOCK:
                _KNOWN.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(<{self.origin}>)"

    __str__ = __repr__


def forget(value: str) -> None:
    """Stop redacting a value that is no longer a credential (an expired token): tokens come and go for
    as long as hatui runs, and every redaction walks the whole set."""
    with _LOCK:
        _KNOWN.discard(value)


def redact(text: str) -> str:
    """Remove every registered secret and any ``user:password@`` in URLs from ``text``."""
    text = _URL_USERINFO.sub(r"\g<scheme>***@", text)
    with _LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, "***")
    return text


def is_secret_key(name: str) -> bool:
    """Whether a field named ``name`` holds a credential (``password``, ``X-Auth-Token``, ``api_key`` ...)."""
    return bool(_SECRET_KEY.search(name))


def redact_field(name: str, value: str) -> str:
    """A raw field's value as it may be shown: masked whole when its name says it is a credential, else
    ``redact``-ed (known secrets, URL credentials)."""
    return "***" if is_secret_key(name) else redact(value)
