"""Lenient decoding of OCDS packages: the UK services serve JSON that strict parsers reject."""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

import orjson

# `1e9999` means "unlimited" (e.g. maximumLotsBidPerSupplier); it overflows to infinity, which JSON
# cannot store. kingfisher-collect stores such numbers as 9999999, and so do we.
UNLIMITED = 9999999
# A JSON string (left alone) or the leading zeros of a number such as ` 007` or `-007`.
STRING_OR_LEADING_ZEROS = re.compile(rb'"(?:[^"\\]|\\.)*"|(?<=[:\[,])(\s*-?)0+(?=\d)')


class InvalidPackage(ValueError):
    """The body is not a readable OCDS release package (truncated, HTML error page, ...)."""


def without_bom(body: bytes) -> bytes:
    """The body without a leading UTF-8 byte order mark: some servers write one, and JSON parsers
    refuse it (RFC 8259 lets a reader ignore it), which failed the source on every crawl."""
    return body.removeprefix(codecs.BOM_UTF8)


def decode_package(body: bytes) -> dict[str, Any]:
    body = without_bom(body)
    try:
        package = orjson.loads(body)  # fast path: a well-formed page
    except orjson.JSONDecodeError:
        package = _decode_leniently(body)
    if not isinstance(package, dict) or not isinstance(package.get("releases"), list):
        raise InvalidPackage("not an OCDS release package (no 'releases' list)")
    links = package.get("links")
    if not isinstance(links, dict | None) or not isinstance((links or {}).get("next"), str | None):
        raise InvalidPackage("its 'links' are not an object with a 'next' URL")
    return package


def _decode_leniently(body: bytes) -> Any:
    try:
        return _decode_repairing(body)
    except RecursionError:
        # orjson refuses over 1024 levels; the standard library runs out of stack near 1,000. No
        # real page comes close (about 10), so such a page is unreadable, not a crash of the crawl.
        raise InvalidPackage("JSON nested too deeply (over 1,000 levels)") from None


def _decode_repairing(body: bytes) -> Any:
    """What the fast parser refuses: 1e9999 (made finite), invalid UTF-8, numbers with leading zeros."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text, parse_float=_finite_float)
    except json.JSONDecodeError:
        # Numbers written with leading zeros (` 000,`) occur; repair them (never inside strings) only
        # when parsing failed.
        try:
            repaired = _strip_leading_zeros(body).decode("utf-8", errors="replace")
            return json.loads(repaired, parse_float=_finite_float)
        except json.JSONDecodeError as exc:
            raise InvalidPackage(
                html_page(body) or f"not valid JSON ({exc.msg} at character {exc.pos})"
            ) from None


def _strip_leading_zeros(body: bytes) -> bytes:
    return STRING_OR_LEADING_ZEROS.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(0), body)


def _finite_float(text: str) -> float | int:
    value = float(text)
    return value if math.isfinite(value) else UNLIMITED


TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def html_page(body: bytes) -> str | None:
    """What to say of a web page served where JSON was expected (a maintenance or error page sent
    with status 200), with its title; None when the body is not HTML."""
    if body.lstrip()[:1] != b"<":
        return None
    found = TITLE.search(body[:20000])
    title = " ".join(found.group(1).decode("utf-8", "replace").split()) if found else ""
    title = "".join(c for c in title if c.isprintable())[:80]
    return (
        f"not valid JSON but a web page{f' ({title!r})' if title else ''}; the service may be down "
        "for maintenance or its API may have moved, and the next crawl will try again"
    )
