"""Reading and validating the project's data files (YAML, or JSON for a .json file) with messages
that name file and path."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_FILE_BYTES = 2 * 1024 * 1024
# Digits of a whole number: no value in a data file needs more, and Python's int() refuses over
# 4,300 with a ValueError that no message of ours explained (a traceback, a 500 on upload).
MAX_DIGITS = 1000
# Problems told of one file: a file of 10,000 unknown ids is told by its first hundred and a count.
MAX_PROBLEMS_SHOWN = 100
SEMVER = r"^\d+\.\d+\.\d+$"
# The id of a rubric or dataset, which names its file (``peers/<id>.yaml``): no slash, no leading dot.
FILE_ID = r"^[a-z0-9][a-z0-9._-]*$"
# The id of a rubric item: lowercase words joined by dots (data.residency).
ID = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
# How a value refused by each pattern is told: in words, not as the expression.
PATTERN_WORDS = {
    SEMVER: "must be a version of three numbers, MAJOR.MINOR.PATCH, such as 1.0.0",
    FILE_ID: "must be lowercase letters, digits, '.', '_' and '-', beginning with a letter or digit "
             "(it names a file: no '/')",
    ID: "must be lowercase letters, digits and '_', in parts joined by '.' and beginning with a letter, "
        "such as data.residency",
}


class DataModel(BaseModel):
    """The base of every data file's models: unknown keys refused, no coercion (YAML's ``yes`` is no
    level, ``3.0`` no count), and no infinity or NaN, which would pass ``gt``/``le`` bounds or break
    every sum and comparison they enter."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _web_address(value: str) -> str:
    # Addresses become links (templates/_sources.html, the PDF): a javascript:, data: or file: one
    # would run or open on a click, so only the web's own schemes pass, with a host after them.
    if not re.match(r"https?://[^\s/?#]", value, re.IGNORECASE):
        raise ValueError("must be an http:// or https:// address")
    return value


WebAddress = Annotated[str, AfterValidator(_web_address)]


class DataFileError(ValueError):
    """A data file that cannot be used; each problem names the path inside the file."""

    def __init__(self, filename: str, problems: list[tuple[str, str]]):
        self.filename = filename
        self.problems = problems
        super().__init__(str(self))

    @property
    def shown(self) -> list[tuple[str, str]]:
        """The problems to tell: the first MAX_PROBLEMS_SHOWN, then how many more there are."""
        more = len(self.problems) - MAX_PROBLEMS_SHOWN
        if more <= 0:
            return self.problems
        return self.problems[:MAX_PROBLEMS_SHOWN] + [("", f"and {more:,} more problems")]

    def __str__(self) -> str:
        return "\n".join(
            f"{self.filename}: {path}: {message}" if path else f"{self.filename}: {message}"
            for path, message in self.shown
        )


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader (libyaml's when available) refusing duplicate keys instead of keeping the last,
    and aliases of lists and mappings."""

    def construct_object(self, node, deep=False):
        # An alias is the node built once more. Nested aliases of lists ("billion laughs") make a
        # file of a few hundred bytes a structure of billions of items for anything that walks or
        # prints it; no data file needs them. Aliases of scalars cost nothing and stay.
        if node in self.constructed_objects and not isinstance(node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(None, None, "this list or mapping is repeated through an "
                                                    "alias (*name), which is not allowed", node.start_mark)
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:  # a list or mapping as a key ("? [a, b]"): refused, as PyYAML's own loader does
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
            if repeated:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", mark
                )
            seen[key] = True
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        digits = _digits(node.value)
        if digits > MAX_DIGITS:
            raise yaml.constructor.ConstructorError(None, None, _too_long(digits), node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node):
        # As written: no field of a data file is a date object. YAML's own reading refused a peer
        # dataset's "date: 2025-08-25" as no string, and 2019-02-30 with a bare ValueError (a 500).
        return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _digits(number: str) -> int:
    return len(number.lstrip("+-").replace("_", ""))


def _too_long(digits: int) -> str:
    return f"a number of {digits} digits (at most {MAX_DIGITS})"


def _empty(text: str, filename: str) -> None:
    """An empty file gets those words, not a parser's complaint about its first character."""
    if not text.strip():
        raise DataFileError(filename, [("", "is empty")])


def _line_and_column(text: str, index: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    return f"line {text.count(chr(10), 0, index) + 1}, column {index - line_start + 1}"


def parse_yaml(text: str, filename: str) -> Any:
    """Parse YAML text strictly; syntax errors become a DataFileError with line and column."""
    _empty(text, filename)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.reader.ReaderError as error:
        # A character YAML does not allow: its own message places it as 'in "<unicode string>",
        # position n' (libyaml's n counts bytes), on a line of its own. The first such character is it.
        where = _line_and_column(text, text.find(chr(error.character)))
        raise DataFileError(filename, [(where, f"invalid YAML: control character #x{error.character:04x} "
                                               "is not allowed")]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DataFileError(filename, [(where, f"invalid YAML: {error.problem}")]) from None
    except yaml.YAMLError as error:
        raise DataFileError(filename, [("", f"invalid YAML: {error}")]) from None
    except RecursionError:  # libyaml stops at 1,000 levels, but PyYAML builds a mapping's keys recursively
        raise DataFileError(filename, [("", "invalid YAML: nested too deeply")]) from None


@contextmanager
def os_errors(name: str) -> Iterator[None]:
    """Report any refusal of the system to read a file (missing, a directory, no permission) as a
    DataFileError naming it: bad input never ends in a traceback."""
    try:
        yield
    except FileNotFoundError:
        raise DataFileError(name, [("", "no such file")]) from None
    except IsADirectoryError:
        raise DataFileError(name, [("", "is a directory, not a file")]) from None
    except OSError as error:
        raise DataFileError(name, [("", f"cannot be read ({error.strerror})")]) from None


class _Refused(Exception):
    """What a JSON hook refuses, reported by parse_json with the file's name."""


class _RepeatedKey(Exception):
    """A JSON object naming a key twice; parse_json finds where."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) < len(keys):
        raise _RepeatedKey(next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


class _Pairs(list):
    """A JSON object as the pairs written, repeats kept."""


def _first_repeated_key(value: Any, loc: tuple = ()) -> tuple | None:
    """The location of the first key that repeats one of its object's, in the order of the text."""
    items = value if isinstance(value, _Pairs) else enumerate(value) if isinstance(value, list) else ()
    seen = set()
    for key, item in items:
        if key in seen:
            return (*loc, key)
        seen.add(key)
        found = _first_repeated_key(item, (*loc, key))
        if found:
            return found
    return None


def _repeated_key(text: str, key: str) -> tuple[str, str]:
    """Where a JSON text repeats a key, and which: json's hook sees an object's keys, not where it is.

    The text is read again keeping the repeats; if it is refused for something further on (reading
    stopped at the repeat), the key alone is named."""
    try:
        loc = _first_repeated_key(json.loads(text, object_pairs_hook=_Pairs, parse_constant=_no_constant,
                                             parse_int=_whole_number))
    except (ValueError, _Refused, RecursionError):
        loc = None
    return (format_path(loc), f"invalid JSON: duplicate key {loc[-1]!r}") if loc else (
        "", f"invalid JSON: duplicate key {key!r}")


def _no_constant(name: str) -> None:
    raise _Refused(f"{name} is not a number JSON allows")


def _whole_number(number: str) -> int:
    digits = _digits(number)
    if digits > MAX_DIGITS:
        raise _Refused(_too_long(digits))
    return int(number)


def _json_problem(text: str, error: json.JSONDecodeError) -> str:
    # Refused at its first character, the file is likely YAML (or no data at all) named .json.
    if error.pos == len(text) - len(text.lstrip()):
        return (f"invalid JSON: {error.msg} (the file does not begin as JSON does, with {{ or [; "
                "a YAML file must be named .yaml or .yml)")
    return f"invalid JSON: {error.msg}"


def parse_json(text: str, filename: str) -> Any:
    """Parse JSON text strictly (no repeated key, NaN or Infinity); errors name line and column.

    YAML would read an exported JSON file too, but not every string of it as JSON wrote it: it
    refuses some characters (U+007F, U+FFFE) and folds others (U+0085, U+2028) into spaces."""
    _empty(text, filename)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant,
                          parse_int=_whole_number)
    except json.JSONDecodeError as error:
        raise DataFileError(filename, [(f"line {error.lineno}, column {error.colno}",
                                        _json_problem(text, error))]) from None
    except _Refused as refused:
        raise DataFileError(filename, [("", f"invalid JSON: {refused}")]) from None
    except _RepeatedKey as repeated:
        raise DataFileError(filename, [_repeated_key(text, repeated.key)]) from None
    except RecursionError:
        raise DataFileError(filename, [("", "invalid JSON: nested too deeply")]) from None


def parse_data(text: str, filename: str) -> Any:
    """A .json file's text as JSON, any other's as YAML."""
    return parse_json(text, filename) if filename.lower().endswith(".json") else parse_yaml(text, filename)


def decode(content: bytes, filename: str) -> str:
    """A file's bytes as UTF-8 text, without the byte order mark that Windows programs (Notepad,
    Excel) put first: JSON refuses it, and a stored rubric would differ from the same one without."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(filename, [("", "is not UTF-8 text")]) from None


def read_data(path: str | Path) -> Any:
    """Read a YAML (or .json) file; a missing, oversized or undecodable file is a DataFileError."""
    path = Path(path)
    name = path.name
    with os_errors(name):
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DataFileError(name, [("", f"file is larger than {MAX_FILE_BYTES // 1024} KiB")])
        content = path.read_bytes()
    return parse_data(decode(content, name), name)


def format_path(loc: tuple[Any, ...]) -> str:
    """Turn a location tuple into ``dimensions[2].questions[4].weight``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "greater_than":  # bounds as written in the model: "> 0", not pydantic's "> 0.0"
        return f"must be > {ctx['gt']:g}"
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']:g}"
    if kind == "less_than_equal":
        return f"must be <= {ctx['le']:g}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_WORDS:
        return PATTERN_WORDS[ctx["pattern"]]
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    message = error["msg"]
    return message[0].lower() + message[1:]


def _problem(error: dict) -> tuple[str, str]:
    """A pydantic error as (path, message). Pydantic locates a mapping key of the wrong type at
    ``<key>.[key]``, a path the file does not have: the key is named in the message instead."""
    loc, message = error["loc"], _message(error)
    if loc[-1:] == ("[key]",):
        return format_path(loc[:-2]), f"key {loc[-2]!r}: {message}"
    return format_path(loc), message


def validate(model: type[ModelT], data: Any, filename: str) -> ModelT:
    """Validate parsed data against a pydantic model, reporting every problem by path."""
    if not isinstance(data, dict):
        raise DataFileError(filename, [("", "must be a mapping of keys to values at the top level")])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [_problem(e) for e in error.errors()]
        raise DataFileError(filename, problems) from None


def repeats(values: list[Any], path: str, noun: str) -> list[tuple[str, str]]:
    """Problems for values of a list that repeat an earlier one: a repeated id is refused rather than
    kept, since what reads the list would drop it (or count it twice) without a word."""
    first: dict[Any, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in first:
            problems.append((f"{path}[{index}]", f"duplicate {noun} {value!r} (first at {path}[{first[value]}])"))
        else:
            first[value] = index
    return problems


def duplicates(items: list[Any], attr: str, path: str) -> list[tuple[str, str]]:
    """Problems for items of a list whose ``attr`` repeats an earlier item's."""
    return [(f"{where}.{attr}", message) for where, message in repeats([getattr(i, attr) for i in items], path, attr)]
