from datetime import timedelta

from spiders.base import OcdsWindowSpider


class FindATender(OcdsWindowSpider):
    """Find a Tender (FTS): Procurement Act 2023 notices, above and below threshold, and legacy PCR notices.

    API: https://www.find-tender.service.gov.uk/apidocumentation/1.0/GET-ocdsReleasePackages
    Caveats: the window is read as UK local time; `stages` silently returns legacy notices only, so
    it is never sent and the whole feed is kept; results come newest first.
    Config: [sources.find_a_tender] url, delay; TENDERWATCH_FIND_A_TENDER_URL, _DELAY.
    """

    name = "find_a_tender"

    # OcdsWindowSpider
    api_path = "/api/1.0/ocdsReleasePackages"
    from_param, to_param = "updatedFrom", "updatedTo"
    # "The endpoint misses some releases if the time frame is longer" (kingfisher-collect #1203).
    max_window = timedelta(hours=6)
    # "Rate limit of 12 exceeded. Please retry after 120 seconds." (429, Retry-After: 120); 503 says the same.
    rate_limit_waits = {429: 120, 503: 30}
