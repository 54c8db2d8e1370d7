"""A generic JSON → frozen-dataclass decoder that records every problem instead of stopping at the first.

The dataclasses' type hints are the grammar: an object becomes a dataclass (keys are field names, a missing
key takes the field's default), a list becomes a tuple, ``X | None`` accepts null, ``Literal[...]`` a listed
string. Each type is compiled once into a small function, so decoding the whole catalog costs a few
milliseconds. A value with a problem decodes to ``BAD`` and its parent is dropped.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal, Union, get_args, get_origin


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD: Final = _Bad()


class Problems:
    """An ordered list of ``source:key: message`` lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        # Ids of entries left out because of a problem: references to them are not reported again.
        self.broken: set[str] = set()

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss, else an empty string."""
    import difflib  # only needed when something is wrong; keeps the catalog's import light

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def element_label(item: object, index: int) -> str:
    """How a list element is named in a problem: its ``id`` when it has one, else its index."""
    if isinstance(item, dict):
        ident = item.get("id")
        if isinstance(ident, str) and ident:
            return ident
    return str(index)


# A decoder gets the value, the path of its parent and its own key there (a field name, a list index, or None
# for the root); it builds its own path only when it has a problem to report, which keeps decoding cheap.
Key = str | int | None
Decode = Callable[[object, str, Key, Problems], Any]
FieldCheck = Callable[[Any], "str | None"]
ObjectCheck = Callable[[Any], "list[tuple[str, str]]"]


def path_of(parent: str, key: Key, value: object) -> str:
    if key is None:
        return parent
    if isinstance(key, int):
        return f"{parent}[{element_label(value, key)}]"
    return f"{parent}.{key}"


class Decoder:
    """Decoders for the dataclasses of one module, with per-field and per-object checks."""

    def __init__(
        self,
        namespace: Mapping[str, Any],
        field_checks: Mapping[tuple[type, str], FieldCheck],
        object_checks: Mapping[type, ObjectCheck],
        skipped_fields: frozenset[tuple[type, str]] = frozenset(),
    ) -> None:
        self._namespace = dict(namespace)
        self._field_checks = field_checks
        self._object_checks = object_checks
        self._skipped = skipped_fields
        self._compiled: dict[Any, Decode] = {}

    def object(self, value: object, cls: type, where: str, problems: Problems) -> Any:
        return self.compile(cls)(value, where, None, problems)

    def compile(self, tp: Any) -> Decode:
        found = self._compiled.get(tp)
        if found is None:
            found = self._build(tp)
            self._compiled[tp] = found
        return found

    def _build(self, tp: Any) -> Decode:
        origin = get_origin(tp)
        if origin is Union or origin is types.UnionType:
            (inner_type,) = [a for a in get_args(tp) if a is not type(None)]
            inner = self.compile(inner_type)
            return lambda v, parent, key, p: None if v is None else inner(v, parent, key, p)
        if origin is Literal:
            return _literal(get_args(tp))
        if origin is tuple:
            args = get_args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                return _tuple_of(self.compile(args[0]))
            return _fixed_tuple([self.compile(a) for a in args])
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self._dataclass(tp)
        if tp is float:
            return _number
        if tp in (str, int, bool):
            return _exact(tp)
        raise TypeError(f"no decoder for {tp!r}")

    def _dataclass(self, cls: type) -> Decode:
        fields = [f for f in dataclasses.fields(cls) if (cls, f.name) not in self._skipped]
        names = frozenset(f.name for f in fields)
        object_check = self._object_checks.get(cls)
        # Field decoders are compiled on first use (a dataclass may contain itself, directly or not).
        plan: list[tuple[str, bool, FieldCheck | None]] = [
            (
                f.name,
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                self._field_checks.get((cls, f.name)),
            )
            for f in fields
        ]
        decoders: dict[str, Decode] = {}

        def field_decoder(name: str) -> Decode:
            found = decoders.get(name)
            if found is None:
                hints = typing.get_type_hints(cls, self._namespace)
                decoders.update((n, self.compile(hints[n])) for n, _, _ in plan)
                found = decoders[name]
            return found

        def decode(value: object, parent: str, key: Key, problems: Problems) -> Any:
            where = path_of(parent, key, value)
            if type(value) is not dict:
                problems.add(where, f"must be an object, not {json_kind(value)}")
                return BAD
            ok = True
            for extra in value:
                if extra not in names:
                    problems.add(
                        f"{where}.{extra}", f"unknown key {extra!r}{suggest(str(extra), sorted(names))}"
                    )
                    ok = False
            kwargs: dict[str, Any] = {}
            for name, required, check in plan:
                if name not in value:
                    if required:
                        problems.add(f"{where}.{name}", f"missing required key {name!r}")
                        ok = False
                    continue
                decoded = field_decoder(name)(value[name], where, name, problems)
                if decoded is BAD:
                    ok = False
                    continue
                message = check(decoded) if check is not None else None
                if message:
                    problems.add(f"{where}.{name}", message)
                    ok = False
                    continue
                kwargs[name] = decoded
            if not ok:
                return BAD
            built = cls(**kwargs)
            if object_check is not None:
                found = object_check(built)
                for field_name, message in found:
                    problems.add(f"{where}.{field_name}", message)
                if found:
                    return BAD
            return built

        return decode


def _literal(choices: tuple[Any, ...]) -> Decode:
    allowed = frozenset(choices)
    shown = ", ".join(repr(c) for c in choices)

    def decode(value: object, parent: str, key: Key, problems: Problems) -> Any:
        if type(value) is str and value in allowed:
            return value
        hint = suggest(value, [str(c) for c in choices]) if isinstance(value, str) else ""
        problems.add(path_of(parent, key, value), f"{value!r} is not one of {shown}{hint}")
        return BAD

    return decode


def _tuple_of(inner: Decode) -> Decode:
    def decode(value: object, parent: str, key: Key, problems: Problems) -> Any:
        if type(value) is not list:
            problems.add(path_of(parent, key, value), f"must be a list, not {json_kind(value)}")
            return BAD
        where = path_of(parent, key, value)
        items = [inner(item, where, i, problems) for i, item in enumerate(value)]
        return BAD if any(item is BAD for item in items) else tuple(items)

    return decode


def _fixed_tuple(inners: list[Decode]) -> Decode:
    def decode(value: object, parent: str, key: Key, problems: Problems) -> Any:
        where = path_of(parent, key, value)
        if type(value) is not list or len(value) != len(inners):
            shown = f"{len(value)} values" if type(value) is list else json_kind(value)
            problems.add(where, f"must be a list of {len(inners)} values, not {shown}")
            return BAD
        items = [
            inner(item, where, i, problems) for i, (item, inner) in enumerate(zip(value, inners, strict=True))
        ]
        return BAD if any(item is BAD for item in items) else tuple(items)

    return decode


_TYPE_NAMES: Final = {str: "a string", int: "an integer", bool: "true or false"}


def _exact(tp: type) -> Decode:
    name = _TYPE_NAMES[tp]

    def decode(value: object, parent: str, key: Key, problems: Problems) -> Any:
        if type(value) is tp:
            return value
        problems.add(path_of(parent, key, value), f"must be {name}, not {json_kind(value)}")
        return BAD

    return decode


def _number(value: object, parent: str, key: Key, problems: Problems) -> Any:
    if type(value) is int or type(value) is float:
        return float(value)
    problems.add(path_of(parent, key, value), f"must be a number, not {json_kind(value)}")
    return BAD
