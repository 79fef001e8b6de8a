"""Find a Tender: each release is one notice, and its id (nnnnnn-yyyy) is the notice id."""

from store.normalise.ocds import Release, SourceFormat, as_dict, as_text, buyer_parties, delivery_regions

PUBLIC_SITE = "https://www.find-tender.service.gov.uk"


def notice_id(release: Release) -> str:
    return str(release["id"])


def notice_url(notice_id: str) -> str:
    # Built from the id, never taken from the data: links in digests must point at the real service.
    return f"{PUBLIC_SITE}/Notice/{notice_id}"


def regions(release: Release) -> list[str]:
    """NUTS/ITL codes of the places of delivery (a country code when abroad), else of the buyer."""
    codes = [code.upper() for code in delivery_regions(release)]
    if not codes:
        addresses = (as_dict(party.get("address")) for party in buyer_parties(release))
        codes = [(as_text(address.get("region")) or "").upper() for address in addresses]
    return list(dict.fromkeys(code for code in codes if code))


FORMAT = SourceFormat(name="find_a_tender", notice_id=notice_id, notice_url=notice_url, regions=regions)
