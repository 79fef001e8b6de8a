"""Routes to market (frameworks, DPSs, dynamic markets, approved lists) from flags and from words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scoring import score_notice
from scoring.routes import route_of
from store.notice import Lot
from tests.scoring.helpers import example, notice
from tests.support.labels import notices


@pytest.mark.parametrize(
    ("values", "kind", "evidence"),
    [
        ({"framework": True}, "framework or DPS", "flagged in the notice's data"),
        ({"notice_type": "UK13"}, "dynamic market", "a UK13 notice"),
        (
            {"description": "This notice involves the setting up of a dynamic purchasing system."},
            "dynamic purchasing system",
            "'dynamic purchasing system' in the description",
        ),
        ({"title": "External Training DPS"}, "dynamic purchasing system", "'DPS' in the title"),
        (
            {"title": "Dynamic Purchasing System for Evaluation Services"},
            "dynamic purchasing system",
            "'Dynamic Purchasing System' in the title",
        ),
        (
            {"description": "A pseudo-DPS for tutors."},
            "dynamic purchasing system",
            "'DPS' in the description",
        ),
        (
            {"title": "Dynamic Market for Care Act assessments"},
            "dynamic market",
            "'Dynamic Market' in the title",
        ),
        (
            {"description": "The council will run a Flexible Procurement System for advice."},
            "flexible procurement system",
            "'Flexible Procurement System' in the description",
        ),
        (
            {"description": "Suppliers will join an approved supplier list for two years."},
            "approved list",
            "'approved supplier list' in the description",
        ),
        (
            {"description": "We intend to establish a multi-lot framework for research and evaluation."},
            "framework",
            "'establish a multi-lot framework' in the description",
        ),
        (
            {"description": "The Authority wishes to establish a new four-year framework of consultants."},
            "framework",
            "'establish a new four-year framework' in the description",
        ),
        (  # the first of the two names, as written
            {"description": "A DPS (Dynamic Purchasing System) for trainers."},
            "dynamic purchasing system",
            "'DPS' in the description",
        ),
        (  # lower-casing "İ" makes two characters: the words are still shown
            {"description": "İzmir office: a Framework Agreement for advice."},
            "framework",
            "'framework agreement' in the description",
        ),
        ({"title": "Management Consultancy Framework 3"}, "framework", "'Framework' in the title"),
        (
            {"title": "Lot 5: Research and Evaluation", "description": "Total framework value £250m."},
            "framework",
            "'framework value' in the description",
        ),
        (
            {"description": "The estimated value of the framework is £40m over four years."},
            "framework",
            "'value of the framework' in the description",
        ),
    ],
)
def test_a_route_is_recognised_from_its_flags_or_its_words(values, kind, evidence):
    found = route_of(notice(values.pop("title", "Advice"), **values))
    assert found is not None and (found.kind, found.evidence) == (kind, evidence)


@pytest.mark.parametrize(
    "values",
    [
        {"title": "Practice Framework Development for Adult Social Care"},  # a document, not a route
        {"title": "Evaluation of the Outcomes Framework"},
        {"description": "The work will be called off under the YPO framework."},  # a call-off
        {"description": "The contract will use the Send ambition. Tenders to DPS@redacted.invalid"},
        {"description": "dps means nothing in lower case"},
    ],
)
def test_words_that_only_mention_a_framework_are_no_route(values):
    assert route_of(notice(values.pop("title", "Advice"), **values)) is None


def test_a_route_is_judged_by_scope_not_value_and_explain_says_why():
    text = "This notice involves the setting up of a dynamic purchasing system for evaluation services."
    dps = score_notice(notice("Evaluation services", description=text, value_amount=450e6), example())
    contract = score_notice(notice("Evaluation services", value_amount=450e6), example())
    assert contract.gated and "above the £25m limit" in contract.summary
    assert not dps.gated and dps.band != "none"
    [route] = [reason for reason in dps.reasons if reason.rule == "route to market"]
    assert route.detail == (
        "dynamic purchasing system ('dynamic purchasing system' in the description): "
        "judged by scope, not value (up to £450m)"
    )
    assert route.points == example().adjustments.route
    assert not [reason for reason in dps.reasons if reason.rule == "value band"]


def test_a_route_earns_its_points_only_when_the_work_is_named_where_the_notice_says_what_it_buys():
    background = (
        "The Authority wishes to establish a four-year framework agreement for marine services "
        "along its coast. "
        "Suppliers may also be asked for evaluation of options and research."
    )
    unnamed = score_notice(notice("Marine services", description=background), example())
    [route] = [reason for reason in unnamed.reasons if reason.rule == "route to market"]
    assert route.points == 0
    assert route.detail.endswith("no points: the work is not named in the title, opening or a lot's title")
    lots = [Lot(id="1", title="Lot 1: Evaluation of programmes")]
    named = score_notice(notice("Marine services", description=background, lots=lots), example())
    [route] = [reason for reason in named.reasons if reason.rule == "route to market"]
    assert route.points == example().adjustments.route
    assert named.raw == unnamed.raw + route.points + 5  # the route's points, and 'evaluation' x1 not x0.5


def test_a_profile_that_penalises_routes_penalises_every_route_named_or_not():
    penalised = replace(example(), adjustments=replace(example().adjustments, route=-6))
    framework = notice(
        "Marine services",
        description="The Authority wishes to establish a four-year framework agreement for marine services "
        "along its coast. Suppliers may also be asked for evaluation of options and research.",
    )
    reasons = score_notice(framework, penalised).reasons
    [route] = [reason for reason in reasons if reason.rule == "route to market"]
    assert route.points == -6 and "no points" not in route.detail


def test_a_route_of_lots_is_judged_by_scope_too():
    lots = [Lot(id="1", title="Lot 1: Evaluation", value_amount=30e6)]
    framework = notice("Research framework", description="A framework agreement for research.", lots=lots)
    assert not score_notice(framework, example()).gated


def test_a_route_for_work_the_firm_does_not_do_stays_out():
    care = notice(
        "Home care DPS",
        description="A dynamic purchasing system for the provision of domiciliary care and support services.",
    )
    assert score_notice(care, example()).band == "none"


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("open_uk:OPEN20235", "dynamic purchasing system"),  # NEPO's External Training DPS, £16m
        ("open_uk:OPEN2024118", "framework or DPS"),  # Sunderland's public health training DPS
        ("find_a_tender:085094-2026", "framework"),  # a framework agreement of associate trainers
    ],
)
def test_real_training_routes_are_recognised_and_reach_a_band(key, kind):
    found = notices()[key]
    assert route_of(found).kind == kind
    assert score_notice(found, example()).band != "none"


@pytest.mark.parametrize(
    ("description", "evidence"),
    [
        # the phrase far into a long description, its hint ("framework") seen earlier alone
        (
            "A framework of outcomes. " + "Background words. " * 60 + "We will establish a new framework.",
            "'establish a new framework' in the description",
        ),
        # two kinds' hints: the first kind of `_PHRASES` with a phrase wins, wherever it stands
        (
            "An approved supplier list, then " + "padding " * 40 + "this dynamic purchasing system.",
            "'dynamic purchasing system' in the description",
        ),
        # the earliest of a kind's phrases, though another of its hints comes first
        (
            "Our selected providers said. "
            + "More words. " * 30
            + "A preferred supplier panel, an approved list.",
            "'preferred supplier panel' in the description",
        ),
    ],
)
def test_a_route_phrase_is_found_around_its_hint_words_as_in_the_whole_text(description, evidence):
    # Patterns are searched only near their hint words (scoring.routes._first_near), for speed.
    found = route_of(notice(description=description))
    assert found is not None and found.evidence == evidence


def test_a_route_phrase_of_long_words_is_found_though_it_starts_far_before_its_hint():
    # "establish a ... framework" allows four words of any length: a hyphenated name can put the
    # phrase's start more than `_REACH` characters before "framework", where a window by characters
    # alone began inside a word and found nothing.
    name = "cross-government-digital-data-technology-and-cyber-security"
    description = f"We will establish a {name} {name} {name} consultancy framework for the region."
    found = route_of(notice(description=description))
    assert found is not None and found.kind == "framework"
    assert found.evidence == f"'establish a {name} {name} {name} consultancy framework' in the description"


def test_a_route_phrase_cut_by_its_window_end_reads_as_in_the_whole_text():
    # The first "framework"'s window ends between the two later ones: the greedy phrase is the
    # longer one, as searching the whole text finds it.
    description = (
        "A framework of outcomes. "
        + "words " * 19
        + "We will establish a new framework for the framework providers."
    )
    found = route_of(notice(description=description))
    assert found is not None
    assert found.evidence == "'establish a new framework for the framework' in the description"
