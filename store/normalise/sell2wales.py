"""Sell2Wales: the same API family as Public Contracts Scotland (store/normalise/proactis.py).

Unverified against the live service: no real recorded Sell2Wales response exists. Its notice page is
assumed to follow the Public Contracts Scotland pattern, as the sites share their software.
"""

from store.normalise.proactis import source_format

PUBLIC_SITE = "https://www.sell2wales.gov.wales"

FORMAT = source_format("sell2wales", PUBLIC_SITE)
