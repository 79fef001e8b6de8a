from spiders.ocds_months import OcdsMonthSpider


class PublicContractsScotland(OcdsMonthSpider):
    """Public Contracts Scotland (PCS): every Scottish public body's regulated notices, including
    below-threshold ones (from £50,000) that never reach Find a Tender.

    API: https://api.publiccontractsscotland.gov.uk ("Help - OCDS Web API"); only this host is read,
    as the www site's robots.txt forbids crawling (notice pages there are only linked to).
    Caveats: a month at a time, no cursor; the API host is reported to send its certificate without
    the intermediate one, which a certificate bundle must then supply (SSL_CERT_FILE, see README).
    Config: [sources.public_contracts_scotland] url, delay, enabled;
    TENDERWATCH_PUBLIC_CONTRACTS_SCOTLAND_URL, _DELAY, _ENABLED.
    """

    name = "public_contracts_scotland"

    # OcdsMonthSpider
    # The help page's site notices: 102 "Website Contract Notice" (below threshold, on PCS alone),
    # 101 "Website Prior Information Notice" (early warning); and 2, the above-threshold contract notice
    # (forwarded to Find a Tender as well).
    notice_types = ("102", "101", "2")
    # No documented limit; 429/503 are waited out like the national services'.
    rate_limit_waits = {429: 120, 503: 60}
