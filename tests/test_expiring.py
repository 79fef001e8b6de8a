"""Expiring contracts: contract terms read from real award and contract notices, the firm's field
ending soon (`tenderwatch expiring`), and the weekly digest section.

Every expected date below was read by hand from the raw release (quoted beside it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select, text, update

from notify.run import send_digests, targets
from notify.teams import teams_messages
from scoring.profile import configured_profile
from store import expiring
from store.db import Database
from store.expiring import contract_ref, expiring_contracts
from store.ingest import recompile_notices, store_releases
from store.models import ContractRow, DeliveryRow, NoticeRow, ScoreRow
from store.notice import LONDON
from store.scores import rescore
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tests.support.recorded import cassette_releases, fts_releases, release_by_id
from tests.support.schema import migrate

AS_OF = datetime(2026, 8, 12, 7, 30, tzinfo=LONDON)  # a Wednesday
SURVEY = "find_a_tender:075761-2026"  # UK7: GMCA residents' survey, BMG Research, a strong match


def uk(text: str) -> datetime:
    return datetime.fromisoformat(text)


def contracts_of(database, key: str) -> list[ContractRow]:
    with database.reading() as session:
        return list(
            session.scalars(
                select(ContractRow)
                .join(NoticeRow, NoticeRow.id == ContractRow.notice_id)
                .where(NoticeRow.key == key)
            )
        )


def test_contract_terms_of_real_award_and_contract_notices_are_read_as_their_releases_state_them(database):
    award = next(
        r for r in cassette_releases("contracts_finder_2025-01-20") if r["id"].startswith("2623b830")
    )
    with database.writing() as session:
        store_releases(
            session,
            "find_a_tender",
            [release_by_id(rid) for rid in ("075961-2026", "075761-2026", "075956-2026", "076396-2026")],
        )
        store_releases(session, "contracts_finder", [award])
    # UK7 075961-2026, contracts[0]: period 2026-08-10T00:00:00+01:00 to 2027-03-31T23:59:59+01:00, no
    # maxExtentDate; value amount 92811.25 GBP (amountGross 111373.5); dateSigned 2026-08-10; its
    # award's supplier "The Social Agency/Basis Social Limited".
    [details] = contracts_of(database, "find_a_tender:075961-2026")
    assert (details.start_date, details.end_date, details.max_end_date) == (
        uk("2026-08-10T00:00:00+01:00"),
        uk("2027-03-31T23:59:59+01:00"),
        None,
    )
    assert (details.suppliers, details.value_amount, details.value_currency) == (
        ["The Social Agency/Basis Social Limited"],
        92811.25,
        "GBP",
    )
    assert details.signed_at == uk("2026-08-10T00:00:00+01:00")
    # UK7 075761-2026, contracts[0].period: 2026-07-01T00:00:00+01:00 to 2027-06-30T23:59:59+01:00,
    # maxExtentDate 2028-04-30T23:59:59+01:00; value amount 315875 (gross 379050); BMG RESEARCH LTD.
    [survey] = contracts_of(database, SURVEY)
    assert (survey.start_date, survey.end_date, survey.max_end_date) == (
        uk("2026-07-01T00:00:00+01:00"),
        uk("2027-06-30T23:59:59+01:00"),
        uk("2028-04-30T23:59:59+01:00"),
    )
    assert (survey.suppliers, survey.value_amount) == (["BMG RESEARCH LTD"], 315875)
    # UK6 075956-2026 states no contract yet: awards[0].contractPeriod 2026-08-20 to
    # 2027-08-19T23:59:59+01:00, maxExtentDate 2029-08-19T23:59:59+01:00; value only gross, 2379600.
    [awarded] = contracts_of(database, "find_a_tender:075956-2026")
    assert (awarded.end_date, awarded.max_end_date, awarded.value_amount, awarded.suppliers) == (
        uk("2027-08-19T23:59:59+01:00"),
        uk("2029-08-19T23:59:59+01:00"),
        2379600,
        ["CRISISCAST LTD"],
    )
    # Contracts Finder award 2623b830: awards[0].contractPeriod 2024-11-15T00:00:00Z to
    # 2026-11-14T23:59:59Z; value 232600; Asprey Management Solutions Ltd.
    [legacy] = contracts_of(database, "contracts_finder:2623b830-47c8-4811-b3cc-d00e1d93f03c")
    assert (legacy.start_date, legacy.end_date, legacy.value_amount, legacy.suppliers) == (
        datetime(2024, 11, 15, tzinfo=UTC),
        datetime(2026, 11, 14, 23, 59, 59, tzinfo=UTC),
        232600,
        ["Asprey Management Solutions Ltd"],
    )
    assert contracts_of(database, "find_a_tender:076396-2026") == []  # a tender states no contract


def test_expiring_lists_the_firms_contracts_ending_in_3_to_18_months_with_why(env, database):
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
    runner = CliRunner()
    listed = runner.invoke(cli, ["expiring", "--as-of", "2026-08-12T09:00"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    row = next(line for line in lines if line.rstrip().endswith(SURVEY))
    assert row.split()[:3] == ["2027-06-30", "Dec", "2026"]  # re-tender about six months before
    assert "BMG RESEARCH LTD" in row and "£315,875" in row and "strong" in row
    assert (
        f"  {SURVEY}: ends 30 Jun 2027 (extensions allow up to 30 Apr 2028); Evaluation, research and "
        "economic analysis: 'residents survey' in the title, 'survey' in the title"
    ) in lines
    ends = [line.split()[0] for line in lines[1:] if not line.startswith("  ")]
    assert ends == sorted(ends) and all("2026-11-12" <= end <= "2028-02-12" for end in ends)
    assert "075956-2026" not in listed.output  # CRISISCAST's hospitality contract: not the firm's field
    narrower = runner.invoke(cli, ["expiring", "--as-of", "2026-08-12T09:00", "--months", "3-6"]).output
    # LCP's retirement consultancy ends 31 Dec 2026. (075556, a district heating feasibility study ending
    # 30 Nov 2026, is not the firm's field: the example profile marks district heating down.)
    assert SURVEY not in narrower and "find_a_tender:075957-2026" in narrower
    # As of a time before its award was published, a contract is not known yet.
    earlier = runner.invoke(cli, ["expiring", "--as-of", "2026-08-01T09:00", "--months", "3-6"]).output
    assert "find_a_tender:075957-2026" not in earlier
    bad = runner.invoke(cli, ["expiring", "--months", "18-3"])
    assert bad.exit_code == 2 and "write it like 3-18" in bad.output


@pytest.mark.sqlite_only(reason="the plan read is SQLite's (PostgreSQL plans by its statistics)")
def test_listing_reads_contracts_by_index_never_every_contract_stored(env, database):
    """A year of Find a Tender holds some 75,000 contracts: a statement that scans them all, once
    per batch of 500 opportunities, made a Monday digest take 15 s per channel instead of 5."""
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    profile = configured_profile(configuration.load().scoring, None)
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.reading() as session:
            assert expiring_contracts(session, profile, now=AS_OF)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert len(statements) >= 2  # the contracts in the window, then their opportunities' latest notices
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            explained = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [row[3] for row in explained]
            assert not [step for step in plan if step.startswith("SCAN contracts")], (statement, plan)


def test_awards_stay_gated_in_stored_scores_so_no_digest_offers_one_as_an_opportunity(env, database):
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("075761-2026")])
        rescore(session, configured_profile(configuration.load().scoring, None))
        band, reasons = session.execute(select(ScoreRow.band, ScoreRow.reasons)).one()
    assert band == "none" and reasons[0]["rule"] == "gate: notice type"


def test_the_weekly_section_lists_each_contract_once_on_its_day(env, database, tmp_path):
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())

    def digest_on(day: str, as_of: datetime, results: list | None = None):
        (tmp_path / "tenderwatch.toml").write_text(f'[digest]\nexpiring_day = "{day}"\n')
        config = configuration.load()
        [result] = send_digests(config, database, targets(config), as_of=as_of)
        if results is not None:
            results.append(result)
        return result.digest

    monday_only = digest_on("mon", AS_OF)
    assert monday_only.sections["expiring"] == []  # a Wednesday
    new = monday_only.sections["strong"] + monday_only.sections["possible"]
    assert new and {item.notice.stage for item in new} == {"tender"}  # never an award
    sent: list = []
    first = digest_on("wed", AS_OF, sent)
    survey = next(item for item in first.sections["expiring"] if item.notice.id == SURVEY)
    assert survey.why.startswith(
        "re-tender expected from about Dec 2026; incumbent BMG RESEARCH LTD, £315,875; ends 30 Jun 2027"
    )
    # Where a tender's deadline would be, the contract's end (an award states no deadline).
    html = sent[0].html or sent[0].path.read_text(encoding="utf-8")
    section = html[html.index("ending soon") :]
    assert "Contract ends Wed 30 Jun 2027" in section
    assert "No deadline stated" not in section
    teams = teams_messages(first, None, 12)
    assert "contract ends Wed 30 Jun 2027" in json.dumps(teams[-1].card)
    assert "ending soon" in first.subject
    assert digest_on("wed", AS_OF.replace(hour=9)).sections["expiring"] == []  # told once
    # Compiled again (`db recompile`, a changed release), a notice's contracts get new rows: still told.
    before = {contract.id for contract in contracts_of(database, SURVEY)}
    with database.writing() as session:
        recompile_notices(session, "find_a_tender", [SURVEY.split(":", 1)[1]])
    assert before.isdisjoint(contract.id for contract in contracts_of(database, SURVEY))
    assert digest_on("wed", AS_OF.replace(hour=10)).sections["expiring"] == []
    # A store announced under row ids by tenderwatch before schema 0013 is told the same after it.
    migrate(database, "downgrade", "0012")
    with database.writing() as session:  # columns only: the table has no `confirmed` before 0013
        announce_under_row_ids(session)
    Database(database.url).upgrade()
    assert digest_on("wed", AS_OF.replace(hour=11)).sections["expiring"] == []


def test_channels_sharing_rules_have_the_weeks_contracts_found_once(env, database, tmp_path, monkeypatch):
    """Finding them scores every contract ending in the window (some 20,000 in a year of Find a
    Tender, 5-10 s): once per digest run and set of rules, not once per channel."""
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
    channels = "".join(
        f'[[channels]]\nname = "{name}"\nurl = "mailto://127.0.0.1:1?to=bids@example.org"\n'
        for name in ("bids-email", "board-email")
    )
    (tmp_path / "tenderwatch.toml").write_text(f'[digest]\nexpiring_day = "wed"\n{channels}')
    config = configuration.load()
    scored = []
    real = expiring.score_contract
    monkeypatch.setattr(expiring, "score_contract", lambda *args: scored.append(args) or real(*args))
    results = send_digests(config, database, targets(config), as_of=AS_OF, dry_run=True)
    listed = [[item.notice.id for item in result.digest.sections["expiring"]] for result in results]
    assert len(listed) == 2 and SURVEY in listed[0] and listed[0] == listed[1]
    once = len(scored)
    scored.clear()
    send_digests(config, database, targets(config)[:1], as_of=AS_OF, dry_run=True)
    assert once == len(scored) > 0


def announce_under_row_ids(session) -> None:
    """Record the contracts announced as ending soon by their row ids, as tenderwatch did before 0013."""
    announced = select(DeliveryRow.id, DeliveryRow.notice_id, DeliveryRow.ref).where(
        DeliveryRow.kind == "expiring"
    )
    for delivery_id, notice_id, ref in session.execute(announced).all():
        contracts = session.scalars(select(ContractRow).where(ContractRow.notice_id == notice_id))
        row_id = next(contract.id for contract in contracts if contract_ref(contract) == ref)
        session.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id).values(ref=str(row_id)))


def test_a_store_the_first_release_of_schema_0013_upgraded_sends_digests_and_tells_contracts_once(
    env, database, tmp_path
):
    # Schema 0013 first added web_users.session_key alone (661bb9b); deliveries.confirmed and contracts
    # announced by award id joined it later under the same number, so such a store never got them:
    # every digest failed on the missing column, and contracts already told were told again.
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
    (tmp_path / "tenderwatch.toml").write_text('[digest]\nexpiring_day = "wed"\n')
    config = configuration.load()
    [first] = send_digests(config, database, targets(config), as_of=AS_OF)
    assert first.digest.sections["expiring"]
    migrate(database, "downgrade", "0012")
    with database.writing() as session:  # as tenderwatch 661bb9b announced them: under their row ids
        announce_under_row_ids(session)
        session.execute(text("ALTER TABLE web_users ADD COLUMN session_key VARCHAR(64)"))
        session.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    Database(database.url).upgrade()
    [again] = send_digests(config, database, targets(config), as_of=AS_OF.replace(hour=11))
    assert again.outcome == "skipped"  # nothing new: no contract is told twice


def test_the_weekly_day_and_months_are_checked_in_the_config(env, tmp_path):
    (tmp_path / "tenderwatch.toml").write_text('[digest]\nexpiring_day = "someday"\n')
    result = CliRunner().invoke(cli, ["expiring"])
    assert result.exit_code == 2 and "[digest] expiring_day must be a day" in result.output
    (tmp_path / "tenderwatch.toml").write_text('[digest]\nexpiring_months = "18"\n')
    assert "expiring_months must be a range" in CliRunner().invoke(cli, ["expiring"]).output
    (tmp_path / "tenderwatch.toml").write_text('[digest]\nexpiring_day = "never"\nexpiring_months = "6-12"\n')
    digest = configuration.load().digest
    assert (digest.expiring_day, digest.expiring_months) == ("never", (6, 12))
    assert json.dumps(list(digest.expiring_months)) == "[6, 12]"
