"""Contracts Finder: a notice (its GUID) can have several releases, `{guid}-{n}`."""

import re

from store.normalise.ocds import Release, SourceFormat, as_dict, as_dicts, delivery_regions

PUBLIC_SITE = "https://www.contractsfinder.service.gov.uk"
ENGLAND = ("UKC", "UKD", "UKE", "UKF", "UKG", "UKH", "UKI", "UKJ", "UKK")
# Contracts Finder writes region names; these are their ITL1 codes.
REGION_CODES: dict[str, tuple[str, ...]] = {
    "north east": ("UKC",),
    "north west": ("UKD",),
    "yorkshire and the humber": ("UKE",),
    "east midlands": ("UKF",),
    "west midlands": ("UKG",),
    "east of england": ("UKH",),
    "london": ("UKI",),
    "south east": ("UKJ",),
    "south west": ("UKK",),
    "wales": ("UKL",),
    "scotland": ("UKM",),
    "northern ireland": ("UKN",),
    "england": ENGLAND,
    "any region": ("UK",),
    "united kingdom": ("UK",),
}
RELEASE_SUFFIX = re.compile(r"-\d+$")


def notice_id(release: Release) -> str:
    return RELEASE_SUFFIX.sub("", str(release["id"]))


def notice_url(notice_id: str) -> str:
    return f"{PUBLIC_SITE}/Notice/{notice_id}"


def regions(release: Release) -> list[str]:
    codes = [code for name in delivery_regions(release) for code in REGION_CODES.get(name.lower(), ())]
    if not codes and _delivers_in_uk(release):
        codes = ["UK"]
    return list(dict.fromkeys(codes))


def _delivers_in_uk(release: Release) -> bool:
    return any(
        address.get("countryName") == "United Kingdom"
        for item in as_dicts(as_dict(release.get("tender")).get("items"))
        for address in as_dicts(item.get("deliveryAddresses"))
    )


FORMAT = SourceFormat(name="contracts_finder", notice_id=notice_id, notice_url=notice_url, regions=regions)
