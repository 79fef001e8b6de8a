"""[scoring] in the config file and TENDERWATCH_PROFILE: profiles by name, paths, the default profile."""

from __future__ import annotations

import pytest

from scoring import configured_profile
from tenderwatch import config as configuration
from tenderwatch.config import EXAMPLE_PROFILE, ScoringConfig
from tenderwatch.errors import ConfigError
from tests.scoring.helpers import write


def load(tmp_path, text: str, environ: dict[str, str] | None = None):
    return configuration.load(write(tmp_path, text, "tenderwatch.toml"), environ=environ or {})


def test_without_a_scoring_table_the_example_profile_is_the_default(tmp_path):
    scoring = load(tmp_path, "").scoring
    assert scoring == ScoringConfig({"example": EXAMPLE_PROFILE}, "example")
    assert EXAMPLE_PROFILE.is_file()
    assert configured_profile(scoring).name == "example"


def test_profiles_are_named_paths_relative_to_the_config_file(tmp_path):
    (tmp_path / "rules").mkdir()
    write(tmp_path, EXAMPLE_PROFILE.read_text(), "rules/firm.yaml")
    loaded = load(
        tmp_path, '[scoring]\ndefault_profile = "firm"\n[scoring.profiles]\nfirm = "rules/firm.yaml"\n'
    )
    assert loaded.scoring.profiles == {"example": EXAMPLE_PROFILE, "firm": tmp_path / "rules" / "firm.yaml"}
    assert loaded.scoring.default_profile == "firm"
    assert configured_profile(loaded.scoring).name == "firm"
    assert configured_profile(loaded.scoring, "example").name == "example"


def test_the_environment_chooses_the_default_profile(tmp_path):
    write(tmp_path, EXAMPLE_PROFILE.read_text(), "firm.yaml")
    text = '[scoring.profiles]\nfirm = "firm.yaml"\n'
    assert load(tmp_path, text, {"TENDERWATCH_PROFILE": "firm"}).scoring.default_profile == "firm"
    assert load(tmp_path, text, {"TENDERWATCH_PROFILE": ""}).scoring.default_profile == "example"


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("[scoring]\ndefault = 1\n", {}, "[scoring] unknown key 'default'"),
        ('[scoring.profiles]\nFirm = "x.yaml"\n', {}, "[scoring.profiles] Firm: a profile name is lowercase"),
        ("[scoring.profiles]\nfirm = 3\n", {}, "[scoring.profiles] firm must be the path of a rules file"),
        ('[scoring]\ndefault_profile = "firm"\n', {}, "[scoring] default_profile: unknown profile 'firm'"),
        (
            "",
            {"TENDERWATCH_PROFILE": "firm"},
            "environment variable TENDERWATCH_PROFILE: unknown profile 'firm'",
        ),
        ('[scoring]\nprofiles = "x"\n', {}, "[scoring.profiles] must be a table"),
    ],
)
def test_mistakes_name_the_key(tmp_path, text, environ, message):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, environ)
    assert message in str(caught.value)


def test_a_missing_rules_file_is_its_profiles_mistake_not_the_configs(tmp_path):
    scoring = load(tmp_path, '[scoring.profiles]\nfirm = "missing.yaml"\n').scoring  # loads
    assert configured_profile(scoring).name == "example"
    with pytest.raises(ConfigError) as caught:
        configured_profile(scoring, "firm")
    missing = tmp_path / "missing.yaml"
    said = f"profile 'firm': its rules file {missing} does not exist; check [scoring.profiles] firm"
    assert str(caught.value) == said


def test_an_unknown_profile_name_lists_the_configured_ones():
    with pytest.raises(ConfigError, match="unknown profile 'nope': configured profiles are example"):
        ScoringConfig().profile_path("nope")
