"""Contracts awarded, read from an award or contract-details release: who, how much, from when to when.

One entry per award. The dates come from the most specific place the release gives them: the
contract's own period (`contracts[].period`, Find a Tender UK7), else the award's
(`awards[].contractPeriod`, UK6), else the lots it covers (`tender.lots[].contractPeriod`), else the
tender's (`tender.contractPeriod`, Contracts Finder). The latest date with every extension or renewal
is `maxExtentDate` where given. The value is the contract's, else the award's (net before gross).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.normalise.ocds import (
    Release,
    _amount,
    _currency,
    as_dict,
    as_dicts,
    as_list,
    as_text,
    parse_deadline,
    parse_time,
)

INACTIVE = {"cancelled", "unsuccessful", "pending"}


@dataclass(frozen=True)
class ContractTerms:
    award_id: str
    suppliers: tuple[str, ...]
    value_amount: float | None
    value_currency: str | None
    start_date: datetime | None
    end_date: datetime | None
    max_end_date: datetime | None
    signed_at: datetime | None


def contract_terms(release: Release) -> list[ContractTerms]:
    """The contracts an award or contract-details release states, one per active award."""
    tender = as_dict(release.get("tender"))
    contracts = as_dicts(release.get("contracts"))
    terms = []
    for award in as_dicts(release.get("awards")):
        if as_text(award.get("status")) in INACTIVE:
            continue
        award_id = as_text(award.get("id")) or ""
        contract = next((c for c in contracts if as_text(c.get("awardID")) == award_id), {})
        if not contract and len(contracts) == 1 and len(as_dicts(release.get("awards"))) == 1:
            contract = contracts[0]
        period = _period(contract, award, tender)
        value = (
            as_dict(contract.get("value"))
            if _amount(as_dict(contract.get("value")))
            else as_dict(award.get("value"))
        )
        amount = _amount(value)
        terms.append(
            ContractTerms(
                award_id=award_id[:200],
                suppliers=tuple(
                    name
                    for supplier in as_dicts(award.get("suppliers"))
                    if (name := as_text(supplier.get("name")))
                ),
                value_amount=amount,
                value_currency=_currency(value.get("currency")) if amount is not None else None,
                start_date=parse_time(period.get("startDate")),
                end_date=parse_deadline(period.get("endDate")),
                max_end_date=parse_deadline(period.get("maxExtentDate")),
                signed_at=parse_time(contract.get("dateSigned")),
            )
        )
    return terms


def _period(contract: dict[str, Any], award: dict[str, Any], tender: dict[str, Any]) -> dict[str, Any]:
    """The first of the places that states an end date (see the module's docstring)."""
    related = {as_text(lot) for lot in as_list(award.get("relatedLots"))}
    lots = [lot for lot in as_dicts(tender.get("lots")) if as_text(lot.get("id")) in related]
    candidates = [
        as_dict(contract.get("period")),
        as_dict(award.get("contractPeriod")),
        *(as_dict(lot.get("contractPeriod")) for lot in lots),
        as_dict(tender.get("contractPeriod")),
    ]
    return next((period for period in candidates if period.get("endDate")), {})
