"""Applying a suggested rule change (scoring.suggest) to the rules as text, keeping every other line
and comment as the bid lead wrote it: the web page offers each suggestion as a draft to check, try
and publish.

A suggestion names a mapping (``service_lines > Evaluation > keywords``, ``adjustments > keywords``,
``scoring > bands``) and ``key: value`` lines; a key already there gets the new value, a new key is
added as the mapping's last line, at its indentation (or last inside a ``{...}``). A mapping that is
missing gives None: the suggestion's YAML is then to paste by hand.
"""

from __future__ import annotations

from typing import Any

import yaml


def apply_suggestion(text: str, where: str, lines: str) -> str | None:
    """`text` with the suggestion's `lines` ("key: value", one or more) set in the mapping `where`."""
    changes = [line.strip() for line in lines.splitlines() if line.strip()]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        wanted = [yaml.safe_load(line) for line in changes]
    except yaml.YAMLError:
        return None
    target = _find(root, [part.strip() for part in where.split(">")])
    if not isinstance(target, yaml.MappingNode) or not (target.value or target.flow_style):
        return None
    for line, pair in zip(changes, wanted, strict=True):
        if not isinstance(pair, dict) or len(pair) != 1:
            return None
        try:
            text = _set(text, target, line)
        except ValueError:
            return None
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        target = _find(root, [part.strip() for part in where.split(">")])
    return text


def _find(node: Any, path: list[str]) -> Any:
    """The node at `path`: mapping keys, or in a list of mappings the item whose name is the part."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode):
            node = next((item for item in node.value if _name(item) == part), None)
        else:
            return None
    return node


def _name(node: Any) -> str | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value.value for key, value in node.value if key.value == "name"), None)


def _set(text: str, mapping: yaml.MappingNode, line: str) -> str:
    """`line` ("key: value") set in `mapping`: the value of the same key as written (a quoted key is
    another rule than a plain one), else a new last line at the mapping's indentation."""
    key, value = (part.strip() for part in line.rsplit(":", 1))
    for key_node, value_node in mapping.value:
        if _source(text, key_node) == key:
            return text[: value_node.start_mark.index] + value + text[value_node.end_mark.index :]
    if mapping.flow_style:  # {a: 1, b: 2}: before its closing brace
        close = mapping.end_mark.index - 1
        if text[close] != "}":
            raise ValueError("unexpected flow mapping")
        return text[:close] + (", " if mapping.value else "") + line + text[close:]
    last_value = mapping.value[-1][1]
    indent = " " * mapping.value[0][0].start_mark.column
    # A block mapping's last value ends at the end of its line (or at the start of the next).
    mark = last_value.end_mark
    end = mark.index - 1 if mark.column == 0 and mark.index > 0 else mark.index
    end = text.find("\n", end)
    end = len(text) if end == -1 else end
    return text[:end] + "\n" + indent + line + text[end:]


def _source(text: str, node: yaml.Node) -> str:
    return text[node.start_mark.index : node.end_mark.index]
