"""Build tests/fixtures from the real recorded responses in ../shared/fixtures, with personal data redacted.

    python scripts/build_fixtures.py [--shared ../shared/fixtures] [--labels ../shared/labels]

Recorded pages become vcrpy cassettes (request URL -> recorded status, headers and body) for the
pages that were recorded as one walk, and gzip JSON files for the rest. Redaction works on the raw
text, so every quirk of the original bytes (1e9999, key order, a duplicate inside a page) survives:
contact names, e-mails and phone numbers in `contactPoint`, and any e-mail address or UK phone
number in free text, are replaced by obvious placeholders. Re-run it after changing the redaction.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

from spiders.vcr import make_vcr

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures"
CONTACT_POINT = re.compile(r'"contactPoint"\s*:\s*\{[^{}]*\}')
CONTACT_FIELDS = {
    "name": "Redacted Contact",
    "email": "redacted@example.com",
    "telephone": "00000 000000",
    "faxNumber": "00000 000000",
}
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# A UK phone number (no UK number starts 00), however it is run into the text around it
# ("Telephone01632 960123Email"), but not the digits inside an identifier: a Contracts Finder GUID
# (…-8df7f86dc077-819892: after two hex digits, or a hex digit and a hyphen), an ocid such as
# ocds-r6ebe6-0000730576 (after a digit), an OJEU reference (2025/S 000-072431) or a Find a Tender
# notice id (076396-2026).
UK_PHONE = re.compile(
    r"(?<![\d.])(?<![0-9a-f]{2})(?<![0-9a-f]-)(?<!/S )(?!\d{6}-\d{4}\b)"
    r"(?:\+44\s?\(?0?\)?\s?|0)[1-9]\d{1,3}[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\d|-\d)",
    re.IGNORECASE,  # the OJEU reference is sometimes written 2024/s
)
# A person named with a title ("Mrs Laura Evans", "Mr Michael George Armitage"), as buyers write them
# into free text and Companies House control statements.
TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Cllr|Councillor)"
TITLED_NAME = re.compile(rf"\b{TITLES}\.?[ \t]+[A-Z][A-Za-z'\-]+(?:[ \t]+[A-Z][A-Za-z'\-]+){{0,3}}")
# Companies House officer listings that buyers paste into parties[].control.description: each
# officer as "SURNAME, Forenames" on a line of its own above "Correspondence address", with a month
# and year of birth.
OFFICER_LINE = re.compile(r"(?m)^[A-Z][A-Z' -]+, [A-Z][a-z]+(?: [A-Z][a-z]+)*(?=\nCorrespondence address)")
BIRTH_MONTH = re.compile(
    r"(?<=Date of birth)(\s+)(?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December) \d{4}"
)
JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def redact(text: str) -> str:
    def contact(match: re.Match[str]) -> str:
        block = match.group(0)
        for field, placeholder in CONTACT_FIELDS.items():
            block = re.sub(rf'("{field}"\s*:\s*)"(?:[^"\\]|\\.)*"', rf'\1"{placeholder}"', block)
        return block

    text = CONTACT_POINT.sub(contact, text)
    return JSON_STRING.sub(_redact_string, text)


def _redact_string(match: re.Match[str]) -> str:
    """One JSON string: decoded, scrubbed of e-mails, phone numbers, titled names and officer listings
    (names, birth months), and re-encoded
    only if something was removed (so untouched text keeps its recorded bytes)."""
    value = json.loads(match.group(0))
    scrubbed = EMAIL.sub("redacted@example.com", value)
    scrubbed = UK_PHONE.sub("00000 000000", scrubbed)
    scrubbed = TITLED_NAME.sub("Redacted Person", scrubbed)
    scrubbed = OFFICER_LINE.sub("[name removed]", scrubbed)
    scrubbed = BIRTH_MONTH.sub(r"\1[date of birth removed]", scrubbed)
    return match.group(0) if scrubbed == value else json.dumps(scrubbed, ensure_ascii=False)


def recorded(path: Path) -> tuple[int, dict[str, list[str]], str]:
    """(status, headers, redacted body) of one recorded response and its .headers file."""
    headers_file = path.with_suffix(".headers")
    lines = (
        headers_file.read_text().splitlines()
        if headers_file.exists()
        else ["HTTP/2 200", "content-type: application/json"]
    )
    status = int(lines[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            if name.strip().lower() not in {"set-cookie", "cookie"}:
                headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers, redact(path.read_text(encoding="utf-8"))


def walk_cassette(name: str, pages: list[Path]) -> None:
    """A cassette of pages recorded as one walk: each page's URL is the previous page's links.next."""
    interactions = []
    url = json.loads(pages[0].read_text())["uri"]
    for page in pages:
        status, headers, body = recorded(page)
        interactions.append((url, status, headers, body))
        url = (json.loads(body).get("links") or {}).get("next")
    write_cassette(name, interactions)


def write_cassette(name: str, interactions: list[tuple[str, int, dict[str, list[str]], str]]) -> None:
    from vcr.request import Request

    path = OUT / "cassettes" / f"{name}.yaml.gz"
    path.unlink(missing_ok=True)
    with make_vcr("all").use_cassette(str(path)) as cassette:
        for url, status, headers, body in interactions:
            cassette.append(
                Request("GET", url, b"", {}),
                {"status": {"code": status, "message": ""}, "headers": headers, "body": {"string": body}},
            )
    print(f"{path.relative_to(ROOT)}: {len(interactions)} responses, {path.stat().st_size // 1024} KiB")


def plain(source: Path, target: str) -> None:
    path = OUT / "recorded" / f"{target}.json.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(redact(source.read_text(encoding="utf-8")).encode(), mtime=0))
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")


def labels(shared: Path) -> None:
    """The labelled development set (../shared/labels/dev): notices gzipped, grades and provenance."""
    target = OUT / "labels"
    target.mkdir(parents=True, exist_ok=True)
    notices = shared / "dev" / "notices.jsonl"
    lines = [redact(line) for line in notices.read_text(encoding="utf-8").splitlines()]
    path = target / "dev_notices.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    print(f"{path.relative_to(ROOT)}: {len(lines)} notices, {path.stat().st_size // 1024} KiB")
    copied = ("grades.csv", "fixtures-grades.csv", "feedback.csv", "fixtures-feedback.csv", "PROVENANCE.md")
    for name in copied:
        (target / f"dev_{name}").write_text((shared / "dev" / name).read_text(encoding="utf-8"))
    # The shared README names the shared layout (dev/notices.jsonl, ...): after its title, a note
    # says what each file is called here.
    title, _, rest = (shared / "README.md").read_text(encoding="utf-8").partition("\n")
    (target / "README.md").write_text(f"{title}\n\n{LABELS_NOTE}{rest}")


LABELS_NOTE = """\
Copied from ../shared/labels by scripts/build_fixtures.py (its ../ paths are that folder's): here
dev/notices.jsonl is `dev_notices.jsonl.gz` (contact details redacted; gunzip it before `tenderwatch
import`), and every other dev/NAME is `dev_NAME` (`dev_grades.csv`, `dev_feedback.csv`, ...).
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--labels", type=Path, default=ROOT.parent / "shared" / "labels")
    arguments = parser.parse_args()
    shared = arguments.shared
    fts = shared / "find_a_tender" / "foretender_2026-08"
    for day in ("2026-08-10", "2026-08-11"):
        walk_cassette(f"find_a_tender_{day}", sorted((fts / "backfill" / day).glob("page-*.json")))
    rate_limited = fts / "probe" / "20-window-noZ-429.txt"
    answered = fts / "probe" / "22-window-noZ.json"
    url = json.loads(answered.read_text())["uri"]
    write_cassette("find_a_tender_rate_limited", [(url, *recorded(rate_limited)), (url, *recorded(answered))])
    cf = shared / "contracts_finder"
    walk_cassette("contracts_finder_2025-01-20", [next((cf / "cfserver1_extracted").glob("*.json"))])
    walk_cassette("contracts_finder_tenders_2026-09-19", [next((cf / "more").glob("silvafox*.json"))])
    for page in ("page-001", "page-050", "page-111"):
        plain(fts / "whole-stream" / f"{page}.json", f"find_a_tender_whole_stream_{page}")
    plain(fts / "conversions" / "uk3-069311.json", "find_a_tender_uk3_to_uk4_069311")
    for notice in ("032703-2026", "037689-2026"):
        plain(shared / "find_a_tender" / f"efeakp_{notice}_ocds.json", f"find_a_tender_notice_{notice}")
    plain(next((cf / "more").glob("apa999*.json")), "contracts_finder_limit1_2022-10-18")
    pcs = shared / "portals" / "public-contracts-scotland" / "pcs_notices_recorded.json"
    walk_cassette("public_contracts_scotland_2026-09_102", [pcs])
    labels(arguments.labels)


if __name__ == "__main__":
    main()
