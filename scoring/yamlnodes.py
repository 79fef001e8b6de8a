"""Reading a YAML file node by node, so every error names the file, the line and the field.

PyYAML's composed node tree keeps the position of every key and value; `Field` wraps one node with
its dotted path (``service_lines[2].keywords.evaluation``) and turns it into checked Python values.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from tenderwatch.errors import InputError
from tenderwatch.files import undecodable_line

_QUOTED_STYLES = ("'", '"')
_TYPE_NAMES = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "empty",
    "tag:yaml.org,2002:map": "a mapping (key: value lines)",
    "tag:yaml.org,2002:seq": "a list",
}


class ProfileError(InputError):
    """A rules file is invalid; `file`, `line` and `field` say where (raised by scoring.profile)."""

    def __init__(self, file: str, line: int | None, field: str, message: str):
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")
        self.file, self.line, self.field = file, line, field
        # Every independent mistake found, in file order, this one first (scoring.profile collects
        # them: each top-level section and each service line is validated on its own).
        self.mistakes: list[ProfileError] = [self]

    def what_is_wrong(self) -> str:
        """The mistake without its "FILE:LINE: field: " prefix, for showing beside its line."""
        prefix = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        prefix += f"{self.field}: " if self.field else ""
        text = str(self)
        return text[len(prefix) :] if text.startswith(prefix) else text


def compose(path: Path) -> Field:
    """The file's root node, or ProfileError for a file that is unreadable or not YAML."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(file, None, "", "no such rules file; check the path") from None
    except OSError as exc:
        raise ProfileError(file, None, "", f"cannot read the rules file ({exc})") from None
    except UnicodeDecodeError as exc:  # e.g. a '£' in a comment, saved by Notepad or Excel as Latin-1
        raise ProfileError(
            file,
            undecodable_line(exc),
            "",
            "not UTF-8 text (a character such as £ or é on this line is in another encoding); "
            "save the rules file as UTF-8 and run again",
        ) from None
    return compose_text(text, file)


def compose_text(text: str, file: str) -> Field:
    """The root node of rules given as text (a draft, a published version); `file` names it in errors."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(file, text, exc) from None
    except RecursionError:  # "[[[[..." hundreds deep: PyYAML composes each level by recursion
        raise ProfileError(
            file, None, "", "not valid YAML: lists or mappings nested too deeply; no rules file nests so deep"
        ) from None
    except yaml.reader.ReaderError as exc:  # a control character, e.g. pasted from a PDF
        line = text.count("\n", 0, exc.position) + 1
        raise ProfileError(
            file, line, "", f"not valid YAML: character #x{exc.character:04x} is not allowed; delete it"
        ) from None
    if node is None:
        raise ProfileError(file, 1, "", "the file is empty; start from the shipped example profile")
    return Field(file, node, "")


def _syntax_error(file: str, text: str, exc: yaml.MarkedYAMLError) -> ProfileError:
    """The YAML mistake, at the line where it was made.

    PyYAML's problem_mark is where it gave up, which for a bracket or quote left open, or a key
    without its ':', is a line or more later (for a quote, the end of the file); its context_mark
    is where that bracket, quote or key began.
    """
    problem = exc.problem or exc.context or "syntax error"
    gave_up = exc.problem_mark or exc.context_mark
    gave_up_line = gave_up.line + 1 if gave_up else None
    began, context = exc.context_mark, exc.context or ""
    if began and context in ("while parsing a flow mapping", "while parsing a flow sequence"):
        closing = "}" if text[began.index] == "{" else "]"
        fix = f"the bracket opened on this line is not closed; add its '{closing}' (or a missing ',')"
        return _began_here(file, began, gave_up_line, problem, fix)
    if began and context == "while scanning a quoted scalar" and problem.startswith("found unexpected"):
        fix = f"the quote opened on this line is not closed; add its closing {text[began.index]}"
        return _began_here(file, began, gave_up_line, problem, fix)
    squeezed = _squeezed_key(text, gave_up_line) if problem in _KEY_PROBLEMS else None
    if squeezed is not None:
        fix = "put a space after the ':' of this line's key, as in key: value"
        return ProfileError(file, squeezed, "", f"not valid YAML ({problem}): {fix}")
    if began and context == "while scanning a simple key":
        fix = "this line needs a ':' after its key, as in key: value"
        return _began_here(file, began, gave_up_line, problem, fix)
    if problem == "mapping values are not allowed here":
        # A key without its ':' runs on, as text, into the next line's key.
        start = _start_of_last_scalar(text)
        if start is not None and gave_up_line is not None and start < gave_up_line:
            fix = (
                f"the text on this line runs on to line {gave_up_line}; give this line its ':' if it is a "
                "key, or put the text in quotes"
            )
            return ProfileError(file, start, "", f"not valid YAML ({problem} on line {gave_up_line}): {fix}")
    return ProfileError(
        file, gave_up_line, "", f"not valid YAML ({problem}); check the indentation and quotes on this line"
    )


# "consultancy:8" (a key, not a list item such as "- ISO 9001:2015", nor "http://"), where YAML gave up
# for want of a key's ':' or a mapping's end.
_SQUEEZED_KEY = re.compile(r"^\s*[^\s#:'\"-][^#:]*:[^\s:/#]")
_KEY_PROBLEMS = ("could not find expected ':'", "expected <block end>, but found '<block mapping start>'")


def _squeezed_key(text: str, line: int | None) -> int | None:
    """The line, this one or the last written before it, whose key has no space after its ':'
    ("consultancy:8"): YAML reads it as text, and gives up a line later."""
    if line is None:
        return None
    lines = text.splitlines()
    written = [n for n in range(line, 0, -1) if n <= len(lines) and lines[n - 1].split("#")[0].strip()]
    return next((n for n in written[:2] if _SQUEEZED_KEY.match(lines[n - 1])), None)


def _began_here(
    file: str, began: yaml.Mark, gave_up_line: int | None, problem: str, fix: str
) -> ProfileError:
    line = began.line + 1
    later = f" on line {gave_up_line}" if gave_up_line and gave_up_line != line else ""
    return ProfileError(file, line, "", f"not valid YAML ({problem}{later}): {fix}")


def _start_of_last_scalar(text: str) -> int | None:
    """The line on which the last value PyYAML read before its error starts."""
    loader = yaml.SafeLoader(text)
    last = None
    try:
        while loader.check_token():
            last = loader.get_token()
    except yaml.MarkedYAMLError:
        pass
    finally:
        loader.dispose()
    tokens = [last, *loader.tokens]  # the scanner may hold tokens read ahead and not yet handed out
    scalars = [token for token in tokens if isinstance(token, yaml.ScalarToken)]
    return scalars[-1].start_mark.line + 1 if scalars else None


@dataclass(frozen=True)
class Field:
    file: str
    node: yaml.Node
    path: str

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    def error(self, message: str) -> ProfileError:
        return ProfileError(self.file, self.line, self.path or "(top level)", message)

    def child(self, node: yaml.Node, name: str) -> Field:
        if name.startswith("["):
            return Field(self.file, node, f"{self.path}{name}")
        return Field(self.file, node, f"{self.path}.{name}" if self.path else name)

    def is_null(self) -> bool:
        return self.node.tag == "tag:yaml.org,2002:null"

    def is_quoted(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.style in _QUOTED_STYLES

    def mapping(self, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Field]:
        """The keys of a mapping with fixed keys; unknown keys get a did-you-mean."""
        fields: dict[str, Field] = {}
        for key, value in self.pairs():
            name = key.text()
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
                raise key.error(f"unknown key '{name}'; {hint}")
            fields[name] = value
        missing = [name for name in required if name not in fields]
        if missing:
            raise self.error(f"'{missing[0]}' is required; add it (see the example profile)")
        return fields

    def pairs(self) -> Iterator[tuple[Field, Field]]:
        """Key and value fields of a mapping, in file order; a key given twice is an error."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"must be a mapping (key: value lines), not {self.kind()}")
        seen: set[str] = set()
        for key_node, value_node in self.node.value:
            key = Field(self.file, key_node, self.path)
            key.text()  # a key must be a plain value
            name = key_node.value  # as written: YAML would read the key 0322 as the octal number 210
            if name in seen:
                raise key.error(f"'{name}' is given twice; keep one")
            seen.add(name)
            yield key.child(key_node, name), self.child(value_node, name)

    def sequence(self, *, allow_single: bool = False) -> list[Field]:
        if allow_single and isinstance(self.node, yaml.ScalarNode) and not self.is_null():
            return [self]
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error(f"must be a list (lines starting with '- '), not {self.kind()}")
        return [self.child(node, f"[{index + 1}]") for index, node in enumerate(self.node.value)]

    def scalar(self) -> Any:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error(f"must be a single value, not {self.kind()}")
        try:
            return SafeConstructor().construct_object(self.node)
        except ConstructorError:
            # PyYAML's own words span three lines, quoting '<unicode string>': say what was written.
            if self.node.tag == "tag:yaml.org,2002:merge":
                raise self.error(
                    "'<<' (a YAML merge key) is not read in rules files; write the keys out in full"
                ) from None
            raise self.error(
                f"cannot read this value: the tag {_written_tag(self.node.tag)} is not read in rules files; "
                "write the value alone"
            ) from None
        except ValueError as exc:
            raise self.error(f"cannot read this value ({exc})") from None

    def text(self) -> str:
        value = self.scalar()
        if isinstance(value, bool) or value is None or isinstance(value, list | dict):
            raise self.error(f"must be text, not {self.kind()}; put it in quotes if you meant the word")
        return str(value)

    def number(self, low: float, high: float, example: str) -> float:
        value = self.scalar()
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.error(f"must be a number from {low:g} to {high:g}, not {self.shown()}; e.g. {example}")
        if not low <= value <= high:
            raise self.error(f"must be from {low:g} to {high:g}, not {value:g}; e.g. {example}")
        return float(value)

    def kind(self) -> str:
        return _TYPE_NAMES.get(self.node.tag, "a tagged value")

    def shown(self) -> str:
        if isinstance(self.node, yaml.ScalarNode):
            return f"'{self.node.value}'"
        return self.kind()


def _written_tag(tag: str) -> str:
    """A tag as it was written: '!!python/object' rather than 'tag:yaml.org,2002:python/object'."""
    standard = "tag:yaml.org,2002:"
    return f"'!!{tag[len(standard) :]}'" if tag.startswith(standard) else f"'{tag}'"
