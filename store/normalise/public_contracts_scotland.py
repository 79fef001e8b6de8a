"""Public Contracts Scotland: releases from its api host, read as store/normalise/proactis.py says."""

from store.normalise.proactis import source_format

# Only a link to show people: the www host's robots.txt forbids crawling it, and tenderwatch never does.
PUBLIC_SITE = "https://www.publiccontractsscotland.gov.uk"

FORMAT = source_format("public_contracts_scotland", PUBLIC_SITE)
