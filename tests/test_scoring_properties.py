"""Properties that hold for any notice: scoring never fails, scores stay in 0-100, bands follow scores."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import score_notice
from scoring.engine import band_for
from scoring.matching import Matcher, parse_term
from store.notice import CATEGORIES, STAGES, Lot, Notice
from tests.scoring.helpers import example, real_notices

VOCABULARY = [
    "evaluation", "review", "SEND", "send", "care", "home", "co-production", "supply", "delivery",
    "community", "engagement", "training", "software", "works", "children's", "services", "&", "PCC's",
]  # fmt: skip
words = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=12))
texts = st.lists(words, max_size=30).map(" ".join)
cpv_codes = st.from_regex(r"\A\d{8}\Z").filter(lambda code: code.isascii())
regions = st.sampled_from(["UK", "UKM", "UKI32", "UKD", "IE0", "FRK2"])
lots = st.builds(
    Lot,
    id=st.text(min_size=1, max_size=3),
    title=st.none() | texts,
    description=st.none() | texts,
    value_amount=st.none() | st.floats(min_value=0, max_value=1e12),
)
notices = st.builds(
    Notice,
    source=st.sampled_from(["find_a_tender", "contracts_finder"]),
    source_id=st.text(min_size=1, max_size=10),
    title=texts,
    description=st.none() | texts,
    buyer_name=st.none() | texts,
    notice_type=st.none() | st.sampled_from([f"UK{number}" for number in range(1, 18)]),
    stage=st.none() | st.sampled_from(STAGES),
    category=st.none() | st.sampled_from(CATEGORIES),
    cpv=st.lists(cpv_codes, max_size=5).map(tuple),
    regions=st.lists(regions, max_size=3).map(tuple),
    value_amount=st.none() | st.floats(min_value=0, max_value=1e12),
    suitable_for_sme=st.none() | st.booleans(),
    lots=st.lists(lots, max_size=3).map(tuple),
    framework=st.booleans(),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notices)
def test_scoring_never_fails_and_the_band_follows_the_score(item):
    profile = example()
    score = score_notice(item, profile)
    assert 0 <= score.score <= 100
    # The profile's thresholds, read here: score_notice itself bands with band_for.
    strong, possible = profile.scale.strong, profile.scale.possible
    expected = "strong" if score.score >= strong else "possible" if score.score >= possible else "none"
    assert score.band == expected
    assert isinstance(score.summary, str) and score.summary
    if score.service_line is None:
        assert score.score == 0
    # Every point is explained, in every case (0 and 100 too): the reasons add up to the score
    # (before rounding), the cap and the floor included; the raw total is the score unclamped.
    assert abs(sum(reason.points for reason in score.reasons) - score.score) <= 0.5
    assert score.raw is not None and abs(min(100, max(0, score.raw)) - score.score) <= 0.5


def test_a_score_at_a_threshold_is_in_that_band_and_one_point_less_is_not():
    profile = example()
    strong, possible = profile.scale.strong, profile.scale.possible
    assert [band_for(score, profile) for score in (strong, strong - 1, possible, possible - 1, 0, 100)] == [
        "strong",
        "possible",
        "possible",
        "none",
        "none",
        "strong",
    ]
    scores = [score_notice(item, profile) for item in real_notices()]
    assert {score.band for score in scores} == {"strong", "possible", "none"}  # every band reached
    for score in scores:
        assert (score.band == "strong") == (score.score >= strong)
        assert (score.band == "possible") == (possible <= score.score < strong)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(real_notices()), texts)
def test_real_notices_with_extra_text_still_score(item, extra):
    from dataclasses import replace

    changed = replace(item, title=f"{item.title} {extra}", description=f"{extra} {item.description or ''}")
    assert 0 <= score_notice(changed, example()).score <= 100


@given(texts, texts)
def test_a_term_is_found_wherever_its_words_stand_alone(before, after):
    matcher = Matcher([parse_term("service review"), parse_term('"market engagement"'), parse_term("VRU")])
    hits = matcher.find(f"{before} . services reviewed ; market engagement , VRU . {after}")
    assert set(hits) == {0, 1, 2}


@given(texts)
def test_acronyms_never_match_lowercase_text(text):
    assert Matcher([parse_term("SEND"), parse_term("PCC")]).find(text.lower()) == {}
