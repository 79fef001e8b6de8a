from spiders.json_pages import JsonPagesSpider


class CrownCommercialService(JsonPagesSpider):
    """Crown Commercial Service (CCS) agreements: the frameworks to come ("(Pipeline)" statuses), so a
    consultancy sees management-consultancy, research and training frameworks before they open.

    API: https://www.crowncommercial.gov.uk/api/frameworks (the JSON behind its agreements pages,
    `{results: [...], meta: {last_page}}`); the HTML list pages turn crawlers away, the API does not.
    Unverified against the live service: no real recorded response exists.
    Caveats: which `status[]` filter selects the pipeline is not documented, so the whole list (a
    few hundred agreements) is read and the normaliser tells pipeline from live; poll it daily.
    Config: [sources.crown_commercial_service] url, delay, enabled, crawl_every_minutes;
    TENDERWATCH_CROWN_COMMERCIAL_SERVICE_URL, _DELAY, _ENABLED.
    """

    name = "crown_commercial_service"

    # JsonPagesSpider
    api_path = "/api/frameworks"
    extra_params = {"limit": "100"}  # the page size third parties use
    rate_limit_waits = {429: 300, 503: 300}
