import re

from bs4 import BeautifulSoup

from spiders.html_listing import ChangedPage, HtmlListingSpider, Record, text

PROJECT = re.compile(r"/opportunity-details/project/(\d+)")


class DigitalOutcomes(HtmlListingSpider):
    """Digital Outcomes (DOS7) on the Contract Award Service: open calls for digital change work,
    published openly though only framework suppliers can bid (public market intelligence).

    Listing: https://www.contractawardservice.crowncommercial.gov.uk/digital-outcomes/opportunities
    (GOV.UK design-system markup; about 35-40 open at a time). Unverified against the live service:
    built from the markup third-party scrapers read, as no page of the current listing was recorded.
    Caveats: the old host redirects, and redirects are not followed: a crawl that fails naming
    another host means TENDERWATCH_DIGITAL_OUTCOMES_URL should be that host. Poll it daily.
    Config: [sources.digital_outcomes] url, delay, enabled, crawl_every_minutes;
    TENDERWATCH_DIGITAL_OUTCOMES_URL, _DELAY, _ENABLED.
    """

    name = "digital_outcomes"

    # HtmlListingSpider
    listing_path = "/digital-outcomes/opportunities"
    extra_params = {"framework": "dos7", "status": "open"}
    rate_limit_waits = {429: 300, 503: 300}

    def rows(self, page: BeautifulSoup) -> list[Record]:
        listing = page.select_one("ul.govuk-supplier-list")
        if listing is None:
            if page.select_one("#totalRecordsNew") is not None and self.total(page) == 0:
                return []
            raise ChangedPage("the page has no list of opportunities (ul.govuk-supplier-list)")
        records = []
        for row in listing.find_all("li", recursive=False):
            link = row.find("a", href=PROJECT)
            if link is None:
                raise ChangedPage("an opportunity has no link to its project page")
            records.append(
                {
                    "id": PROJECT.search(link["href"]).group(1),
                    "title": text(link),
                    "lines": [text(line) for line in row.select("p.govuk-body")],
                }
            )
        return records

    def total(self, page: BeautifulSoup) -> int | None:
        shown = text(page.select_one("#totalRecordsNew strong")).replace(",", "")
        return int(shown) if shown.isdigit() else None
