"""The Bot API as data: decode and validate every request the bot makes.

Why: a sandbox that accepts anything hides exactly the bugs that only show up against the real
Telegram (a 65-byte ``callback_data``, a missing ``chat_id``, a reply markup of the wrong
shape). ``botapi-compact.json`` (a copy of ``shared/botapi-spec``, MIT, see
``LICENSE.telegram-bot-api-spec``) lists every method with its parameters, their types and the
limits the documentation states; this module turns a raw request (form fields are strings,
complex values are JSON-encoded strings, as aiogram sends them) into typed Python values and
raises :class:`~sandbox.errors.ApiError` with a Telegram-style description (worded in
:mod:`sandbox.errors`) when the request is not valid.

Checked: the method exists, required parameters (``required_unless`` too), scalar types,
nested object shapes (recursively, with union and ``subtypes`` resolution), ``len`` limits
(characters or UTF-8 bytes), ``enum``/``const`` values and the ``one_of`` rule of keyboard
buttons. Fields marked ``parsed`` (message texts, captions) are length-checked by the method
implementation after entity parsing, like Telegram does. Unknown parameters are ignored, as
Telegram ignores them, and reported back so the request log can show them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.errors import (
    ApiError,
    bad_request,
    json_error,
    length_error,
    missing_parameter,
    type_error,
    type_words,
    where,
)

SPEC_PATH = Path(__file__).with_name("botapi-compact.json")

SCALARS = frozenset({"Integer", "String", "Boolean", "Float"})
_INT_RE = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or one field of a type."""

    name: str
    required: bool
    types: tuple[str, ...]
    length: tuple[int, int, str] | None = None
    parsed: bool = False
    value_range: tuple[float, float] | None = None
    enum: tuple[str, ...] | None = None
    const: str | None = None
    required_unless: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FieldSpec:
        length = raw.get("len")
        rng = raw.get("range")
        return cls(
            name=raw["name"],
            required=bool(raw.get("required")),
            types=tuple(raw["types"]),
            length=(int(length[0]), int(length[1]), str(length[2])) if length else None,
            parsed=bool(raw.get("parsed")),
            value_range=(rng[0], rng[1]) if rng else None,
            enum=tuple(raw["enum"]) if raw.get("enum") else None,
            const=raw.get("const"),
            required_unless=tuple(raw.get("required_unless") or ()),
        )


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: tuple[FieldSpec, ...] = ()
    subtypes: tuple[str, ...] = ()
    one_of: dict[str, Any] | None = None
    string_ok: bool = False

    @property
    def field_map(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}


@dataclass
class MethodSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    by_name: dict[str, FieldSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}


@dataclass
class ParsedRequest:
    """Typed parameters of one call, plus the parameters the spec does not know."""

    method: str
    params: dict[str, Any]
    unknown: list[str]


class BotApiSpec:
    """Method and type tables of one Bot API version, with request validation."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = str(data.get("version", "?"))
        self.methods: dict[str, MethodSpec] = {}
        self._lower: dict[str, str] = {}
        for name, body in data["methods"].items():
            fields = tuple(FieldSpec.from_json(f) for f in body.get("fields", []))
            self.methods[name] = MethodSpec(name, fields)
            self._lower[name.lower()] = name
        self.types: dict[str, TypeSpec] = {}
        for name, body in data["types"].items():
            self.types[name] = TypeSpec(
                name=name,
                fields=tuple(FieldSpec.from_json(f) for f in body.get("fields", [])),
                subtypes=tuple(body.get("subtypes", ())),
                one_of=body.get("one_of"),
                string_ok=bool(body.get("string_ok")),
            )

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> BotApiSpec:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def canonical(self, method: str) -> str | None:
        """The spec's spelling of a method name; Telegram matches names case-insensitively."""
        return self._lower.get(method.lower())

    # -- requests --------------------------------------------------------------------------

    def parse_request(self, method: str, raw: dict[str, Any]) -> ParsedRequest:
        """Coerce and validate the parameters of ``method`` (already canonical)."""
        spec = self.methods[method]
        present = {k: v for k, v in raw.items() if v is not None and v != ""}
        params: dict[str, Any] = {}
        for fs in spec.fields:
            if fs.name in present:
                params[fs.name] = self._coerce_top(method, fs, present[fs.name])
        for fs in spec.fields:
            if fs.name in params:
                continue
            needed = fs.required or (
                fs.required_unless and not any(o in params for o in fs.required_unless)
            )
            if needed and not _optional_by_convention(method, fs.name):
                raise missing_parameter(fs.name)
        unknown = sorted(k for k in present if k not in spec.by_name)
        return ParsedRequest(method, params, unknown)

    def _coerce_top(self, owner: str, fs: FieldSpec, value: Any) -> Any:
        if isinstance(value, str) and not _is_stringish(fs.types):
            if all(t in SCALARS for t in fs.types):
                return self._scalar_from_text(owner, fs, value)
            try:
                value = json.loads(value)
            except ValueError:
                raise json_error(fs) from None
        return self._check_field(owner, fs, value, top=True)

    def _scalar_from_text(self, owner: str, fs: FieldSpec, text: str) -> Any:
        types = fs.types
        if "Integer" in types and _INT_RE.match(text.strip()):
            value: Any = int(text.strip())
        elif "Float" in types:
            try:
                value = float(text)
            except ValueError:
                raise type_error(owner, fs, top=True) from None
        elif "Boolean" in types:
            low = text.strip().lower()
            if low in ("true", "1"):
                value = True
            elif low in ("false", "0"):
                value = False
            else:
                raise type_error(owner, fs, top=True)
        else:
            raise type_error(owner, fs, top=True)
        return self._check_field(owner, fs, value, top=True)

    # -- values ----------------------------------------------------------------------------

    def _check_field(self, owner: str, fs: FieldSpec, value: Any, *, top: bool) -> Any:
        value = self._check_types(owner, fs, value, fs.types, top=top)
        if fs.const is not None and value != fs.const:
            raise bad_request(f'{where(owner, fs)} must be "{fs.const}"')
        if fs.enum is not None and value not in fs.enum:
            raise bad_request(f"{where(owner, fs)} must be one of {', '.join(fs.enum)}")
        if fs.length is not None and not fs.parsed and isinstance(value, str):
            lo, hi, unit = fs.length
            size = len(value.encode("utf-8")) if unit == "bytes" else len(value)
            if not lo <= size <= hi:
                raise length_error(owner, fs, lo, hi, unit)
        if (
            fs.value_range is not None
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            lo_r, hi_r = fs.value_range
            if not lo_r <= value <= hi_r and not (owner == "getUpdates" and fs.name == "limit"):
                raise bad_request(f"{where(owner, fs)} must be between {lo_r} and {hi_r}")
        return value

    def _check_types(
        self, owner: str, fs: FieldSpec, value: Any, types: tuple[str, ...], *, top: bool
    ) -> Any:
        first_error: ApiError | None = None
        # Candidates whose required fields are present go first: their error is the meaningful
        # one when a union of object types does not match.
        for type_name in self._ordered(types, value):
            try:
                return self._check_type(owner, fs, value, type_name, top=top)
            except ApiError as exc:
                if first_error is None and self._shape_matches(type_name, value):
                    first_error = exc
        if first_error is None:
            raise type_error(owner, fs, top=top)
        if fs.name == "reply_markup" and not self._has_required_of_any(types, value):
            raise bad_request("can't parse reply keyboard markup JSON object")
        raise first_error

    def _required_present(self, type_name: str, value: Any) -> bool:
        spec = self.types.get(type_name)
        if spec is None or not spec.fields or not isinstance(value, dict):
            return False
        return all(f.name in value for f in spec.fields if f.required)

    def _has_required_of_any(self, types: tuple[str, ...], value: Any) -> bool:
        return any(self._required_present(t, value) for t in types)

    def _ordered(self, types: tuple[str, ...], value: Any) -> list[str]:
        if not isinstance(value, dict) or len(types) < 2:
            return list(types)
        return sorted(types, key=lambda t: 0 if self._required_present(t, value) else 1)

    def _shape_matches(self, type_name: str, value: Any) -> bool:
        if type_name.startswith("Array of "):
            return isinstance(value, list)
        if type_name in ("Integer", "Float"):
            return isinstance(value, int | float | str) and not isinstance(value, bool)
        if type_name == "Boolean":
            return isinstance(value, bool)
        if type_name == "String":
            return isinstance(value, str)
        if type_name == "InputFile":
            return isinstance(value, str | dict)
        spec = self.types.get(type_name)
        return isinstance(value, dict) or bool(spec and spec.string_ok and isinstance(value, str))

    def _check_type(
        self, owner: str, fs: FieldSpec, value: Any, type_name: str, *, top: bool
    ) -> Any:
        if type_name.startswith("Array of "):
            inner = type_name[len("Array of ") :]
            if not isinstance(value, list):
                raise type_error(owner, fs, top=top)
            return [self._check_types(owner, fs, item, (inner,), top=top) for item in value]
        if type_name == "Integer":
            if isinstance(value, bool):
                raise type_error(owner, fs, top=top)
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and _INT_RE.match(value.strip()):
                return int(value.strip())
            raise type_error(owner, fs, top=top)
        if type_name == "Float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            raise type_error(owner, fs, top=top)
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if value in (0, 1):
                return bool(value)
            raise type_error(owner, fs, top=top)
        if type_name == "String":
            if isinstance(value, str):
                return value
            raise type_error(owner, fs, top=top)
        if type_name == "InputFile":
            if isinstance(value, str | dict):
                return value
            raise type_error(owner, fs, top=top)
        return self.check_object(type_name, value)

    def check_object(self, type_name: str, value: Any) -> Any:
        """Validate a value against an object type of the spec; returns the coerced value."""
        spec = self.types.get(type_name)
        if spec is None:  # a type the compact spec drops: accept as is
            return value
        if spec.string_ok and isinstance(value, str):
            return value
        if not isinstance(value, dict):
            raise bad_request(f"can't parse {type_words(type_name)}: must be an Object")
        if spec.subtypes:
            return self._check_subtype(spec, value)
        out: dict[str, Any] = {}
        fields = spec.field_map
        for name, item in value.items():
            fs = fields.get(name)
            if fs is None or item is None:
                out[name] = item
                continue
            out[name] = self._check_field(type_name, fs, item, top=False)
        for fs in spec.fields:
            if fs.required and fs.name not in out:
                raise bad_request(
                    f"can't parse {type_words(type_name)}: Can't find field \"{fs.name}\""
                )
        if spec.one_of:
            self._check_one_of(spec, out)
        return out

    def _check_subtype(self, spec: TypeSpec, value: dict[str, Any]) -> Any:
        for sub_name in spec.subtypes:
            sub = self.types.get(sub_name)
            if sub is None:
                continue
            consts = [f for f in sub.fields if f.const is not None]
            if consts and all(value.get(f.name) == f.const for f in consts):
                return self.check_object(sub_name, value)
        kinds = [
            f.const for s in spec.subtypes for f in self.types[s].fields if f.const is not None
        ]
        raise bad_request(
            f"can't parse {spec.name}: unsupported type {json.dumps(value.get('type'))}"
            f" (expected one of {', '.join(str(k) for k in kinds)})"
        )

    def _check_one_of(self, spec: TypeSpec, value: dict[str, Any]) -> None:
        rule = spec.one_of or {}
        excluded = set(rule.get("except", ()))
        chosen = [k for k, v in value.items() if k not in excluded and v not in (None, False)]
        if rule.get("mode") == "exactly" and not chosen:
            if spec.name == "InlineKeyboardButton":
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            raise bad_request(
                f"can't parse {type_words(spec.name)}: one optional field is required"
            )
        if len(chosen) > 1:
            raise bad_request(
                f"can't parse {type_words(spec.name)}: only one of the fields "
                f"{', '.join(sorted(chosen))} can be used"
            )


def _optional_by_convention(method: str, name: str) -> bool:
    # setWebhook(url="") removes the webhook; aiogram drops empty strings from the form, so a
    # missing url must mean "remove", exactly as Telegram treats it.
    return method == "setWebhook" and name == "url"


def _is_stringish(types: tuple[str, ...]) -> bool:
    """A text value is final for fields that may be a String (or a file reference)."""
    return "String" in types or types == ("InputFile",)
