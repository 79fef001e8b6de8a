from datetime import timedelta

from spiders.base import OcdsWindowSpider


class ContractsFinder(OcdsWindowSpider):
    """Contracts Finder (CF): England's legacy portal, now PCR 2015 procurements and voluntary notices.

    API: https://www.contractsfinder.service.gov.uk/apidocumentation/Notices/1/GET-Published-Notice-OCDS-Search
    Caveats: the window is read as UK local time; a full page can arrive without a next link (the
    base class splits the window); text can carry mojibake.
    Config: [sources.contracts_finder] url, delay; TENDERWATCH_CONTRACTS_FINDER_URL, _DELAY.
    """

    name = "contracts_finder"

    # OcdsWindowSpider
    api_path = "/Published/Notices/OCDS/Search"
    from_param, to_param = "publishedFrom", "publishedTo"
    # About 130 releases a day: one-day windows keep most to two pages.
    max_window = timedelta(days=1)
    # Docs: "403 ... no further requests should be made until after 5 minutes"; observers also saw 429.
    rate_limit_waits = {403: 300, 429: 120, 503: 30}
