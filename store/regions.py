"""The UK's ITL (formerly NUTS) region codes, as Find a Tender and Contracts Finder write them."""

from __future__ import annotations

import re

# Levels 1 and 2; a level-3 code (UKG31) is named by its level-2 region.
ITL_NAMES = {
    "UK": "United Kingdom",
    "UKC": "North East England",
    "UKC1": "Tees Valley and Durham",
    "UKC2": "Northumberland and Tyne and Wear",
    "UKD": "North West England",
    "UKD1": "Cumbria",
    "UKD3": "Greater Manchester",
    "UKD4": "Lancashire",
    "UKD6": "Cheshire",
    "UKD7": "Merseyside",
    "UKE": "Yorkshire and the Humber",
    "UKE1": "East Yorkshire and Northern Lincolnshire",
    "UKE2": "North Yorkshire",
    "UKE3": "South Yorkshire",
    "UKE4": "West Yorkshire",
    "UKF": "East Midlands",
    "UKF1": "Derbyshire and Nottinghamshire",
    "UKF2": "Leicestershire, Rutland and Northamptonshire",
    "UKF3": "Lincolnshire",
    "UKG": "West Midlands",
    "UKG1": "Herefordshire, Worcestershire and Warwickshire",
    "UKG2": "Shropshire and Staffordshire",
    "UKG3": "West Midlands (Birmingham, Coventry, the Black Country)",
    "UKH": "East of England",
    "UKH1": "East Anglia",
    "UKH2": "Bedfordshire and Hertfordshire",
    "UKH3": "Essex",
    "UKI": "London",
    "UKI3": "Inner London (West)",
    "UKI4": "Inner London (East)",
    "UKI5": "Outer London (East and North East)",
    "UKI6": "Outer London (South)",
    "UKI7": "Outer London (West and North West)",
    "UKJ": "South East England",
    "UKJ1": "Berkshire, Buckinghamshire and Oxfordshire",
    "UKJ2": "Surrey, East and West Sussex",
    "UKJ3": "Hampshire and Isle of Wight",
    "UKJ4": "Kent",
    "UKK": "South West England",
    "UKK1": "Gloucestershire, Wiltshire and Bristol/Bath area",
    "UKK2": "Dorset and Somerset",
    "UKK3": "Cornwall and Isles of Scilly",
    "UKK4": "Devon",
    "UKL": "Wales",
    "UKL1": "West Wales and the Valleys",
    "UKL2": "East Wales",
    "UKM": "Scotland",
    "UKM5": "North Eastern Scotland",
    "UKM6": "Highlands and Islands",
    "UKM7": "Eastern Scotland",
    "UKM8": "West Central Scotland",
    "UKM9": "Southern Scotland",
    "UKN": "Northern Ireland",
    "UKN0": "Northern Ireland",
    "GB": "United Kingdom",
}


def known_region(code: str) -> bool:
    """Whether a code can name where a notice is: GB or another country's two letters (notices abroad
    carry one), or UK, a UK region (UKM) and the areas within it (UKM8, UKM82, old NUTS codes too)."""
    if not code.startswith("UK"):
        return bool(re.fullmatch(r"[A-Z]{2}", code))
    return code == "UK" or (bool(re.fullmatch(r"UK[A-Z]\d{0,2}", code)) and code[:3] in ITL_NAMES)
