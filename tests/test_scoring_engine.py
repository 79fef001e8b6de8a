"""Each rule kind and each gate of the engine, on small inline notices and an inline profile."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from scoring import Score, load_profile, score_notice
from store.notice import Lot
from tests.scoring.helpers import notice, write

RULES = """
scoring:
  title_weight: 2
  description_weight: 1
  cpv_cap: 15
  bands: {strong: 50, possible: 25}
gates:
  kinds: [services]
  notice_types: [UK1, UK2, UK3, UK4, UK13]
  untyped_stages: [planning, tender]
  regions: [UKM, UKI]
  max_value: 5000000
  exclude_buyers: [defence equipment]
adjustments:
  value: {range: [10000, 1000000], in_range: 5, below: -5, above: -10}
  sme: {suitable: 2, not_suitable: -2}
  kind_mismatch: -6
  buyers:
    police and crime commissioner: 5
    council: 3
  keywords:
    consultancy: 4
    "supply and delivery": -20
service_lines:
  - name: Evaluation
    keywords:
      evaluation: 10
      "theory of change": 8
      VRU: 6
      pilot: -3
    cpv:
      '7941': 5
      '79419': 12
      '79415': 0
      '73': 6
    exclude:
      keywords: ['"clinical evaluation"']
      cpv: ['85']
  - name: Engagement
    keywords:
      community engagement: 20
      co-production: 10
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return load_profile(write(tmp_path_factory.mktemp("rules"), RULES))


def points(score: Score, rule: str) -> float:
    return sum(reason.points for reason in score.reasons if reason.rule == rule)


def test_a_keyword_counts_once_at_the_best_place_it_appears(rules):
    in_title = score_notice(notice("Evaluation of the programme"), rules)
    in_body = score_notice(
        notice("A programme", description="An evaluation. Evaluations. Evaluating."), rules
    )
    in_both = score_notice(notice("Evaluation", description="the evaluation"), rules)
    assert points(in_title, "keyword evaluation") == 20
    assert points(in_body, "keyword evaluation") == 10
    assert points(in_both, "keyword evaluation") == 20
    assert [r.detail for r in in_both.reasons if r.rule == "keyword evaluation"] == [
        "'evaluation' in the title"
    ]


def test_the_opening_lots_and_the_rest_of_the_description_have_their_own_weights(rules):
    weighted = replace(rules, scale=replace(rules.scale, opening_weight=1.5, description_weight=0.5))
    opening = "The council seeks a partner for an evaluation of the youth offer it runs in every ward."
    later = "The council has run its youth offer in every ward for many years now. It wants an evaluation."
    assert (
        points(score_notice(notice("Youth offer", description=opening), weighted), "keyword evaluation") == 15
    )
    assert points(score_notice(notice("Youth offer", description=later), weighted), "keyword evaluation") == 5
    lots = [Lot(id="1", title="Lot 1: theory of change", description="An evaluation")]
    score = score_notice(notice("Support", lots=lots), weighted)
    assert points(score, 'keyword "theory of change"') == 12  # a lot's title counts as the opening
    assert points(score, "keyword evaluation") == 5  # a lot's description as the rest
    assert "'theory of change' in a lot's title" in [reason.detail for reason in score.reasons]


def test_acronyms_and_negative_keywords(rules):
    score = score_notice(notice("VRU evaluation pilot"), rules)
    assert points(score, "keyword VRU") == 12
    assert points(score, "keyword pilot") == -6
    assert score_notice(notice("Evaluation", description="we will vru it"), rules).reasons[0].rule == (
        "keyword evaluation"
    )
    assert points(score_notice(notice("Evaluation", description="we will vru it"), rules), "keyword VRU") == 0


def test_an_exclusion_phrase_vetoes_its_line_and_says_so(rules):
    score = score_notice(notice("Clinical evaluation of a device"), rules)
    assert score.band == "none" and score.score == 0 and score.service_line is None
    assert [(r.points, r.rule) for r in score.reasons] == [(0, 'exclusion "clinical evaluation"')]
    assert "Evaluation ruled out: 'clinical evaluation' in the title" in score.reasons[0].detail


def test_an_exclusion_cpv_vetoes_only_its_line(rules):
    score = score_notice(notice("Evaluation and community engagement", cpv=["85312000"]), rules)
    assert score.service_line == "Engagement"
    assert any(r.rule == "exclusion CPV 85" for r in score.reasons)


def test_the_most_specific_cpv_rule_applies_and_zero_switches_a_parent_off(rules):
    assert points(score_notice(notice("Evaluation", cpv=["79419000"]), rules), "CPV 79419") == 12
    assert points(score_notice(notice("Evaluation", cpv=["79419000"]), rules), "CPV 7941") == 0
    assert points(score_notice(notice("Evaluation", cpv=["79411000"]), rules), "CPV 7941") == 5
    design = score_notice(notice("Evaluation", cpv=["79415200"]), rules)
    assert not [r for r in design.reasons if r.rule.startswith("CPV")]


def test_cpv_points_are_capped_and_never_make_a_strong_match_alone(rules):
    capped = score_notice(notice("Evaluation", cpv=["79419000", "73000000"]), rules)
    assert points(capped, "CPV 79419") + points(capped, "CPV 73") + points(capped, "CPV cap") == 15


def test_without_a_keyword_a_notice_stays_below_possible(tmp_path):
    generous = load_profile(
        write(
            tmp_path,
            """
            scoring: {cpv_cap: 45, bands: {strong: 46, possible: 20}}
            adjustments:
              value: {range: [10000, 1000000], in_range: 5}
            service_lines:
              - name: Evaluation
                keywords: {evaluation: 10}
                cpv: {'79419': 45}
            """,
        )
    )
    alone = score_notice(notice("Untitled", cpv=["79419000"], value_amount=50000.0), generous)
    assert (alone.score, alone.band) == (19, "none")
    assert [(r.points, r.rule) for r in alone.reasons if r.points < 0] == [(-31, "no keyword")]
    # Its one line says it is no near miss: no number of points short of a band.
    assert alone.summary.endswith("; no keyword: CPV codes alone are kept below possible")
    with_keyword = score_notice(notice("Evaluation", cpv=["79419000"], value_amount=50000.0), generous)
    assert (with_keyword.score, with_keyword.band) == (70, "strong")


@pytest.mark.parametrize(
    ("values", "detail"),
    [
        ({"notice_type": "UK7"}, "UK7 contract details notice"),
        ({"notice_type": None, "stage": "award"}, "award notice"),
        ({"category": "works", "cpv": ["45000000"]}, "works contract (CPV 45*)"),
        ({"category": "goods"}, "goods contract"),
        ({"regions": ["UKD", "UKC1"]}, "delivered in UKD, UKC1, outside UKM, UKI"),
        ({"value_amount": 6000000.0}, "value £6m above the £5m limit"),
        ({"value_amount": 90e6, "lots": [Lot(id="1", value_amount=7e6)]}, "value £7m (smallest lot) above"),
        ({"buyer_name": "Defence Equipment & Support"}, "buyer 'Defence Equipment & Support' is excluded"),
    ],
)
def test_each_gate_rules_a_notice_out_with_its_reason(rules, values, detail):
    score = score_notice(notice("Evaluation of community engagement", **values), rules)
    assert (score.score, score.band, score.service_line) == (0, "none", None)
    assert score.gated
    assert detail in score.summary
    assert all(reason.rule.startswith("gate") for reason in score.reasons)


@pytest.mark.parametrize(
    "values",
    [
        {"notice_type": "UK1", "stage": "planning"},  # pipeline notices are scored too
        {"notice_type": None, "stage": "tender"},
        {"category": None, "cpv": []},
        {"category": "goods", "cpv": ["79419000"]},  # kinds disagree: not gated, adjusted
        {"regions": ["UK"]},  # UK-wide includes the profile's regions
        {"regions": ["UKM82", "UKD"]},
        {"regions": []},
        {"value_amount": 90e6, "framework": True},  # frameworks are judged by scope
        {"value_amount": 90e6, "lots": [Lot(id="1", value_amount=200000)]},
    ],
)
def test_notices_that_pass_every_gate(rules, values):
    score = score_notice(notice("Evaluation of community engagement", **values), rules)
    assert not score.gated and score.service_line == "Engagement" and score.band != "none"


def test_codes_alone_gate_the_kind_only_when_the_title_names_none_of_the_work(rules):
    # Buyers' CPV codes are often wrong: a "Strategic Transformation Partner" has had a food code.
    goods_codes = {"category": None, "cpv": ["33100000", "39000000"]}
    described = score_notice(
        notice("Supplies", description="Evaluation of community engagement", **goods_codes), rules
    )
    assert described.gated and "goods: CPV 33*, 39*" in described.summary
    assert "goods: CPV 33*, 39*, and the title names none of the firm's work" in described.summary
    named = score_notice(notice("Evaluation of community engagement", **goods_codes), rules)
    assert not named.gated and named.band != "none"
    assert [(r.points, r.detail) for r in named.reasons if r.rule == "kind mismatch"] == [
        (-6, "the notice has only goods CPV codes (33*, 39*), but its title names the work")
    ]
    # The title may name what goods are about ("Leadership development books"): possible at most.
    title = "Community engagement and co-production"  # 40 + 20 in the title
    held = score_notice(notice(title, **goods_codes), rules)
    assert (held.score, held.band) == (49, "possible")
    assert [r.detail for r in held.reasons if r.rule == "kind uncertain"] == [
        "CPV codes of another kind: held below strong (49)"
    ]
    services = score_notice(notice(title, category=None, cpv=[]), rules)
    assert services.band == "strong" and not [r for r in services.reasons if r.rule == "kind uncertain"]
    # A stated category still gates with codes that agree, whatever the title says.
    assert score_notice(
        notice("Evaluation of community engagement", **{**goods_codes, "category": "goods"}), rules
    ).gated


def test_the_title_is_read_for_the_kind_gate_only_when_codes_alone_would_gate(rules):
    from scoring.engine import compiled
    from scoring.gates import gate_reasons

    def unasked() -> bool:
        raise AssertionError("the title was read")

    for values in ({"category": "services", "cpv": ["33100000"]}, {"category": None, "cpv": ["79419000"]}):
        gate_reasons(notice("Supplies", **values), rules, compiled(rules).buyers, unasked)


def test_a_kind_mismatch_costs_points(rules):
    score = score_notice(notice("Evaluation", category="goods", cpv=["79419000"]), rules)
    assert [(r.points, r.detail) for r in score.reasons if r.rule == "kind mismatch"] == [
        (-6, "the notice says goods but CPV 79* is services")
    ]
    works_codes = score_notice(notice("Evaluation", cpv=["45000000"]), rules)
    assert points(works_codes, "kind mismatch") == -6
    goods_first = score_notice(notice("Evaluation", cpv=["42122000", "79419000"]), rules)
    assert [(r.points, r.detail) for r in goods_first.reasons if r.rule == "kind mismatch"] == [
        (-6, "the notice has a goods main CPV code (42122000)")
    ]
    services_first = score_notice(notice("Evaluation", cpv=["79419000", "42122000"]), rules)
    assert points(services_first, "kind mismatch") == 0


@pytest.mark.parametrize("notice_type", ["unknown", "Contract Notice", "F02"])
def test_a_notice_type_that_is_no_uk_type_is_judged_by_its_stage(rules, notice_type):
    assert not score_notice(notice("Evaluation", notice_type=notice_type, stage=None), rules).gated
    assert score_notice(notice("Evaluation", notice_type=notice_type, stage="award"), rules).gated


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"value_amount": 50000.0}, (5, "value £50,000 within £10,000-£1m")),
        ({"value_amount": 5000.0}, (-5, "value £5,000 below £10,000-£1m")),
        ({"value_amount": 3e6}, (-10, "value £3m above £10,000-£1m")),
        (
            {"value_amount": 3e6, "lots": [Lot(id="1", value_amount=40000)]},
            (5, "value £40,000 (smallest lot)"),
        ),
        ({"value_amount": 1.2}, (0, "value £1.20 is a placeholder: read as not stated")),
        ({"value_amount": 0.0}, (0, "value £0 is a placeholder: read as not stated")),
        (
            {"value_amount": 1.0, "lots": [Lot(id="1", value_amount=0.0), Lot(id="2", value_amount=3e6)]},
            (-10, "value £3m (smallest lot) above"),
        ),
    ],
)
def test_the_value_band(rules, values, expected):
    score = score_notice(notice("Evaluation", **values), rules)
    [(found_points, detail)] = [(r.points, r.detail) for r in score.reasons if r.rule == "value band"]
    assert found_points == expected[0] and detail.startswith(expected[1])


@pytest.mark.parametrize("amount", [0.0, 1.0, 1.2, 99.0])
def test_a_placeholder_value_is_never_below_the_band_nor_over_the_limit(rules, amount):
    score = score_notice(notice("Evaluation", value_amount=amount), rules)
    assert not score.gated and points(score, "value band") == 0
    huge = score_notice(
        notice("Evaluation", value_amount=amount, lots=[Lot(id="1", value_amount=amount)]), rules
    )
    assert points(huge, "value band") == 0


def test_sme_and_buyer_adjustments_apply_to_matched_notices_only(rules):
    score = score_notice(
        notice(
            "Evaluation",
            suitable_for_sme=True,
            buyer_name="Police and Crime Commissioner for Sometown Council",
        ),
        rules,
    )
    assert points(score, "SME suitability") == 2
    assert points(score, "buyer police and crime commissioner") == 5  # the first pattern that matches
    assert points(score, "buyer council") == 0
    assert points(score_notice(notice("Evaluation", suitable_for_sme=False), rules), "SME suitability") == -2
    unmatched = score_notice(notice("Grass cutting", suitable_for_sme=True, buyer_name="A Council"), rules)
    assert unmatched == Score(0, "none", None, ())


def test_keyword_adjustments_count_once_as_written(rules):
    score = score_notice(
        notice("Evaluation consultancy", description="Supply and delivery of kits with consultancy."),
        rules,
    )
    assert points(score, "adjustment keyword consultancy") == 4  # in title and description: once
    assert points(score, 'adjustment keyword "supply and delivery"') == -20  # not x3
    assert score.score == 4  # 20 + 4 - 20
    assert score_notice(notice("Consultancy"), rules).service_line is None


def test_the_reasons_add_up_to_the_score_when_the_total_is_negative(rules):
    floored = score_notice(
        notice("Kits", description="Supply and delivery of kits for an evaluation."), rules
    )
    assert floored.score == 0 and floored.service_line == "Evaluation"  # 10 - 20 is floored at 0
    assert points(floored, "score floor") == 10
    assert sum(reason.points for reason in floored.reasons) == 0


def test_a_negative_keyword_counts_where_it_says_what_the_work_is(rules):
    """The title or the description's opening; not boilerplate later on, nor one lot's title."""
    boilerplate = (
        "The council seeks an independent evaluation of the violence reduction programme it leads. "
        "The programme began in 2022 with a supply and delivery of equipment to youth clubs."
    )
    later = score_notice(notice("Evaluation of the VRU programme", description=boilerplate), rules)
    assert points(later, 'adjustment keyword "supply and delivery"') == 0
    opening = score_notice(
        notice("Evaluation kits", description="Supply and delivery of evaluation kits to schools."), rules
    )
    assert next((r.points, r.detail) for r in opening.reasons if r.points < 0) == (
        -20,
        "'supply and delivery' in the description's opening",
    )
    in_title = score_notice(notice("Supply and delivery of an evaluation"), rules)
    assert points(in_title, 'adjustment keyword "supply and delivery"') == -20
    lots = [Lot(id="1", title="Evaluation"), Lot(id="2", title="Supply and delivery of kits")]
    framework = score_notice(notice("Youth programme framework", lots=lots), rules)
    assert points(framework, 'adjustment keyword "supply and delivery"') == 0


def test_an_exclusion_counts_only_where_it_says_what_the_work_is(rules):
    later = score_notice(
        notice(
            "Evaluation of a hospital discharge programme",
            description="An evaluation of how patients leave hospital and how they fare at home afterwards. "
            "It follows a clinical evaluation.",
        ),
        rules,
    )
    assert later.service_line == "Evaluation" and not [
        r for r in later.reasons if r.rule.startswith("exclusion")
    ]
    opening = score_notice(
        notice("Evaluation of a device", description="A clinical evaluation of a new device for wards."),
        rules,
    )
    assert opening.service_line is None
    assert "'clinical evaluation' in the description's opening" in opening.reasons[0].detail


def test_the_best_line_wins_and_the_score_is_clamped_to_100(rules):
    rules = replace(rules, scale=replace(rules.scale, title_weight=4))
    big = score_notice(
        notice(
            "Community engagement and co-production consultancy",
            description="community engagement, co-production and consultancy",
            value_amount=50000.0,
        ),
        rules,
    )
    assert big.service_line == "Engagement" and big.score == 100 and big.band == "strong"
    assert sum(reason.points for reason in big.reasons) == 100  # the cap is a reason too


def test_a_share_of_the_runner_up_line_counts_when_the_profile_says_so(rules):
    shared = replace(rules, scale=replace(rules.scale, second_line_share=0.5))
    assert shared.hash != rules.hash
    text = notice("Community engagement evaluation")
    assert points(score_notice(text, rules), "second line Evaluation") == 0
    score = score_notice(text, shared)
    assert points(score, "second line Evaluation") == 10
    assert "also Evaluation: 'evaluation' in the title" in [r.detail for r in score.reasons][1]


def test_evidence_two_lines_share_counts_once(tmp_path):
    profile = load_profile(
        write(
            tmp_path,
            """
            scoring: {second_line_share: 0.5}
            service_lines:
              - name: Safety
                keywords: {feasibility study: 6, violence reduction: 10}
                cpv: {'79411': 5}
              - name: Research
                keywords: {feasibility studies: 8, research: 4}
                cpv: {'79411': 5}
            """,
        )
    )
    shared_only = score_notice(notice("Violence reduction feasibility study", cpv=["79411000"]), profile)
    assert shared_only.service_line == "Safety"
    assert not [reason for reason in shared_only.reasons if reason.rule.startswith("second line")]
    own = score_notice(notice("Violence reduction feasibility study and research"), profile)
    assert points(own, "second line Research") == 4  # half of 'research' (x2 in the title) alone


def test_negative_keywords_together_take_at_most_the_negative_cap(tmp_path):
    text = """
        scoring: {negative_cap: 25}
        adjustments:
          keywords: {homecare: -15, care homes: -15, nursing care: -15}
        service_lines:
          - name: Finance
            keywords: {cost of care: 20}
        """
    capped, uncapped = (
        load_profile(write(tmp_path, text.replace("scoring: {negative_cap: 25}", cap), f"{name}.yaml"))
        for name, cap in (("capped", "scoring: {negative_cap: 25}"), ("uncapped", "scoring: {}"))
    )
    review = notice("Cost of care exercise: care homes, nursing care and homecare")
    held = score_notice(review, capped)
    [cap] = [reason for reason in held.reasons if reason.rule == "negative cap"]
    assert (cap.points, cap.detail) == (20, "negative keywords -45, held to -25")
    assert held.raw == 40 - 25 and sum(reason.points for reason in held.reasons) == held.score
    assert score_notice(review, uncapped).raw == 40 - 45
    one = score_notice(notice("Cost of care exercise: homecare"), capped)
    assert not [reason for reason in one.reasons if reason.rule == "negative cap"] and one.raw == 25
    # A near miss says what the words took together, not only each word's points.
    weak = score_notice(notice("Cost of care: care homes, nursing care and homecare"), capped)
    assert weak.band == "none"
    assert "(-15), 'nursing care' in the title (-15) (held to -25 together)" in weak.summary


def test_the_firms_words_before_a_negative_that_ends_the_title_name_its_subject_not_the_work(tmp_path):
    """English puts what is bought last: a "Community Engagement Support Service" is a support service.
    The firm's words before such a negative count as the opening's (x1), not the title's (x2)."""
    profile = load_profile(
        write(
            tmp_path,
            """
            adjustments:
              keywords: {support service: -20, "platform": -8, home care: -15}
            service_lines:
              - name: Engagement
                keywords: {community engagement: 20, commissioning review: 20}
            """,
        )
    )
    service = score_notice(notice("Community Engagement Support Service"), profile)
    # Another part names the work only if it names it on its own, and is no support service itself.
    for title in (
        "Stronger Communities - Community Engagement Support Service - Engagement Hub",
        "Community Engagement Support Service - Community Engagement Support Service",
    ):
        assert points(score_notice(notice(title), profile), "keyword community engagement") == 20, title
    assert points(service, "keyword community engagement") == 20
    assert "the subject of the 'support service' bought (counted once)" in service.summary
    assert service.raw == 20 - 20
    # The same with a reference, a last "Service(s)" after the negative, or brackets at the end.
    for title in (
        "AQNV 068 - Adults Community Engagement Support Services",
        "Community Engagement Platform Service",
        "Community Engagement Platform (SaaS)",
    ):
        assert points(score_notice(notice(title), profile), "keyword community engagement") == 20, title
    # Still the firm's work: the negative is the subject after a preposition, in another part of the
    # title, or not at the end.
    for title in (
        "Community engagement review of the support service",
        "Community Engagement - Support Service",
        "Commissioning review: home care",
        "Support Service Community Engagement",
        "Community engagement on the home care platform",
        "Community Engagement Strategy - Community Engagement Support Service",  # named as the work too
    ):
        best = max(
            points(score_notice(notice(title), profile), f"keyword {keyword}")
            for keyword in ("community engagement", "commissioning review")
        )
        assert best == 40, title


def test_without_a_negative_cap_negatives_add_up_and_positive_adjustments_never_count_as_taken(tmp_path):
    rules = """
        scoring: {CAP}
        adjustments:
          keywords: {homecare: -15, care homes: -15, advisory: 8}
        service_lines:
          - name: Finance
            keywords: {cost of care: 20}
        """
    review = notice("Cost of care advisory review: care homes and homecare")
    default = score_notice(review, load_profile(write(tmp_path, rules.replace("{CAP}", "{}"), "a.yaml")))
    assert default.raw == 40 + 8 - 30 and not [r for r in default.reasons if r.rule == "negative cap"]
    capped = load_profile(write(tmp_path, rules.replace("{CAP}", "{negative_cap: 20}"), "b.yaml"))
    [cap] = [reason for reason in score_notice(review, capped).reasons if reason.rule == "negative cap"]
    assert cap.detail == "negative keywords -30, held to -20"  # the +8 is not netted against them


def test_a_runner_up_line_of_codes_alone_adds_nothing(tmp_path):
    # A buyer's CPV codes are often wrong, and the best line has counted its own codes already.
    profile = load_profile(
        write(
            tmp_path,
            """
            scoring: {second_line_share: 0.5}
            service_lines:
              - name: Safety
                keywords: {violence reduction: 10}
              - name: Research
                keywords: {research: 4}
                cpv: {'73': 6}
            """,
        )
    )
    codes_only = score_notice(notice("Violence reduction partnership", cpv=["73110000"]), profile)
    assert codes_only.service_line == "Safety"
    assert not [reason for reason in codes_only.reasons if reason.rule.startswith("second line")]
    with_words = score_notice(notice("Violence reduction research", cpv=["73110000"]), profile)
    assert points(with_words, "second line Research") == 4  # half of 'research' x2; the code adds nothing


@pytest.mark.parametrize(
    ("title", "band"), [("Evaluation", "none"), ("Evaluation evaluation co-production", "possible")]
)
def test_bands_follow_the_thresholds(rules, title, band):
    score = score_notice(
        notice(title, description="community engagement" if band == "possible" else None), rules
    )
    assert score.band == band
    assert (score.band == "strong") == (score.score >= 50)


def test_the_summary_says_why_in_one_line(rules):
    score = score_notice(notice("VRU evaluation", cpv=["79419000"], value_amount=50000.0), rules)
    assert score.summary == "Evaluation: 'evaluation' in the title, 'VRU' in the title, CPV 79419000"
    assert score_notice(notice("Grass cutting"), rules).summary == "no service line matched"
    assert score_notice(notice("Evaluation", notice_type="UK6"), rules).summary == (
        "not a fit: UK6 contract award notice"
    )


def test_fit_is_not_timing(rules):
    """Deadlines, publication dates and status never change a score."""
    base = notice("Evaluation of community engagement", value_amount=50000.0)
    variants = [
        replace(base, deadline=datetime(2020, 1, 1, tzinfo=UTC)),
        replace(
            base, deadline=datetime(2099, 1, 1, tzinfo=UTC), published_at=datetime(2099, 1, 1, tzinfo=UTC)
        ),
        replace(base, status="cancelled", is_opportunity=False),
    ]
    assert {score_notice(variant, rules) for variant in variants} == {score_notice(base, rules)}


def test_a_run_on_description_opens_with_its_first_eighty_words_only(rules):
    words = " ".join(["word"] * 90)
    late = score_notice(notice("Evaluation", description=f"{words} supply and delivery of kits"), rules)
    assert points(late, 'adjustment keyword "supply and delivery"') == 0
    early = score_notice(notice("Evaluation", description=f"supply and delivery of kits {words}"), rules)
    assert points(early, 'adjustment keyword "supply and delivery"') == -20


def test_a_lines_own_negative_keyword_counts_only_where_it_says_what_the_work_is(rules):
    opening = "An evaluation of the youth violence programme the partnership runs across the region."
    later = score_notice(notice("Evaluation", description=f"{opening} It began as a pilot."), rules)
    assert points(later, "keyword pilot") == 0  # "pilot: -3" in the Evaluation line, in background
    in_title = score_notice(notice("Evaluation pilot"), rules)
    assert points(in_title, "keyword pilot") == -6
