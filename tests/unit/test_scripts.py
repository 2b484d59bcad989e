"""Every script (bench/*, tests/**/capture*, tests/**/record*, tests/ui/screenshots) still fits hatui's API.

The scripts run only against the real lab, so nothing else would notice a hatui name they use being
removed or renamed (``LiveFeed.close()`` became ``async aclose()`` and two scripts broke silently). This
test needs no lab: it imports each script and walks its AST (and that of the tests.* / bench.* helpers it
imports), checking that

- every ``import hatui.x`` / ``from hatui.x import Y`` (also those inside functions) resolves;
- every attribute read on a hatui module, class or object exists: ``mod.f``, ``Cls.attr``, and
  ``obj.attr`` where ``obj`` was bound from ``Cls(...)``, from a hatui function with a return annotation
  (``for s in build_sources(cfg)``: ``list[Source]``), or a parameter annotated with a hatui class; an
  instance attribute counts when the class (or a base) assigns ``self.attr`` or declares it;
- every call of a hatui callable binds to its signature (positional count, keyword names);
- a hatui coroutine function is not called as a bare statement (an ``aclose()`` never awaited);
- every ``python -m hatui <command> --flag`` argv literal names a command and flags the CLI has.

A failure names the script, the line, the expression and what is missing.
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import re
import sys
import textwrap
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_GLOBS = ("bench/*.py", "tests/lab/capture*.py", "tests/lab/record*.py", "tests/integration/**/capture*.py",
                "tests/integration/**/record*.py", "tests/ui/screenshots.py")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _path_of(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def scripts() -> list[Path]:
    found = {p for g in SCRIPT_GLOBS for p in ROOT.glob(g) if p.name != "__init__.py"}
    return sorted(found)


def _local_imports(path: Path) -> set[str]:
    """The tests.* / bench.* modules ``path`` imports (absolute or relative), anywhere in the file."""
    tree = ast.parse(path.read_text(), str(path))
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for n in names:
            if n.split(".")[0] in ("tests", "bench") and _path_of(n):
                out.add(n)
    return out


def checked_files() -> list[Path]:
    """The scripts and, transitively, the repository modules they import (helpers, lab drivers)."""
    todo, seen = list(scripts()), set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for mod in _local_imports(p):
            q = _path_of(mod)
            if q and q not in seen and not q.name.startswith("test_"):
                todo.append(q)
    return sorted(seen)


# --- what a name stands for -------------------------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    """A hatui thing: a module, class, function or other object (``obj``) or an instance of ``cls``."""

    what: str  # how the script spells it, for the report
    obj: Any = None
    cls: type | None = None  # set: an instance of cls
    iter_of: type | None = None  # set: an iterable of instances of iter_of


def _is_hatui(obj: Any) -> bool:
    mod = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    return isinstance(mod, str) and (mod == "hatui" or mod.startswith("hatui."))


def _hint_classes(hint: Any) -> tuple[type | None, type | None]:
    """(instance class, element class) a type hint stands for, when it is a hatui class or a collection of one."""
    if isinstance(hint, type) and _is_hatui(hint):
        return hint, None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        if len(real) == 1:
            return _hint_classes(real[0])
    if origin in (list, tuple, set, frozenset) or str(origin) in ("<class 'collections.abc.Iterable'>",
                                                                 "<class 'collections.abc.Sequence'>",
                                                                 "<class 'collections.abc.Iterator'>"):
        if args and isinstance(args[0], type) and _is_hatui(args[0]) and (origin is not tuple or
                                                                          len(args) == 2 and args[1] is ...):
            return None, args[0]
    return None, None


def _return_ref(what: str, func: Any) -> Ref | None:
    if isinstance(func, type):
        return Ref(what, cls=func) if _is_hatui(func) else None
    try:
        hint = typing.get_type_hints(func).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable annotation tells nothing
        return None
    cls, elem = _hint_classes(hint)
    if cls or elem:
        return Ref(what, cls=cls, iter_of=elem)
    return None


@cache
def _instance_attrs(cls: type) -> dict[str, Any]:
    """Attributes an instance of ``cls`` has beyond the class's own: ``self.x = ...`` in any method of the
    class or a base, dataclass fields, annotations, __slots__; each with its type hint when known."""
    out: dict[str, Any] = {}
    for klass in cls.__mro__:
        if klass is object:
            continue
        try:
            hints = typing.get_type_hints(klass)
        except Exception:  # noqa: BLE001
            hints = dict(getattr(klass, "__annotations__", {}))
        for k, v in hints.items():
            out.setdefault(k, v)
        for s in getattr(klass, "__slots__", ()):
            out.setdefault(s, None)
        try:
            src = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        for fn in ast.walk(ast.parse(src)):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = {a.arg: a.annotation for a in fn.args.args + fn.args.kwonlyargs}
            try:
                param_hints = typing.get_type_hints(getattr(klass, fn.name))
            except Exception:  # noqa: BLE001
                param_hints = {}
            for node in ast.walk(fn):
                targets: list[ast.expr] = []
                value = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                    targets, value = [node.target], node.value
                for t in targets:
                    for el in (t.elts if isinstance(t, ast.Tuple) else [t]):
                        if isinstance(el, ast.Attribute) and isinstance(el.value, ast.Name) and el.value.id == "self":
                            hint = None
                            if isinstance(value, ast.Name) and value.id in params:
                                hint = param_hints.get(value.id)
                            if out.get(el.attr) is None:
                                out[el.attr] = hint
    return out


# --- the checker ------------------------------------------------------------------------------------

_OPAQUE = object()  # a binding the checker cannot type: a name bound to it is not checked


@dataclass
class Scope:
    """Bindings are computed in passes: a pass reads the previous pass's (``old``) and writes ``names``."""

    names: dict[str, list[Any]] = field(default_factory=dict)
    old: dict[str, list[Any]] = field(default_factory=dict)
    parent: Scope | None = None

    def bind(self, name: str, value: Any) -> None:
        values = self.names.setdefault(name, [])
        if not any(v is value or (type(v) is type(value) and v == value) for v in values):
            values.append(value)

    def lookup(self, name: str) -> list[Any] | None:
        s: Scope | None = self
        while s is not None:
            if name in s.old:
                return s.old[name]
            s = s.parent
        return None


class Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        self.tree = ast.parse(path.read_text(), str(path))
        self.problems: list[str] = []
        self.scopes: dict[ast.AST, Scope] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def problem(self, node: ast.AST, text: str) -> None:
        self.problems.append(f"{self.rel}:{getattr(node, 'lineno', '?')}: {text}")

    # scopes: module, each function, each lambda and comprehension (flow-insensitive within a scope)
    def scope_of(self, node: ast.AST) -> Scope:
        cur = self.parents.get(node)
        while cur is not None and cur not in self.scopes:
            cur = self.parents.get(cur)
        return self.scopes[cur if cur is not None else self.tree]

    def run(self) -> list[str]:
        self.scopes[self.tree] = Scope()
        self._make_scopes(self.tree, self.scopes[self.tree])
        passes = 4  # bindings feed bindings (x = f(); y = x.g()): each pass follows one more step
        for i in range(passes):
            for s in self.scopes.values():
                s.old, s.names = s.names, {}
            self._problems_off = i < passes - 1  # import problems: reported once, by the last pass
            self._bind_all()
        for s in self.scopes.values():
            s.old = s.names
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                self.check_attribute(node)
            elif isinstance(node, ast.Call):
                self.check_call(node)
            elif isinstance(node, ast.List | ast.Tuple):
                self.check_argv(node)
        return sorted(set(self.problems), key=lambda p: int(p.split(":")[1]) if p.split(":")[1].isdigit() else 0)

    def _make_scopes(self, node: ast.AST, scope: Scope) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ListComp | ast.SetComp
                          | ast.DictComp | ast.GeneratorExp | ast.ClassDef):
                inner = Scope(parent=scope)
                self.scopes[child] = inner
                self._make_scopes(child, inner)
            else:
                self._make_scopes(child, scope)

    def _bind_all(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                self.bind_import(node)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    self.bind_target(t, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self.bind_target(node.target, node.value)
            elif isinstance(node, ast.NamedExpr):
                self.bind_target(node.target, node.value)
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                self.bind_target(node.target, node.iter, iterating=True)
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if item.optional_vars is not None:
                        self.bind_target(item.optional_vars, item.context_expr)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.scope_of(node).bind(node.name, _OPAQUE)
                self.bind_params(node)
            elif isinstance(node, ast.ClassDef):
                self.scope_of(node).bind(node.name, _OPAQUE)
            elif isinstance(node, ast.Lambda):
                for a in node.args.args + node.args.kwonlyargs:
                    self.scopes[node].bind(a.arg, _OPAQUE)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.scope_of(node).bind(node.name, _OPAQUE)

    def bind_params(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        scope = self.scopes[fn]
        args = fn.args
        for a in args.posonlyargs + args.args + args.kwonlyargs + [x for x in (args.vararg, args.kwarg) if x]:
            ref = _OPAQUE
            if a.annotation is not None and a not in (args.vararg, args.kwarg):
                ann = self.evaluate_annotation(a.annotation)
                if ann is not None:
                    cls, elem = _hint_classes(ann)
                    if cls or elem:
                        ref = Ref(a.arg, cls=cls, iter_of=elem)
            scope.bind(a.arg, ref)

    def evaluate_annotation(self, node: ast.expr) -> Any:
        refs = self.resolve(node)
        if refs and len(refs) == 1 and isinstance(refs[0], Ref) and refs[0].cls is None and refs[0].iter_of is None:
            return refs[0].obj
        return None

    def bind_import(self, node: ast.Import | ast.ImportFrom) -> None:
        scope = self.scope_of(node)
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                if top != "hatui":
                    scope.bind(a.asname or top, _OPAQUE)
                    continue
                try:
                    mod = importlib.import_module(a.name)
                except ImportError as e:
                    self.import_problem(node, f"import {a.name}: {e}")
                    scope.bind(a.asname or top, _OPAQUE)
                    continue
                if a.asname:
                    scope.bind(a.asname, Ref(a.asname, mod))
                else:
                    scope.bind(top, Ref(top, importlib.import_module(top)))
            return
        mod_name = node.module or ""
        if node.level or mod_name.split(".")[0] != "hatui":
            for a in node.names:
                scope.bind(a.asname or a.name, _OPAQUE)
            return
        try:
            mod = importlib.import_module(mod_name)
        except ImportError as e:
            self.import_problem(node, f"from {mod_name} import ...: {e}")
            for a in node.names:
                scope.bind(a.asname or a.name, _OPAQUE)
            return
        for a in node.names:
            if a.name == "*":
                continue
            if hasattr(mod, a.name):
                obj = getattr(mod, a.name)
            else:
                try:
                    obj = importlib.import_module(f"{mod_name}.{a.name}")
                except ImportError:
                    self.import_problem(node, f"from {mod_name} import {a.name}: {mod_name} has no {a.name!r}")
                    scope.bind(a.asname or a.name, _OPAQUE)
                    continue
            scope.bind(a.asname or a.name, Ref(a.name, obj))

    def import_problem(self, node: ast.AST, text: str) -> None:
        if not self._problems_off:
            self.problem(node, text)

    def bind_target(self, target: ast.expr, value: ast.expr, iterating: bool = False) -> None:
        scope = self.scope_of(target)
        if isinstance(target, ast.Name):
            refs = self.resolve(value)
            if iterating:
                refs = [Ref(target.id, cls=r.iter_of) if isinstance(r, Ref) and r.iter_of else _OPAQUE
                        for r in refs or [_OPAQUE]]
            for r in refs or [_OPAQUE]:
                scope.bind(target.id, r)
        elif isinstance(target, ast.Tuple | ast.List):
            values = value.elts if isinstance(value, ast.Tuple | ast.List) and not iterating else None
            for i, el in enumerate(target.elts):
                if values is not None and len(values) == len(target.elts):
                    self.bind_target(el, values[i])
                else:
                    for n in ast.walk(el):
                        if isinstance(n, ast.Name):
                            scope.bind(n.id, _OPAQUE)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, value)

    def resolve(self, node: ast.expr) -> list[Any] | None:
        """What ``node`` may stand for: a list of Refs (hatui things) and _OPAQUE; None when not hatui at all."""
        if isinstance(node, ast.Name):
            return self.scope_of(node).lookup(node.id)
        if isinstance(node, ast.Await):
            return self.resolve(node.value)
        if isinstance(node, ast.Attribute):
            out = []
            for r in self.resolve(node.value) or []:
                got = self.attribute(r, node.attr)
                if got is not None:
                    out.append(got)
            return out or None
        if isinstance(node, ast.Call):
            out = []
            for r in self.resolve(node.func) or []:
                if isinstance(r, Ref) and r.cls is None and r.iter_of is None and callable(r.obj):
                    got = _return_ref(f"{r.what}(...)", r.obj)
                    if got is not None:
                        out.append(got)
                elif isinstance(r, Ref) and r.cls is not None and r.obj is not None:  # a method of an instance
                    got = _return_ref(f"{r.what}(...)", r.obj)
                    if got is not None:
                        out.append(got)
            return out or None
        return None

    def attribute(self, ref: Any, attr: str) -> Ref | None:
        """What ``ref.attr`` is, when it exists and is worth following (None otherwise)."""
        if not isinstance(ref, Ref) or ref.iter_of is not None:
            return None
        if ref.cls is None:
            obj = ref.obj
            if isinstance(obj, types.ModuleType) and not hasattr(obj, attr):
                try:
                    importlib.import_module(f"{obj.__name__}.{attr}")
                except ImportError:
                    return None
            if not hasattr(obj, attr):
                return None
            val = getattr(obj, attr)
            return Ref(f"{ref.what}.{attr}", val) if _is_hatui(val) or isinstance(val, type) else None
        static = _static(ref.cls, attr)
        if static is not _MISSING:
            if isinstance(static, property):
                got = _return_ref(f"{ref.what}.{attr}", static.fget) if static.fget else None
                return got
            if inspect.isfunction(static) or isinstance(static, staticmethod | classmethod):
                return Ref(f"{ref.what}.{attr}", getattr(ref.cls, attr), cls=ref.cls)
            return None
        hint = _instance_attrs(ref.cls).get(attr)
        if hint is not None:
            cls, elem = _hint_classes(hint)
            if cls or elem:
                return Ref(f"{ref.what}.{attr}", cls=cls, iter_of=elem)
        return None

    def exists(self, ref: Ref, attr: str) -> bool:
        if ref.cls is None:
            obj = ref.obj
            if hasattr(obj, attr):
                return True
            if isinstance(obj, types.ModuleType):
                try:
                    importlib.import_module(f"{obj.__name__}.{attr}")
                    return True
                except ImportError:
                    return False
            return not _is_hatui(obj)  # only hatui things are checked
        cls = ref.cls
        if _static(cls, "__getattr__") is not _MISSING or _static(cls, "__getattribute__") not in (
                _MISSING, object.__getattribute__):
            return True
        return _static(cls, attr) is not _MISSING or attr in _instance_attrs(cls)

    def check_attribute(self, node: ast.Attribute) -> None:
        refs = self.resolve(node.value)
        if not refs or any(r is _OPAQUE for r in refs):
            return
        refs = [r for r in refs if isinstance(r, Ref) and r.iter_of is None]
        if not refs:
            return
        if not any(self.exists(r, node.attr) for r in refs):
            where = ", ".join(_describe(r) for r in refs)
            self.problem(node, f"{ast.unparse(node)}: {where} has no attribute {node.attr!r}")

    def check_call(self, node: ast.Call) -> None:
        refs = self.resolve(node.func)
        if not refs or len(refs) != 1 or not isinstance(refs[0], Ref):
            return
        ref = refs[0]
        target = ref.obj
        if target is None or not callable(target) or not _is_hatui(target):
            return
        if inspect.iscoroutinefunction(target) and isinstance(self.parents.get(node), ast.Expr):
            self.problem(node, f"{ast.unparse(node)}: {_describe(ref)} is a coroutine function: "
                               "the call does nothing unless awaited")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return
        try:
            sig = inspect.signature(target)
        except (TypeError, ValueError):
            return
        if ref.cls is not None:  # a method looked up on an instance: getattr(cls, name) is unbound
            static = _static(ref.cls, ref.what.rpartition(".")[2])
            if inspect.isfunction(static):
                params = list(sig.parameters.values())[1:]
                sig = sig.replace(parameters=params)
        try:
            sig.bind(*[None] * len(node.args), **{k.arg: None for k in node.keywords})
        except TypeError as e:
            self.problem(node, f"{ast.unparse(node)}: does not fit {_describe(ref)}{sig}: {e}")

    def check_argv(self, node: ast.List | ast.Tuple) -> None:
        """``[..., "-m", "hatui", "<command>", "--flag", ...]``: the command and flags exist."""
        consts = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
        for i in range(len(consts) - 2):
            if consts[i] == "-m" and consts[i + 1] == "hatui":
                command = consts[i + 2]
                if not isinstance(command, str):
                    return
                text = cli_help(command)
                if text is None:
                    self.problem(node, f"hatui {command}: the CLI has no command {command!r}")
                    return
                for flag in consts[i + 3:]:
                    if isinstance(flag, str) and flag.startswith("-") and not re.search(
                            rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
                        self.problem(node, f"hatui {command} {flag}: the CLI's {command!r} has no option {flag!r}")
                return


_MISSING = object()


def _static(cls: type, attr: str) -> Any:
    try:
        return inspect.getattr_static(cls, attr)
    except AttributeError:
        return _MISSING


def _describe(ref: Ref) -> str:
    if ref.cls is not None:
        base = f"{ref.cls.__module__}.{ref.cls.__qualname__}"
        if ref.obj is not None:
            return f"{base}.{getattr(ref.obj, '__name__', ref.what)}"
        return f"{ref.what} (a {base})"
    obj = ref.obj
    if isinstance(obj, types.ModuleType):
        return f"module {obj.__name__}"
    name = getattr(obj, "__qualname__", None)
    return f"{getattr(obj, '__module__', '?')}.{name}" if name else ref.what


@cache
def cli_help(command: str) -> str | None:
    from hatui import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main([command, "--help"])
        except SystemExit as e:
            if e.code not in (0, None):
                return None
    return out.getvalue()


# --- the tests --------------------------------------------------------------------------------------

def _id(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_scripts_are_found():
    names = {_id(p) for p in scripts()}
    assert {"bench/hosts.py", "bench/perf.py", "bench/soak.py", "tests/integration/hosts/capture.py",
            "tests/lab/record_incident.py"} <= names


@pytest.mark.parametrize("path", scripts(), ids=_id)
def test_script_imports(path: Path):
    """Importing the script runs its module-level imports (hatui's, the helpers', third-party ones)."""
    sys.path.insert(0, str(ROOT)) if str(ROOT) not in sys.path else None
    try:
        importlib.import_module(_module_name(path))
    except Exception as e:  # noqa: BLE001 - the report is the point
        pytest.fail(f"{_id(path)}: import failed: {type(e).__name__}: {e}")


@pytest.mark.parametrize("path", checked_files(), ids=_id)
def test_script_uses_only_names_hatui_has(path: Path):
    problems = Checker(path).run()
    assert not problems, "a script uses what hatui no longer has:\n  " + "\n  ".join(problems)


def test_checker_sees_a_removed_method(tmp_path: Path):
    """The checker itself: the very breakage that prompted it (feed.close() on a LiveFeed), and more."""
    bad = tmp_path / "probe.py"
    bad.write_text(textwrap.dedent("""\
        import asyncio
        import hatui.feed
        from hatui.feed import LiveFeed
        from hatui.feed import NoSuchThing
        from hatui.sources import build_sources

        def f(config):
            feed = LiveFeed(build_sources(config))
            feed.close()
            feed.aclose()
            LiveFeed(sources=[], nope=1)
            hatui.feed.Nope
            for s in build_sources(config):
                s.spec
                s.no_such_attribute
            return [sys.executable, "-m", "hatui", "record", "--no-such-flag", "-o", "x"]

        async def g(config):
            feed = LiveFeed([])
            await feed.aclose()
            await feed.poll_round(1, 2, 3)
            feed.pending
            feed.sources
        """))
    problems = Checker(bad).run()
    text = "\n".join(problems)
    for expected in ("has no 'NoSuchThing'", "feed.close: ", "has no attribute 'close'",
                     "feed.aclose(): hatui.feed.live.LiveFeed.aclose is a coroutine function",
                     "feed.poll_round(1, 2, 3): does not fit", "LiveFeed(sources=[], nope=1): does not fit",
                     "hatui.feed.Nope: module hatui.feed has no attribute 'Nope'",
                     "has no attribute 'no_such_attribute'", "has no option '--no-such-flag'"):
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert "'spec'" not in text and "'pending'" not in text and "'sources'" not in text, text
    assert len(problems) == 8, text
