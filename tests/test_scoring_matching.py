"""Term matching: word forms, exact phrases, case-sensitive acronyms, and how text is split."""

from __future__ import annotations

import pytest

from scoring.matching import ACRONYM, EXACT, STEM, Matcher, parse_term


def found(terms: list[str], text: str) -> dict[str, str]:
    """{term as written: words as found} for the terms found in text."""
    parsed = [parse_term(term) for term in terms]
    return {parsed[index].text: shown for index, shown in Matcher(parsed).find(text).items()}


def test_the_way_a_term_is_written_decides_its_kind():
    assert parse_term("service review").kind == STEM
    assert parse_term('"market engagement"').kind == EXACT
    assert parse_term("market engagement", quoted=True).kind == EXACT
    assert parse_term("SEND").kind == ACRONYM
    assert parse_term("Care Act").kind == STEM  # capitals but not all capitals: plain words
    for nothing in (" -- ", "&", '"&"'):  # "&" reads as "and" in text, but alone it would match every "and"
        with pytest.raises(ValueError, match="no letters or digits"):
            parse_term(nothing)
    assert parse_term("R&D").words == ("r", "and", "d")


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("evaluation", "Evaluation of the pilot"),
        ("evaluation", "independent evaluations"),
        ("evaluation", "the evaluation's scope"),
        ("evaluate", "evaluating outcomes"),
        ("evaluate", "evaluated by the team"),
        ("evaluate", "it evaluates impact"),
        ("study", "two studies"),
        ("plan", "planned and planning"),
        ("manage", "managed services"),
        ("process", "processes"),
    ],
)
def test_plain_words_match_their_own_forms(term, text):
    assert term in found([term], text)


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("consumer", "a hazard consumed through the diet"),
        ("consumer", "food consumption data"),
        ("consumer", "expected to consume and integrate telemetry"),
        ("evaluation", "to evaluate impact"),
        ("consultancy", "a public consultation"),
        ("clinics", "clinical governance"),
        ("employability", "employer engagement"),
        ("trainer", "training"),
    ],
)
def test_plain_words_do_not_match_other_words_that_share_a_beginning(term, text):
    assert found([term], text) == {}


def test_consumer_finds_consumers_not_consumed_in_real_notices():
    from tests.scoring.helpers import real

    coding = real("find_a_tender:075738-2026")  # "Coding NDNS Consumption data": consumed, consumption
    text = f"{coding.title} {coding.description}"
    assert "consumed" in text and "Consumption" in text
    assert found(["consumer"], text) == {"consumer": "consumers"}  # "the levels consumers may be..."
    before = text.split("consumers", maxsplit=1)[0]  # holds consumed and consumption
    assert found(["consumer"], before) == {}
    trust = real("find_a_tender:075869-2026")
    assert found(["consumer"], trust.title) == {"consumer": "consumer"}
    telemetry = real("find_a_tender:076134-2026")  # "expected to consume and integrate telemetry"
    assert found(["consumer"], f"{telemetry.title} {telemetry.description}") == {}


def test_plain_multiword_terms_need_their_words_together_and_in_order():
    assert found(["service review"], "a review of services reviewed... services reviewed") == {
        "service review": "services reviewed"
    }
    assert found(["service review"], "reviewing services") == {}
    assert found(["service review"], "service and review") == {}


def test_quoted_phrases_match_exactly_those_words():
    assert found(['"market engagement"'], "Preliminary Market Engagement notice") == {
        "market engagement": "market engagement"
    }
    assert found(['"market engagement"'], "engagement with the market") == {}
    assert found(['"market engagement"'], "marketing engagement") == {}
    assert found(['"servicing"'], "cleaning services") == {}
    assert found(["servicing"], "cleaning services") == {"servicing": "services"}  # the stem family


def test_acronyms_match_case_sensitively_as_whole_words():
    assert found(["SEND"], "SEND transport and SEND reform") == {"SEND": "SEND"}
    assert found(["SEND"], "please send us a quote") == {}
    assert found(["SEND"], "SENDCo training") == {}
    assert found(["PCC"], "the PCC's plan; two PCCs") == {"PCC": "PCC"}
    assert found(["VRU"], "the Violence Reduction Unit") == {}


def test_acronyms_are_ignored_in_text_written_all_in_capitals():
    assert found(["SEND"], "PLEASE SEND YOUR QUOTE") == {}
    assert found(["SEND", "quote"], "PLEASE SEND YOUR QUOTE") == {"quote": "quote"}


def test_multiword_acronyms_allow_spaces_or_hyphens():
    assert found(["SEND REFORM"], "the SEND-REFORM programme") == {"SEND REFORM": "SEND REFORM"}
    assert found(["SEND REFORM"], "SEND reform") == {}


def test_possessives_apostrophes_ampersands_and_hyphens():
    assert found(["children's services"], "Childrens Services") == {
        "children's services": "childrens services"
    }
    assert found(["children's services"], "children\u2019s services") == {
        "children's services": "children services"
    }
    assert found(["training and learning"], "Housing Training & Learning Framework") == {
        "training and learning": "training and learning"
    }
    assert found(["co-production"], "co-production and co production") == {"co-production": "co production"}
    assert found(["place based"], "place-based working") == {"place based": "place based"}


def test_non_ascii_text_is_safe():
    assert found(["café"], "Café culture \u2013 £5k \u2022 naïve") == {"café": "caf"}
    assert found(["evaluation"], "Évaluation 🙂 evaluation") == {"evaluation": "evaluation"}


def test_every_term_is_reported_once_with_its_first_form_found():
    terms = ["evaluation", "evaluations"]
    assert found(terms, "evaluations, then evaluation") == {
        "evaluation": "evaluations",
        "evaluations": "evaluations",  # the same word
    }


def test_overlapping_terms_are_all_found():
    assert found(
        ["review", "service review", "independent service review"], "an independent service review"
    ) == {
        "review": "review",
        "service review": "service review",
        "independent service review": "independent service review",
    }


def test_empty_texts_and_empty_matchers():
    assert Matcher([]).find("anything at all") == {}
    assert Matcher([parse_term("review")]).find(None) == {}
    assert Matcher([parse_term("review")]).find("") == {}
    assert Matcher([parse_term("review")]).find("!!! ---") == {}


def test_a_matcher_learns_new_words_without_changing_answers():
    matcher = Matcher([parse_term("evaluation")])
    first = [matcher.find(text) for text in ("evaluations", "nothing here", "evaluation's")]
    again = [matcher.find(text) for text in ("evaluations", "nothing here", "evaluation's")]
    assert first == again == [{0: "evaluations"}, {}, {0: "evaluation"}]


def test_a_full_word_cache_is_emptied_without_losing_the_words_of_the_text_at_hand(monkeypatch):
    from scoring import matching

    monkeypatch.setattr(matching, "_CACHE_LIMIT", 3)
    matcher = matching.Matcher([matching.parse_term("evaluation")])
    assert matcher.find("an evaluation") == {0: "evaluation"}
    for text in ("alpha beta gamma delta", "alpha beta evaluation newword epsilon", "zeta eta evaluation"):
        assert matcher.find(text) == ({0: "evaluation"} if "evaluation" in text else {})
    assert matching.stems_of(["one", "two", "three", "four", "evaluations"])[-1] == "evaluation"


def test_words_joined_by_and_share_the_words_after_them():
    terms = ["process evaluation", "impact evaluation", "community engagement", "stakeholder engagement"]
    terms += ['"home care"', '"residential care"', "SEND", "support"]
    assert found(terms, "A process and impact evaluation of the pilot") == {
        "process evaluation": "process evaluation",  # a reading: "process [and impact] evaluation"
        "impact evaluation": "impact evaluation",
    }
    assert found(terms, "support with community and stakeholder engagement") == {
        "support": "support",
        "community engagement": "community engagement",
        "stakeholder engagement": "stakeholder engagement",
    }
    assert found(terms, "home and residential care") == {
        "home care": "home care",
        "residential care": "residential care",
    }
    # Only parallel modifiers of one word (some term has each with it), not a verb or a preposition.
    assert found(terms, "care at home and in care settings") == {}
    assert found(terms, "the community and partners. Engagement events follow") == {}
    assert found(terms, "community and") == {}
    assert found(terms, "our process and then an impact assessment of evaluation") == {}
    # Never an acronym: a reading has no case ("send and extra support" holds no SEND).
    listed = ["SEND", "send support", "extra support"]
    assert found(listed, "send and extra support") == {
        "send support": "send support",
        "extra support": "extra support",
    }
    assert found(terms, "pupils with SEND and other needs") == {"SEND": "SEND"}


def test_a_reading_counts_in_its_own_part_and_a_better_part_wins():
    process = Matcher([parse_term("process evaluation"), parse_term("impact evaluation")])
    # Written out in the description, read from "process and impact evaluation" in the title:
    # the title is the better place, so it is where the term counts.
    parts = ["Process and impact evaluation", "A process evaluation is needed first."]
    assert process.find_in_parts(parts)[0] == (0, "process evaluation")
    assert process.find_in_parts(["Evaluation", *parts])[0] == (1, "process evaluation")
    # Across two parts nothing is read: "process and" ends the title.
    assert 0 not in process.find_in_parts(["Process and", "impact evaluation"])
    assert 0 not in process.find_in_parts(["Process and impact", "evaluation"])
    # Lists are read in the first `read_lists_in` parts only (the engine: where the work is named).
    later = ["Evaluation", "An evaluation.", "Lots", "Its process and impact evaluation."]
    assert 0 not in process.find_in_parts(later, read_lists_in=3)
    assert process.find_in_parts(later, read_lists_in=4)[0] == (3, "process evaluation")
    assert process.find_in_parts(later)[0] == (3, "process evaluation")  # every part by default
    assert 0 not in process.find_in_parts(["Process and impact evaluation"], read_lists_in=0)
