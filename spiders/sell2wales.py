from spiders.ocds_months import OcdsMonthSpider


class Sell2Wales(OcdsMonthSpider):
    """Sell2Wales: Welsh public bodies' notices, including below-threshold "site notices".

    API: https://api.sell2wales.gov.wales/v1/Notices, Proactis's "OCDS Web API" as on Public
    Contracts Scotland, in English (locale=2057). Unverified against the live service: no real
    recorded response exists, so it is built from that family's documented shape.
    Caveats: third parties saw every request answered with HTTP 500 ("Error converting data type
    nvarchar to float") for weeks in 2026, and its certificate expire: a failed crawl in `status` and
    the digest, never a crash; the next crawl reads the month again and catches up.
    Config: [sources.sell2wales] url, delay, enabled; TENDERWATCH_SELL2WALES_URL, _DELAY, _ENABLED.
    """

    name = "sell2wales"

    # OcdsMonthSpider
    # kingfisher-collect's united_kingdom_wales: 51 "Website Invitation to Tender", 52 "Website PIN";
    # and 2, the above-threshold contract notice, as on Public Contracts Scotland.
    notice_types = ("51", "52", "2")
    extra_params = {"locale": "2057"}  # English (1106 is Welsh)
    rate_limit_waits = {429: 120, 503: 60}
