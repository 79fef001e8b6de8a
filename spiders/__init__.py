"""Spiders collect; they never store. One small file per source on a base class per access pattern."""

from spiders.contracts_finder import ContractsFinder
from spiders.crown_commercial_service import CrownCommercialService
from spiders.digital_outcomes import DigitalOutcomes
from spiders.feeds import Feeds
from spiders.find_a_tender import FindATender
from spiders.public_contracts_scotland import PublicContractsScotland
from spiders.sell2wales import Sell2Wales

SPIDERS = {
    spider.name: spider
    for spider in (
        FindATender,
        ContractsFinder,
        PublicContractsScotland,
        Sell2Wales,
        CrownCommercialService,
        DigitalOutcomes,
        Feeds,
    )
}
