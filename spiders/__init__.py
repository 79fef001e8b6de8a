"""Spiders collect; they never store. One small file per source on a base class per access pattern."""

from spiders.contracts_finder import ContractsFinder
from spiders.find_a_tender import FindATender

SPIDERS = {spider.name: spider for spider in (FindATender, ContractsFinder)}
