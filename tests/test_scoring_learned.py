"""Learned words (scoring/learned.py): the model learns which words judged notices share, its file
reads back, the rules name it, and a near miss that reads like the relevant notices is lifted to
possible, never a notice without the rules' own evidence."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from scoring import ProfileError, load_profile, score_notice
from scoring.learned import (
    BIAS,
    Example,
    checked_on_halves,
    enough_to_learn,
    likeness,
    read_words,
    train,
    write_words,
)
from tenderwatch.errors import InputError
from tests.scoring.helpers import EXAMPLE, notice, write

RULES = """
scoring:
  bands: {strong: 40, possible: 22}
learned:
  words: words.tsv
  promote_from: 14
  promote_at: 0.8
service_lines:
  - name: Reviews
    keywords:
      review: 8
      inspection: 3
    cpv:
      '79410000': 10
"""
# A model that likes "review", "nursery" and "schools", and dislikes "cleaning".
WORDS = "bias\t\t-2\ntitle\treview\t2\ntitle\tnursery\t2.5\ndescription\tschools\t3\ntitle\tcleanin\t-6\n"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    (tmp_path / "words.tsv").write_text(WORDS)
    return write(tmp_path, RULES)


def judged(title: str, relevant: bool, number: int) -> Example:
    return Example(notice(title, source_id=f"{number:06d}-2026"), relevant, 3.0 if relevant else 1.0)


def test_training_learns_the_words_relevant_notices_share_and_is_repeatable():
    examples = [judged(f"Review of nursery schools {n}", True, n) for n in range(20)]
    examples += [judged(f"Cleaning of schools {n}", False, 100 + n) for n in range(40)]
    weights = train(examples)
    assert weights["t:review"] > 1 and weights["t:nursery"] > 1
    assert weights["t:cleanin"] < -1  # words are cut to their first 7 letters
    assert abs(weights["t:schools"]) < weights["t:review"]  # in both kinds: says little
    assert train(examples) == weights
    liked = likeness(weights, notice("Review of nursery provision"))
    assert liked.value > 0.8 and liked.words[0][0] in ("review", "nursery")
    assert likeness(weights, notice("Cleaning contract")).value < 0.2


def test_the_words_file_reads_back_what_was_written(tmp_path):
    weights = {BIAS: -1.5, "t:review": 2.25, "d:schools": -0.5, "t:tiny": 0.001}
    path = tmp_path / "words.tsv"
    write_words(path, weights, "two lines\nof heading")
    text = path.read_text()
    assert text.startswith("# two lines\n# of heading\n")
    read, digest = read_words(path)
    assert read == {BIAS: -1.5, "t:review": 2.25, "d:schools": -0.5}  # too small to matter: left out
    write_words(path, {**weights, "t:review": 2.5}, "two lines\nof heading")
    assert read_words(path)[1] != digest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bias\t\t-1\ntitle review 2\n", "words.tsv:2: 'title review 2' is not a weight; each line is place"),
        ("bias\t\t-1\ntitle\treview\tmany\n", "words.tsv:2: weight 'many' is not a number"),
        ("bias\t\t-1\nlot\treview\t1\n", "words.tsv:2: 'lot\treview\t1' is not a weight"),
        ("title\treview\t1\n", "words.tsv: no bias line; write the file with `tenderwatch rules learn`"),
    ],
)
def test_a_broken_words_file_is_named_with_its_line(tmp_path, text, expected):
    path = tmp_path / "words.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=None) as caught:
        read_words(path)
    assert expected in str(caught.value)


def test_a_words_file_saved_in_latin_1_is_named_with_its_line_not_a_traceback(rules):
    # A bid lead opens the words file in a spreadsheet and saves it as "Text (Windows)".
    (rules.parent / "words.tsv").write_bytes((WORDS + "title\tcaf\u00e9\t1\n").encode("latin-1"))
    with pytest.raises(ProfileError) as caught:
        load_profile(rules)
    words = rules.parent / "words.tsv"
    expected = f"learned.words: {words}:6: not UTF-8 text; save the learned words file as UTF-8"
    assert expected in str(caught.value)


def test_the_rules_find_the_words_beside_them_and_their_hash_follows_the_file(rules):
    profile = load_profile(rules)
    assert profile.learned is not None and profile.learned.words == rules.parent / "words.tsv"
    assert (profile.learned.promote_from, profile.learned.promote_at) == (14, 0.8)
    (rules.parent / "words.tsv").write_text(WORDS.replace("2.5", "3"))
    assert load_profile(rules).hash != profile.hash  # a new model rescores every stored notice


def test_a_copy_of_the_example_elsewhere_keeps_the_example_words(tmp_path):
    copy = tmp_path / "candidate.yaml"
    copy.write_text(EXAMPLE.read_text())
    learned = load_profile(copy).learned
    assert learned is not None and learned.words == EXAMPLE.parent / "example.words.tsv"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("learned:\n  words: missing.tsv\n", "rules.yaml:2: learned.words: "),
        ("learned:\n  words: words.tsv\n  promote_at: 0.3\n", "rules.yaml:3: learned.promote_at: "),
        ("learned:\n  promote_at: 0.9\n", "rules.yaml:2: learned: 'words' is required"),
    ],
)
def test_a_mistake_in_the_learned_section_names_line_and_field(tmp_path, section, expected):
    (tmp_path / "words.tsv").write_text(WORDS)
    path = write(tmp_path, section + "service_lines:\n  - name: Reviews\n    keywords:\n      review: 8\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{tmp_path}/{expected}"), str(caught.value)


def test_a_near_miss_that_reads_like_relevant_notices_is_lifted_to_possible(rules):
    profile = load_profile(rules)
    near = notice("Review of maintained nursery schools")  # 'review' in the title: 16 points
    alone = score_notice(near, replace(profile, learned=None))
    assert (alone.score, alone.band) == (16, "none")
    lifted = score_notice(near, profile)
    assert (lifted.score, lifted.band) == (22, "possible")
    learned = [reason for reason in lifted.reasons if reason.rule == "learned"]
    assert [reason.points for reason in learned] == [6]  # the reasons still add up to the score
    assert learned[0].detail.startswith("reads like notices judged relevant (0.9")
    assert "'nursery' in the title" in learned[0].detail
    assert "; lifted to possible: reads like notices judged relevant" in lifted.summary
    assert "lifted to possible" in lifted.in_plain_words()


@pytest.mark.parametrize(
    ("case", "kept"),
    [
        (notice("Nursery schools", description="A review of nursery schools."), "below promote_from"),
        (notice("Cleaning review of nursery schools"), "likeness too low"),
        (notice("Nursery schools", cpv=["79410000"], description="Nursery schools."), "CPV codes only"),
    ],
)
def test_likeness_never_lifts_a_notice_without_the_rules_own_evidence(rules, case, kept):
    profile = load_profile(rules)
    before = score_notice(case, replace(profile, learned=None))
    after = score_notice(case, profile)
    assert after == before, kept
    assert after.band == "none"


def test_a_notice_already_in_a_band_is_left_as_the_rules_score_it(rules):
    profile = load_profile(rules)
    strong = notice("Review of nursery schools", description="An inspection review.", cpv=["79410000"])
    assert score_notice(strong, profile) == score_notice(strong, replace(profile, learned=None))


def test_too_few_judged_notices_are_refused_with_what_to_do():
    examples = [judged("Review", True, n) for n in range(5)] + [
        judged("Cleaning", False, 9 + n) for n in range(40)
    ]
    with pytest.raises(
        InputError, match="too few judged notices to learn from: 5 relevant and 40 not relevant"
    ):
        enough_to_learn(examples)


def test_the_halves_check_counts_only_what_the_other_half_taught(rules):
    profile = load_profile(rules)
    # Relevant reviews of nursery provision and look-alike reviews of cleaning rotas, half each way.
    examples = [judged(f"Review of nursery provision {n}", True, n) for n in range(30)]
    examples += [judged(f"Review of cleaning rotas {n}", False, 100 + n) for n in range(30)]
    relevant, other = checked_on_halves(profile, examples)
    assert relevant >= 20 and other == 0


def test_the_shipped_words_are_what_the_script_learns_from_the_graded_sets(tmp_path, monkeypatch):
    """example.words.tsv is reproducible: scripts/learn_example.py, from scripts/probe, writes it."""
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    monkeypatch.syspath_prepend(str(scripts))
    import learn_example

    monkeypatch.setattr(learn_example, "WORDS", tmp_path / "words.tsv")
    monkeypatch.setattr(sys, "argv", ["learn_example.py"])
    learn_example.main()
    assert (tmp_path / "words.tsv").read_text() == (EXAMPLE.parent / "example.words.tsv").read_text()


def test_rules_learn_writes_words_the_rules_can_use_and_tries_them_on_halves(env, database, tmp_path):
    """The bid lead's way: the team's judged notices in the store, `rules learn`, then the rules
    name the file and score with it."""
    from click.testing import CliRunner

    from tenderwatch.cli import cli
    from tests.support.labels import FEEDBACK, grades, import_file, imported

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    out = tmp_path / "our-words.tsv"
    assert run("rules", "learn", str(out)) == (
        2,
        "tenderwatch: too few judged notices to learn from: 0 relevant and 0 not relevant among the "
        "stored notices; judge at least 20 of each (`tenderwatch feedback`, or `tenderwatch feedback "
        "import`) and run it again\n",
    )
    assert not out.exists()
    assert run("import", str(import_file(tmp_path)))[0] == 0
    assert run("feedback", "import", str(FEEDBACK[0]))[0] == 0
    stored = {notice.id for notice in imported()}
    relevant = sum(1 for key in stored if grades()[key] >= 1)
    code, output = run("rules", "learn", str(out))
    assert code == 0, output
    assert f"Learnt from {len(stored)} judged notices ({relevant} relevant): wrote {out}." in output
    halves = next(line for line in output.splitlines() if line.startswith("Learnt from half"))
    lifted, relevant_lifted, other = map(
        int, re.findall(r"(\d+) (?:notices?|relevant,|not relevant)", halves)
    )
    assert lifted == relevant_lifted + other
    weights, _ = read_words(out)
    assert weights[BIAS] < 0  # most judged notices are not relevant
    rules = tmp_path / "ours.yaml"
    rules.write_text(EXAMPLE.read_text().replace("words: example.words.tsv", "words: our-words.tsv"))
    learned = load_profile(rules).learned
    assert learned is not None and learned.words == out
    code, output = run("rules", "check", str(rules))
    assert code == 0, output
    assert f"learned words: {out} ({len(weights) - 1:,} words)" in output


BACKGROUND = "The council has set out its plans for the coming years across the whole of the area."


@pytest.mark.parametrize(
    ("bands", "description", "expected"),
    [
        ("{strong: 40, possible: 22}", f"{BACKGROUND} It mentions nursery.", (22, None)),  # 21.5 shows as 22
        ("{strong: 40, possible: 22.4}", BACKGROUND, (23, 7.0)),  # lifted to the lowest score in it
    ],
)
def test_the_lift_follows_the_shown_score_at_a_fractional_total_or_threshold(
    tmp_path, bands, description, expected
):
    (tmp_path / "words.tsv").write_text("bias\t\t5\n")  # likes every notice
    rules = write(
        tmp_path,
        f"scoring:\n  description_weight: 0.5\n  bands: {bands}\nlearned:\n  words: words.tsv\n"
        "service_lines:\n  - name: Reviews\n    keywords:\n      review: 8\n      nursery: 11\n",
    )
    scored = score_notice(notice("Review", description=description), load_profile(rules))
    lifted = [reason.points for reason in scored.reasons if reason.rule == "learned"]
    assert (scored.score, lifted[0] if lifted else None) == expected
    assert scored.band == "possible"


def test_promote_from_at_or_above_possible_is_refused(tmp_path):
    (tmp_path / "words.tsv").write_text(WORDS)
    path = write(tmp_path, RULES.replace("promote_from: 14", "promote_from: 22"))
    with pytest.raises(ProfileError, match=re.escape("promote_from (22) must be below bands.possible (22)")):
        load_profile(path)


def test_a_published_version_finds_the_words_beside_the_configured_rules(database, tmp_path):
    from store.profiles import live_profile, publish
    from tenderwatch.config import ScoringConfig

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "words.tsv").write_text(WORDS)
    rules = write(folder, RULES)
    config = ScoringConfig(profiles={"ours": rules}, default_profile="ours")
    with database.writing() as session, pytest.raises(ProfileError, match="cannot read the learned words"):
        publish(session, "ours", rules.read_text(), "tester")  # no folder: only the shipped words
    with database.writing() as session:
        publish(session, "ours", rules.read_text(), "tester", folder=folder)
    live = live_profile(database, config, "ours")
    assert live.learned is not None and live.learned.words == folder / "words.tsv"


def test_the_web_page_rescores_with_new_words_written_in_place(database, tmp_path, env):
    """`rules learn` rewrites the words file: the page's live rules follow it, as the daemon's do."""
    from tenderwatch import config as configuration
    from web.app import Live

    (tmp_path / "words.tsv").write_text(WORDS)
    rules = write(tmp_path, RULES)
    toml = tmp_path / "tw.toml"
    toml.write_text(f'[scoring]\ndefault_profile = "ours"\n[scoring.profiles]\nours = "{rules}"\n')
    live = Live(configuration.load(toml), database)
    before = live.profile().hash
    (tmp_path / "words.tsv").write_text(WORDS.replace("2.5", "3"))
    after = live.profile().hash
    assert after != before and after == load_profile(rules).hash


def test_rules_learn_keeps_a_word_only_three_notices_hold():
    examples = [judged(f"Review of provision {n}", True, n) for n in range(20)]
    examples += [judged(f"Cleaning {n}", False, 100 + n) for n in range(20)]
    examples.append(judged("Review by Ms Featherstonehaugh", True, 999))  # a name one notice holds
    assert "t:feather" in train(examples)
    assert "t:feather" not in train(examples, seen_in=3) and "t:review" in train(examples, seen_in=3)
