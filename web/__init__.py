"""`tenderwatch web`: the bid team's web page on the store (web.app builds it; web.security guards it)."""
