"""``mymedic zoho mapping init``: a starter mapping from the org's metadata, written as
TOML with every guess explained in a comment and a ``TODO`` wherever a decision is left
(a needed field not found, picklist values to map). The file is read back as the
ingestion would read it, so the admin learns at once whether it loads and, if not, which
keys to fix."""

from __future__ import annotations

import os
import re
import tempfile
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mymedic.integrations.zoho.client import ZohoClient
from mymedic.integrations.zoho.mapping_canonical import CANONICAL
from mymedic.integrations.zoho.mapping_guess import Draft, ModuleGuess, ValueMapGuess, guess_mapping
from mymedic.integrations.zoho.mapping_metadata import read_metadata
from mymedic.integrations.zoho.mapping_model import MappingError, parse_mapping

WIDTH = 88
# Read with every record anyway, so never worth listing as "not mapped".
_STAMPS = frozenset({"id", "Modified_Time", "Created_Time", "created_time"})
FALLBACK_ZONE = "UTC"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_KIND_WORDS = {
    "id": "an id",
    "text": "text",
    "choice": "one of a list",
    "choices": "a multi-select",
    "datetime": "a date-time",
    "date": "a date",
    "int": "a whole number",
    "money": "an amount",
    "hours": "working hours",
    "timezone": "a time zone",
}


class MappingExists(FileExistsError):
    """The tenant has a mapping already: ``--force`` to replace it."""


@dataclass(frozen=True)
class InitResult:
    path: Path
    modules: tuple[tuple[str, str], ...]  # (module, entity)
    todos: tuple[str, ...]  # decisions left, one line each
    problems: tuple[str, ...]  # why the file does not load (empty: it loads)

    @property
    def loads(self) -> bool:
        return not self.problems


def init_mapping(
    client: ZohoClient, api_version: str, tenant_id: str, out: Path, *, force: bool = False
) -> InitResult:
    if out.exists() and not force:
        raise MappingExists(f"{out.name} exists: --force to replace it")
    draft = guess_mapping(tenant_id, read_metadata(client, api_version))
    text = render(draft)
    _write(out, text)
    return InitResult(
        path=out,
        modules=tuple((guess.name, guess.entity) for guess in draft.modules),
        todos=tuple(todos(draft)),
        problems=tuple(load_problems(text, out.name)),
    )


def load_problems(text: str, where: str) -> list[str]:
    """Why the mapping in ``text`` would not load, one key per line (none: it loads)."""
    try:
        parse_mapping(tomllib.loads(text), where)
    except tomllib.TOMLDecodeError as exc:  # a bug here, never the admin's doing
        return [f"not valid TOML: {exc}"]
    except MappingError as exc:
        return [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
    return []


def todos(draft: Draft) -> list[str]:
    found: list[str] = []
    if draft.time_zone is None:
        found.append(f"timezone: the clinic's time zone (written as {FALLBACK_ZONE})")
    for guess in draft.modules:
        found += [f"{guess.name}: no field found for {name}" for name in guess.missing]
        found += [
            f"{guess.name}.value_maps.{value_map.canonical}: "
            f"{value_map.open_values} picklist value(s) of {value_map.zoho} to map"
            for value_map in guess.value_maps
            if value_map.open_values
        ]
        found += [f"{guess.name}: {note}" for note in guess.notes]
    return found


# -- rendering ----------------------------------------------------------------------


def render(draft: Draft) -> str:
    lines = [
        f'# The Zoho mapping of tenant "{draft.tenant_id}": a starter written by',
        "# `mymedic zoho mapping init` from the org's metadata. Each guess says what it was",
        '# guessed from; each "TODO" is a decision left to you. Check it against records',
        f"# of the org before use (`mymedic zoho check-mapping --tenant {draft.tenant_id}`)",
        "# and bump `version` with every change.",
    ]
    lines += _wrapped("Modules not mapped: ", draft.unmapped)
    lines += _wrapped(
        "Also looked like an entity, but another module took it: ", draft.alternatives
    )
    lines += _wrapped("Zoho listed no fields for: ", draft.skipped)
    zone = draft.time_zone or FALLBACK_ZONE
    zone_why = (
        "guessed from the CRM users' time zone"
        if draft.time_zone
        else "TODO: the clinic's time zone (an IANA name, e.g. Asia/Kolkata)"
    )
    lines += [
        "",
        f"tenant_id = {_string(draft.tenant_id)}",
        "version = 1",
        f"timezone = {_string(zone)}  # {zone_why}",
        f"billing = {_string(draft.billing)}  # guessed: {_comment(draft.billing_why)}",
    ]
    for guess in draft.modules:
        lines += _module(guess)
    return "\n".join(lines) + "\n"


def _module(guess: ModuleGuess) -> list[str]:
    table = f"modules.{_key(guess.name)}"
    lines = ["", f"[{table}]  # guessed from {_comment(guess.why)}", f'entity = "{guess.entity}"']
    if guess.formula_fields:
        lines.append(
            f"formula_fields = {_array(guess.formula_fields)}  # formula fields: Zoho does not "
            "move Modified_Time when they change"
        )
    if guess.ignore_without:
        lines.append(
            f"ignore_without = {_array(guess.ignore_without)}  # guessed: a user without them "
            f"is no {guess.entity}"
        )
    lines += ["", f"[{table}.fields]"]
    for item in guess.fields:
        lines.append(f"{_key(item.zoho)} = {_string(item.canonical)}  # guessed from {item.why}")
    kinds = CANONICAL[guess.entity]
    for name in guess.missing:
        kind = _KIND_WORDS.get(kinds[name].kind, kinds[name].kind)
        lines += [
            f"# TODO: no field found for {name} (needed; {kind}): map one here,",
            f"#   or give it a default in [{table}.defaults]",
        ]
    lines += [f"# TODO: {_comment(note)}" for note in guess.notes]
    lines += _wrapped("Not mapped: ", [name for name in guess.unused() if name not in _STAMPS])
    lookups = [item for item in guess.fields if item.lookup is not None]
    if lookups:
        lines += ["", f"[{table}.lookups]"]
        lines += [
            f"{_key(item.zoho)} = {_string(item.lookup or '')}  # the field looks up {item.lookup}"
            for item in lookups
        ]
    for value_map in guess.value_maps:
        lines += _value_map(table, value_map)
    return lines


def _value_map(table: str, value_map: ValueMapGuess) -> list[str]:
    lines = [
        "",
        f"[{table}.value_maps.{value_map.canonical}]  # the picklist {value_map.zoho}",
    ]
    if value_map.choices:
        todo = f"TODO: one of {', '.join(value_map.choices)}"
    else:
        todo = f"TODO: our {value_map.canonical} for this value"
    for value, mapped, hint in value_map.entries:
        if mapped is not None:
            why = "guessed" if mapped != value else "taken as it is"
            lines.append(f"{_string(value)} = {_string(mapped)}  # {why}")
        else:
            lines.append(f"# {_string(value)} = {_string(hint)}  # {todo}")
    return lines


def _wrapped(prefix: str, names: list[str]) -> list[str]:
    if not names:
        return []
    text = prefix + ", ".join(names) + "."
    wrapped = textwrap.wrap(
        _comment(text), WIDTH - 2, break_long_words=False, break_on_hyphens=False
    )
    return ["# " + line for line in wrapped]


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = "".join(
        "\\" + char if char in '"\\' else f"\\u{ord(char):04X}" if _is_control(char) else char
        for char in value
    )
    return f'"{escaped}"'


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or ord(char) == 0x7F  # TOML escapes these


def _array(values: list[str]) -> str:
    return "[" + ", ".join(_string(value) for value in values) + "]"


def _comment(text: str) -> str:
    """Text safe inside a comment: one line, no control characters."""
    return "".join(char if char.isprintable() else " " for char in text)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".mapping-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
