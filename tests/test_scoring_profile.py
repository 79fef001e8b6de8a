"""Loading rules files: the example profile, what each setting becomes, errors naming file, line, field."""

from __future__ import annotations

import pytest

from scoring import ProfileError, load_profile
from scoring.matching import ACRONYM, EXACT, STEM
from tests.scoring.helpers import EXAMPLE, write

MINIMAL = """
service_lines:
  - name: Evaluation
    keywords:
      evaluation: 10
"""


def test_the_example_profile_loads_with_the_firms_nine_service_lines():
    profile = load_profile(EXAMPLE)
    assert profile.name == "example"
    assert len(profile.service_lines) == 9
    assert profile.min_response_days == 7
    assert profile.gates.kinds == ("services",)
    assert profile.scale.cpv_cap < profile.scale.strong
    assert len(profile.hash) == 64


def test_a_minimal_file_gets_the_defaults(tmp_path):
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.name == "rules"  # the file name when the file does not say
    assert profile.scale.strong == 50 and profile.scale.possible == 25
    assert profile.gates.notice_types[0] == "UK1" and len(profile.gates.notice_types) == 17
    assert profile.min_response_days == 7
    keyword = profile.service_lines[0].keywords[0]
    assert (keyword.term.kind, keyword.term.words, keyword.points) == (STEM, ("evaluation",), 10)


def test_regions_are_read_at_every_level_and_abroad(tmp_path):
    text = "gates:\n  regions: [uk, UKM, UKM8, UKI31, UKI1, GB, ie]\n" + MINIMAL
    regions = load_profile(write(tmp_path, text)).gates.regions
    assert regions == ("UK", "UKM", "UKM8", "UKI31", "UKI1", "GB", "IE")


def test_keyword_styles_and_cpv_codes_are_read_as_written(tmp_path):
    profile = load_profile(
        write(
            tmp_path,
            """
            service_lines:
              - name: Safety
                keywords:
                  "market engagement": -5
                  'home care': -5
                  VRU: 8
                  community safety: 5
                cpv:
                  '79419000': 15
                  '794*': 5
                  80: 4
                  '03': 1
                  03221000: 2
                  09310000: 3
                exclude:
                  keywords: [supported living, '"day care"']
                  cpv: [45, 0322]
            """,
        )
    )
    line = profile.service_lines[0]
    assert [keyword.term.kind for keyword in line.keywords] == [EXACT, EXACT, ACRONYM, STEM]
    assert [(rule.prefix, rule.points) for rule in line.cpv] == [
        ("79419", 15),
        ("794", 5),
        ("80", 4),
        ("03", 1),
        ("03221", 2),  # unquoted, YAML would read it as the octal number 860672
        ("0931", 3),
    ]
    assert [term.kind for term in line.exclude_terms] == [STEM, EXACT]
    assert line.exclude_cpv == ("45", "0322")


def test_the_hash_changes_with_the_rules_only(tmp_path):
    base = load_profile(write(tmp_path, MINIMAL))
    renamed = load_profile(write(tmp_path, "name: other\n# a comment\n" + MINIMAL, "b.yaml"))
    reweighted = load_profile(write(tmp_path, MINIMAL.replace("10", "12"), "c.yaml"))
    timing = load_profile(write(tmp_path, "min_response_days: 3\n" + MINIMAL, "d.yaml"))
    assert base.hash == renamed.hash == timing.hash
    assert reweighted.hash != base.hash


def error(tmp_path, text: str) -> ProfileError:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    return caught.value


BAD_FILES = [
    (  # an unknown key, with a suggestion
        """
        service_lines:
          - name: Evaluation
            keyword:
              evaluation: 10
        """,
        3,
        "service_lines[1].keyword",
        "unknown key 'keyword'; did you mean 'keywords'?",
    ),
    (  # a weight that is not a number
        """
        service_lines:
          - name: Evaluation
            keywords:
              evaluation: 10
          - name: Training
            keywords:
              training programme: high
        """,
        7,
        "service_lines[2].keywords.training programme",
        "must be a number from -100 to 100, not 'high'",
    ),
    (  # a weight out of range
        """
        service_lines:
          - name: Evaluation
            keywords:
              evaluation: 250
        """,
        4,
        "service_lines[1].keywords.evaluation",
        "must be from -100 to 100, not 250",
    ),
    (  # one digit is no CPV division
        """
        service_lines:
          - name: Goods
            cpv:
              7: 5
        """,
        4,
        "service_lines[1].cpv.7",
        "'7' is not a CPV code or prefix; write 2 to 8 digits in quotes",
    ),
    (  # two keywords of the same stem family
        """
        service_lines:
          - name: Safety
            keywords:
              perpetrator programme: 12
              perpetrator programmes: 12
        """,
        5,
        "service_lines[1].keywords.perpetrator programmes",
        "matches the same words as 'perpetrator programme'",
    ),
    (  # thresholds the wrong way round
        """
        scoring:
          bands:
            strong: 40
            possible: 45
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
        """,
        4,
        "scoring.bands.possible",
        "possible (45) must be below strong (40)",
    ),
    (  # CPV codes alone must never make a strong match
        """
        scoring:
          cpv_cap: 60
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
        """,
        2,
        "scoring.cpv_cap",
        "must be below bands.strong (50) so CPV codes alone never make a strong match",
    ),
    (
        """
        scoring:
          negative_cap: 0
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
        """,
        2,
        "scoring.negative_cap",
        "must be from 1 to 100, not 0; e.g. 25",
    ),
    (
        """
        gates:
          notice_types: [UK4, UK99]
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
        """,
        2,
        "gates.notice_types[2]",
        "'UK99' is not one of UK1, UK2",
    ),
    (
        """
        adjustments:
          value:
            range: [1500000, 10000]
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
        """,
        3,
        "adjustments.value.range",
        "the lower amount (1.5e+06) must come first",
    ),
    (
        """
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
          - name: Evaluation
            keywords: {research: 10}
        """,
        4,
        "service_lines[2]",
        "two service lines are called 'Evaluation'",
    ),
    (
        """
        service_lines:
          - name: Evaluation
        """,
        2,
        "service_lines[1]",
        "needs keywords (or cpv codes) to match anything",
    ),
    (
        """
        gates:
          kinds: services
          regions: [north]
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
        """,
        3,
        "gates.regions[1]",
        "'NORTH' is not a UK region code",
    ),
    (
        """
        gates:
          regions: [UKM, UKX99]
        service_lines:
          - name: Evaluation
            keywords: {evaluation: 10}
        """,
        2,
        "gates.regions[2]",
        "'UKX99' is not a UK region code (ITL/NUTS) or a country's two letters; write e.g. UK, UKM",
    ),
    (
        """
        name: example
        """,
        1,
        "(top level)",
        "'service_lines' is required",
    ),
    (
        """
        service_lines:
          - name: Evaluation
            keywords:
              evaluation: 10
              review: [5]
        """,
        5,
        "service_lines[1].keywords.review",
        "must be a single value, not a list",
    ),
    (  # one line's keywords reused in another by a YAML merge key: PyYAML's three lines, once
        """
        service_lines:
          - name: Evaluation
            keywords: &shared
              evaluation: 10
          - name: Review
            keywords:
              <<: *shared
              review: 5
        """,
        7,
        "service_lines[2].keywords",
        "'<<' (a YAML merge key) is not read in rules files; write the keys out in full",
    ),
    (  # a tag, as a YAML dump of Python objects writes
        """
        service_lines:
          - name: Evaluation
            keywords:
              evaluation: !!python/object:builtins.int 10
        """,
        4,
        "service_lines[1].keywords.evaluation",
        "cannot read this value: the tag '!!python/object:builtins.int' is not read in rules files; "
        "write the value alone",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD_FILES)
def test_a_bad_rules_file_is_reported_with_file_line_and_field(tmp_path, text, line, field, message):
    found = error(tmp_path, text)
    path = tmp_path / "rules.yaml"
    assert (found.file, found.line, found.field) == (str(path), line, field)
    assert str(found).startswith(f"{path}:{line}: {field}: ")
    assert message in str(found)
    assert "\n" not in str(found)  # one line
    assert found.exit_code == 2


def test_yaml_syntax_errors_name_the_line(tmp_path):
    found = error(tmp_path, "service_lines:\n  - name: Evaluation\n    keywords:\n\tevaluation: 10\n")
    assert found.line == 4 and "not valid YAML" in str(found) and "indentation and quotes" in str(found)


# Fifty-three good lines, so each mistake below is on line 54 or 55 of the file.
LONG_START = "service_lines:\n  - name: Evaluation\n    keywords:\n" + "".join(
    f"      term{number}: 1\n" for number in range(50)
)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # PyYAML gives up on a later line (or at the end of the file); the mistake is where it began.
        (
            LONG_START + "    exclude:\n      keywords: [day care, respite\n    cpv:\n      '79': 1\n",
            55,
            "(expected ',' or ']', but got ':' on line 56): the bracket opened on this line is not closed; "
            "add its ']'",
        ),
        (
            "service_lines:\n  - name: Evaluation\n    keywords: {evaluation: 10\n",
            3,
            "the bracket opened on this line is not closed; add its '}'",
        ),
        (
            LONG_START + "      evaluation 10\n      review: 5\n",
            54,
            "(could not find expected ':' on line 55): this line needs a ':' after its key",
        ),
        # A key without the space after its ':' is text to YAML: the line, and the fix, are named.
        (
            LONG_START + "      evaluation:10\n      review: 5\n",
            54,
            "put a space after the ':' of this line's key, as in key: value",
        ),
        (
            "keywords:\n  # signs of advisory work\n  consultancy:8   # note: a colon\n  advisory: 8\n",
            3,
            "(expected <block end>, but found '<block mapping start>'): put a space after the ':'",
        ),
        # A list item with a colon in it is no key: a mistake on the next line is named there.
        (
            "service_lines:\n  - name: E\n    keywords:\n      - ISO 9001:2015\n     evaluation: 10\n",
            5,
            "check the indentation and quotes on this line",
        ),
        (
            LONG_START + "    cpv:\n      79419000 15\n      '794': 5\n",
            55,
            "(mapping values are not allowed here on line 56): the text on this line runs on to line 56; "
            "give this line its ':' if it is a key, or put the text in quotes",
        ),
        (
            LONG_START + '      "market engagement: -5\n      review: 5\n',
            54,
            "(found unexpected end of stream on line 56): the quote opened on this line is not closed; "
            'add its closing "',
        ),
        (
            LONG_START + "      'home care: -5\n      review: 5\n",
            54,
            "the quote opened on this line is not closed; add its closing '",
        ),
    ],
)
def test_yaml_syntax_errors_name_the_line_the_mistake_is_on(tmp_path, text, line, message):
    found = error(tmp_path, text)
    assert (found.line, found.field) == (line, "")
    assert str(found).startswith(f"{tmp_path / 'rules.yaml'}:{line}: not valid YAML (")
    assert message in str(found)
    assert found.exit_code == 2


def test_a_control_character_is_reported_at_its_line_not_as_a_traceback(tmp_path):
    found = error(tmp_path, "service_lines:\n  - name: Evaluation\x07\n    keywords:\n      evaluation: 10\n")
    assert (
        str(found)
        == f"{tmp_path / 'rules.yaml'}:2: not valid YAML: character #x0007 is not allowed; delete it"
    )


def test_a_file_saved_in_latin_1_names_its_line_and_says_to_save_it_as_utf_8(tmp_path):
    # Notepad's "ANSI" or Excel's "Text": a '£' in a comment is one byte that is not UTF-8.
    path = tmp_path / "rules.yaml"
    text = "service_lines:\n  # above \u00a325m is not for us\n  - name: Reviews\n"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value) == (
        f"{path}:2: not UTF-8 text (a character such as \u00a3 or \u00e9 on this line is in another "
        "encoding); save the rules file as UTF-8 and run again"
    )


def test_lists_nested_hundreds_deep_are_reported_not_a_recursion_traceback(tmp_path):
    found = error(tmp_path, "service_lines: " + "[" * 1000 + "]" * 1000 + "\n")
    assert str(found) == (
        f"{tmp_path / 'rules.yaml'}: not valid YAML: lists or mappings nested too deeply; "
        "no rules file nests so deep"
    )


def test_empty_and_missing_files(tmp_path):
    assert "the file is empty" in str(error(tmp_path, "\n"))
    with pytest.raises(ProfileError, match="no such rules file"):
        load_profile(tmp_path / "missing.yaml")
    with pytest.raises(ProfileError, match=r"\(top level\): must be a mapping"):
        load_profile(write(tmp_path, "- just\n- a list\n", "list.yaml"))


def test_each_section_and_service_line_is_checked_on_its_own_and_every_mistake_is_kept(tmp_path):
    found = error(
        tmp_path,
        "gates:\n  kinds: [services, boats]\n"
        "service_lines:\n  - name: E\n    keywords:\n      evaluation: lots\n"
        "  - name: E\n    keywords:\n      review: 10\n"
        "  - name: F\n    colour: red\n",
    )
    assert [(mistake.line, mistake.field) for mistake in found.mistakes] == [
        (2, "gates.kinds[2]"),
        (6, "service_lines[1].keywords.evaluation"),
        (11, "service_lines[3].colour"),
    ]
    assert found is found.mistakes[0]  # the error raised is the first, as a single error was before


def test_two_service_lines_of_one_name_are_reported_beside_the_second_with_other_mistakes(tmp_path):
    found = error(
        tmp_path,
        "service_lines:\n  - name: E\n    keywords: {evaluation: 10}\n"
        "  - name: E\n    keywords: {review: 10}\n  - name: F\n    keywords: {audit: x}\n",
    )
    assert [(mistake.line, mistake.field) for mistake in found.mistakes] == [
        (4, "service_lines[2]"),
        (7, "service_lines[3].keywords.audit"),
    ]


def test_a_yaml_syntax_error_is_the_only_mistake_reported(tmp_path):
    found = error(tmp_path, "service_lines:\n  - name: E\n    keywords: {evaluation: 10\n  - name: [F\n")
    assert found.mistakes == [found] and "not valid YAML" in str(found)
