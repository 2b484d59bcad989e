"""Mutations of real answers, written once and used for every parser's fuzz test (tests/unit/test_fuzz_*.py).

A fuzz case starts from a capture of a real server (tests/fixtures/) and applies one to a few mutations
at random places in it: a key dropped, a value's type swapped (number <-> string, list <-> object,
scalar <-> container), a value replaced by a huge, negative, NaN or infinite number, by unicode or an
empty or truncated string, or by nested garbage. Text answers (HAProxy CSV, ipmitool output, TOML,
clouds.yaml) get text mutations: truncation, a slice cut out, garbage inserted, lines dropped or doubled.

``fuzz(n)`` is the one settings decorator of every fuzz test: n examples, no deadline, derandomized
(the same cases on every run, so CI is reproducible), no example database; and it counts every example
as it runs (``CASES``), for the "fuzz: N cases" line of the test run's summary (tests/unit/conftest.py).
``HATUI_FUZZ_SCALE=10`` runs ten times the cases, new ones each run (a deeper hunt; CI runs the default).
"""
from __future__ import annotations

import copy
import functools
import json
import math
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CASES: Counter[str] = Counter()  # test name -> examples executed in this run
SCALE = float(os.environ.get("HATUI_FUZZ_SCALE") or 1)

HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
          HealthCheck.function_scoped_fixture]


def fuzz(max_examples: int) -> Callable:
    """Settings for a ``@given`` test, with every executed example counted in CASES. Put it above @given."""
    def decorate(test: Callable) -> Callable:
        inner = test.hypothesis.inner_test
        name = f"{test.__module__.rsplit('.', 1)[-1]}::{test.__name__}"

        @functools.wraps(inner)
        def counted(*args: Any, **kwargs: Any) -> Any:
            CASES[name] += 1
            return inner(*args, **kwargs)

        test.hypothesis.inner_test = counted
        return settings(max_examples=max(1, int(max_examples * SCALE)), deadline=None, derandomize=SCALE == 1,
                        database=None, suppress_health_check=HEALTH)(test)
    return decorate


# ---- values ---------------------------------------------------------------------------------------

HUGE = [2**31, 2**63, 2**64 + 1, 10**30, -1, -(2**63) - 1, -(10**18), 0, 10**400]
FLOATS = [math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324, 1.5, -0.5]
STRINGS = ["", " ", "\x00", "NaN", "nan", "inf", "-inf", "-1", "1e999", "0x10", "true", "null", "ON ", "UP",
           "ü", "\u2603\u2603", "\u202eevil", "\ud800", "a" * 2000, "\n", "None", "{}", "[]", "1,2", "é@ñ"]
SPECIAL = [*HUGE, *FLOATS, *STRINGS, True, False, None]


def _nested_pool(n: int = 200) -> list[Any]:
    """Nested garbage, made once (seeded): lists and objects of special values, some in each other. Drawn
    from a pool (one choice per value) because a recursive strategy costs a hundred draws per value."""
    import random

    rnd = random.Random(13)

    def one(depth: int) -> Any:
        kind = rnd.random()
        if depth >= 3 or kind < 0.35:
            return rnd.choice(SPECIAL)
        if kind < 0.65:
            return [one(depth + 1) for _ in range(rnd.randint(0, 3))]
        return {str(rnd.choice(SPECIAL)): one(depth + 1) for _ in range(rnd.randint(0, 3))}

    return [one(0) for _ in range(n)]


NESTED = _nested_pool()
SCALARS = st.sampled_from(SPECIAL) | st.integers() | st.text(max_size=12) | st.floats()
GARBAGE = SCALARS | st.sampled_from(NESTED).map(copy.deepcopy)


def plain(value: Any) -> Any:
    """A JSON-like copy (dicts and lists only) of an observation's data."""
    return json.loads(json.dumps(value, default=dict))


def _place(draw: Any, value: Any) -> tuple:
    """A random place in a JSON-like value: a walk from the root, each step stopping there (0, what a case
    shrinks to: the root) or going into one of the children. Every place can be reached, at a few draws."""
    path: tuple = ()
    while isinstance(value, dict | list) and value:
        keys = list(value) if isinstance(value, dict) else range(len(value))
        i = draw(st.integers(0, len(keys)))
        if i == 0:
            break
        key = keys[i - 1]
        path, value = (*path, key), value[key]
    return path


def _get(value: Any, path: tuple) -> Any:
    for k in path:
        value = value[k]
    return value


def _set(root: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def _swapped(draw: Any, v: Any) -> Any:
    """The value as another JSON type: what a different server version or a proxy's page would give."""
    if isinstance(v, bool):
        return draw(st.sampled_from([str(v).lower(), int(v), "ON" if v else "OFF", [v]]))
    if isinstance(v, int | float):
        other = str(v)
        if isinstance(v, float) and math.isfinite(v):
            other = int(v)
        elif isinstance(v, int) and abs(v) < 2**1000:
            other = float(v)
        return draw(st.sampled_from([str(v), [v], {"value": v}, other, v > 0]))
    if isinstance(v, str):
        try:
            num = float(v)
        except ValueError:
            num = None
        choices = [[v], {"value": v}, v.encode("utf-8", "surrogatepass").hex(), len(v)]
        if num is not None:
            choices.append(num)
        return draw(st.sampled_from(choices))
    if isinstance(v, list):
        return draw(st.sampled_from([{str(i): x for i, x in enumerate(v)}, json.dumps(v), len(v), v[:1] * 3]))
    if isinstance(v, dict):
        return draw(st.sampled_from([list(v.values()), list(v.items()), list(v), json.dumps(v), None]))
    return draw(st.sampled_from([[], {}, "", 0, "null"]))


def _truncated(draw: Any, v: Any) -> Any:
    if isinstance(v, str):
        return v[:draw(st.integers(0, max(0, len(v) - 1)))]
    if isinstance(v, list):
        return v[:draw(st.integers(0, max(0, len(v) - 1)))]
    if isinstance(v, dict):
        keep = draw(st.integers(0, max(0, len(v) - 1)))
        return dict(list(v.items())[:keep])
    return draw(st.sampled_from(["", None]))


def _unicode(draw: Any, v: Any) -> Any:
    text = v if isinstance(v, str) else json.dumps(v)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(["\u2603", "\ud800", "\x00", "\u202e", "é", "\uffff", "𝕏"])
                            | st.text(min_size=1, max_size=4)) + text[at:]


def _words(base: Any) -> list[str]:
    """Every string in a base answer: another field's word in this one makes odd answers that still parse
    ("Primary" where a state was, "down" for "up", a host for a name)."""
    out: set[str] = set()
    stack = [base]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack += [*v.keys(), *v.values()]
        elif isinstance(v, list):
            stack += v
        elif isinstance(v, str) and len(v) < 200:
            out.add(v)
    return sorted(out) or [""]


NUMBERS = st.sampled_from([0, -1, 1, 2, 3, -3, 2**31, 2**53 + 1, 10**12, -(10**9)]) | st.integers() | st.floats(
    allow_nan=False, allow_infinity=False) | st.sampled_from(FLOATS)


def _number(draw: Any, old: Any) -> Any:
    """Another number where one was (also inside a numeric string, as Galera and HAProxy send them)."""
    n = draw(NUMBERS)
    if isinstance(old, str):
        return str(n)
    return n


def _new_value(draw: Any, op: str, old: Any, base: Any = None) -> Any:
    if op == "number":
        return _number(draw, old)
    if op == "word":
        return draw(st.sampled_from(_words(base)))
    if op == "swap":
        return _swapped(draw, old)
    if op == "truncate":
        return _truncated(draw, old)
    if op == "extreme":
        return draw(st.sampled_from(HUGE) | st.sampled_from(FLOATS))
    if op == "unicode":
        return _unicode(draw, old)
    if op == "empty":
        return draw(st.sampled_from(["", [], {}, None, 0]))
    return draw(GARBAGE)


OPS = ("drop", "garbage", "swap", "truncate", "extreme", "unicode", "empty", "extra", "number", "word", "number")


@st.composite
def mutated(draw: Any, base: Any, max_mutations: int = 3, keep_root: bool = True) -> Any:
    """``base`` (a real answer, JSON-like) with 1 to ``max_mutations`` mutations in random places.
    ``keep_root``: an object stays an object (an observation's data always is one; what is in it may be anything)."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_mutations))):
        path = _place(draw, value)
        old = _get(value, path)
        op = draw(st.sampled_from(OPS))
        if keep_root and not path and isinstance(old, dict) and op not in ("extra", "truncate"):
            op = "extra"
        if op == "drop" and path:
            parent = _get(value, path[:-1])
            del parent[path[-1]]
            continue
        if op == "extra":
            if isinstance(old, dict):
                old[draw(st.text(max_size=8) | st.sampled_from(STRINGS))] = draw(GARBAGE)
                continue
            if isinstance(old, list):
                again = st.sampled_from(old or [None]).map(copy.deepcopy)
                old.insert(draw(st.integers(0, len(old))), draw(GARBAGE | again))
                continue
        value = _set(value, path, _new_value(draw, op, old, base))
    return value


TEXT_JUNK = st.sampled_from(["\n", ",", ";", "#", "\x00", "\ufffd", "é", "<html>", '"', "\r\n", "\t", " ", "=",
                             "[", "]", "{", "}", "'", "\\", "- ", ": ", "&a *a"]) | st.text(max_size=12)


@st.composite
def mutated_text(draw: Any, base: str, max_mutations: int = 3) -> str:
    """``base`` (a real text answer) truncated, cut, with garbage inserted, lines dropped, doubled or swapped."""
    text = base
    for _ in range(draw(st.integers(1, max_mutations))):
        op = draw(st.sampled_from(("truncate", "cut", "insert", "replace", "drop_line", "dup_line", "swap_lines")))
        n = len(text)
        i = draw(st.integers(0, n))
        if op == "truncate":
            text = text[:i]
        elif op == "cut":
            text = text[:i] + text[draw(st.integers(i, min(n, i + 40))):]
        elif op in ("insert", "replace"):
            junk = draw(TEXT_JUNK)
            text = text[:i] + junk + text[i + (op == "replace"):]
        else:
            lines = text.split("\n")
            j, k = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "drop_line":
                del lines[j]
            elif op == "dup_line":
                lines.insert(k, lines[j])
            else:
                lines[j], lines[k] = lines[k], lines[j]
            text = "\n".join(lines)
    return text
