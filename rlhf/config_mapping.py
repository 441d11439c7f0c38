"""One loader for every typed config: ``from_mapping(cls, data, where)``.

Recipe sections, judge configs and sampler settings are frozen dataclasses whose fields map one to one onto
YAML keys. This builds one from a parsed mapping and gives every config the same errors, each naming the
place (``recipe.yaml: eval_sampler.temprature``), what is wrong, the closest valid names and the valid
values::

    recipe.yaml: eval_sampler.temprature: unknown setting (did you mean 'temperature'?); valid: backend, ...
    judges[0].mode: must be one of 'logprob', 'reasoning', got 'fast'

Value checks beyond the type (ranges, cross-field rules) stay in each class's ``__post_init__`` and raise
``ValueError``; their message is prefixed with ``where`` (a ``ConfigError`` already names its place). It lives on the base floor: judges, the sampler and
the rounds all load their configs through it.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

__all__ = ["ConfigError", "check_literals", "close_names", "from_mapping"]

T = TypeVar("T")


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file or section, the key and what would be valid."""


def close_names(name: str, valid: typing.Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the closest valid names, or '' when none is close."""
    close = difflib.get_close_matches(str(name), list(valid), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def from_mapping(cls: type[T], data: object, where: str) -> T:
    """Build the frozen dataclass ``cls`` from ``data`` (keys = field names); errors name ``where``.

    Nested dataclass fields are built from nested mappings, tuples from lists; ``None`` is accepted where the
    field allows it. ``__post_init__`` errors (``ValueError``/``TypeError``) come back as ``ConfigError``
    prefixed with ``where``.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(
                f"{_at(where, key)}: unknown setting{close_names(key, fields)}; valid: {', '.join(fields)}"
            )
        values[key] = _checked(value, hints[key], _at(where, key))
    try:
        return cls(**values)
    except ConfigError:
        raise  # already names its place (a nested section, or a rule that names its own key)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def check_literals(config: object, where: str = "") -> None:
    """Raise ConfigError for a field whose value is not one its ``Literal`` annotation allows (for configs
    built directly rather than through ``from_mapping``); the valid values are written once, in the type."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        if get_origin(hints[f.name]) is Literal:
            _checked(getattr(config, f.name), hints[f.name], _at(where, f.name) if where else f.name)


def _at(where: str, key: str) -> str:
    """``where`` and ``key`` joined: ``a.yaml: key`` after a file name, ``section.key`` after a section."""
    return f"{where}: {key}" if where.endswith((".yaml", ".yml", ".json", ".toml", ">")) else f"{where}.{key}"


def _checked(value: Any, annotation: Any, where: str) -> Any:
    """``value`` if it fits ``annotation`` (nested dataclasses built, lists made tuples), else ConfigError."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is Any:
        return value
    if origin is typing.Union or origin is types.UnionType:
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(f"{where}: must be set, got null")
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _checked(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(
            errors[0] if len(errors) == 1 else f"{where}: must be {_describe(annotation)}, got {value!r}"
        )
    if value is None:
        raise ConfigError(f"{where}: must be {_describe(annotation)}, got null")
    if origin is Literal:
        if value not in args:
            raise ConfigError(
                f"{where}: must be one of {', '.join(map(repr, args))}, got {value!r}"
                + (close_names(value, map(str, args)) if isinstance(value, str) else "")
            )
        return value
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return value if isinstance(value, annotation) else from_mapping(annotation, value, where)
    if origin is tuple or annotation is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: must be a list, got {value!r}")
        item = args[0] if args else Any
        return tuple(_checked(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (Mapping, dict) or annotation in (dict, Mapping) or origin is typing.Mapping:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: must be a mapping of settings, got {value!r}")
        return value
    if annotation is bool:
        ok = isinstance(value, bool)
    elif annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif annotation is str:
        ok = isinstance(value, str)
    else:
        ok = True  # a type we do not check here; __post_init__ may
    if not ok:
        raise ConfigError(f"{where}: must be {_describe(annotation)}, got {value!r}")
    return value


def _describe(annotation: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", type(None): "null"}
    args = get_args(annotation)
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(map(repr, args))
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))
