"""Full-text search of notices, on SQLite (FTS5) and PostgreSQL (tsvector), over two real recorded days."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, text

from store.db import SCHEMA_REVISION
from store.ingest import index_new_notices, store_releases
from store.models import NoticeRow
from store.queries import NoticeFilter, find_notices
from store.search import parse, search
from tenderwatch.cli import cli
from tests.support.recorded import release_by_id
from tests.support.schema import migrate
from tests.support.stored import RECORDED, filled_store, store_recorded

NOW = datetime(2026, 8, 12, 9, 0, tzinfo=UTC)
BULK_INDEX = "its index takes new notices in bulk (migration 0005); PostgreSQL's search column is generated"


@pytest.fixture
def stored(request, env):
    return filled_store(request, env, f"{RECORDED}, at NOW", lambda database: store_recorded(database, NOW))


def found(database, query: str, **where) -> list:
    with database.reading() as session:
        return search(session, query, where=NoticeFilter(**where) if where else None, limit=None)


def words(notice) -> str:
    return " ".join(filter(None, [notice.title, notice.description, notice.buyer_name])).lower()


def test_every_word_is_found_in_any_form_and_title_matches_come_first(stored):
    results = found(stored, "develop services")
    assert len(results) > 20
    assert results[0].title == "Development and Support Services"
    assert all("develop" in words(n) and "servic" in words(n) for n in results)


def test_a_quoted_phrase_must_appear_as_written(stored):
    loose, phrase = found(stored, "mental health"), found(stored, '"mental health"')
    assert 0 < len(phrase) < len(loose)
    assert {n.id for n in phrase} < {n.id for n in loose}
    assert all(re.search(r"mental\W+health", words(n)) for n in phrase)


def test_or_accepts_either_and_a_minus_excludes(stored):
    either = {n.id for n in found(stored, "ambulance OR fire")}
    assert either == {n.id for n in found(stored, "ambulance")} | {n.id for n in found(stored, "fire")}
    schools = found(stored, "school -catering")
    assert schools and not any(re.search(r"\bcater(s|ed|ing)?\b", words(n)) for n in schools)
    assert len(schools) < len(found(stored, "school"))


def test_a_hyphenated_word_is_a_phrase_of_its_parts(stored):
    hyphenated = {n.id for n in found(stored, "cyber-security")}
    assert {n.id for n in found(stored, '"cyber security"')} <= hyphenated
    assert any("cyber security" in words(n) for n in found(stored, "cyber-security"))


def test_the_buyer_is_searched_too(stored):
    results = found(stored, "hydrographic")
    assert results and any("hydrographic" in (n.buyer_name or "").lower() for n in results)


@pytest.mark.parametrize(
    "query", ["C++", "NEAR(", '"unterminated', "AND", "NOT x", "title:x", "a*", "(x", "^x", "x\x00"]
)
def test_whatever_is_typed_is_never_a_syntax_error(database, query):
    _store(database, [release_by_id("076396-2026")])
    answer = found_or_explained(database, query)
    # Nothing to look for ("AND" is a stop word) is said in words, never an SQL error.
    assert isinstance(answer, list) or "to search for" in answer


def found_or_explained(database, query: str) -> list | str:
    try:
        return found(database, query)
    except ValueError as explained:
        return str(explained)


def test_a_nul_in_a_query_separates_words_on_both_stores(database):
    _store(database, [release_by_id("076396-2026")])
    assert [n.id for n in found(database, "violence\x00")] == ["find_a_tender:076396-2026"]
    assert [n.id for n in found(database, '"violence\x00reduction"')] == ["find_a_tender:076396-2026"]


@pytest.mark.parametrize("query", ["IT", "the", '"to be"', "violence -the"])
def test_a_term_of_stop_words_alone_is_refused_with_advice_on_both_stores(database, query):
    # PostgreSQL's index leaves English stop words out, so "IT" (read as "it") found nothing there,
    # and nearly every notice in SQLite's.
    _store(database, [release_by_id("076396-2026")])
    with pytest.raises(ValueError, match=r"is too common a word to search for .* leave it out"):
        found(database, query)


def test_an_underscore_alone_is_no_word_on_either_store(database):
    _store(database, [release_by_id("076396-2026")])
    assert [n.id for n in found(database, "violence _")] == [n.id for n in found(database, "violence")]
    assert found(database, "violence")


def test_a_word_joined_to_a_bullet_or_dash_is_found_on_both_stores(stored):
    # Find a Tender descriptions list duties as "•review eligibility criteria"; PostgreSQL only splits
    # the bullet from the word under a UTF-8 character locale (README: PostgreSQL).
    assert "find_a_tender:076337-2026" in {n.id for n in found(stored, "review eligibility")}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "nothing to search for"),
        ("!!! ---", "nothing to search for"),
        ("OR", "nothing to search for"),
        ("-catering", "'-catering' only excludes"),
        ("school OR -catering", "'-catering' only excludes"),
    ],
)
def test_a_query_with_nothing_to_look_for_is_explained(query, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse(query)


def test_search_combines_with_the_other_filters(stored):
    results = found(stored, "services", source="find_a_tender", opportunities_only=True)
    assert results and all(n.source == "find_a_tender" and n.is_opportunity for n in results)
    with stored.reading() as session:
        via_filter = find_notices(
            session, NoticeFilter(source="find_a_tender", opportunities_only=True, text="services"), limit=5
        )
    assert [n.id for n in via_filter] == [n.id for n in results[:5]]


def test_the_index_follows_every_change_to_a_notice(database):
    release = release_by_id("076396-2026")
    store = lambda r: _store(database, [r])  # noqa: E731
    store(release)
    assert [n.id for n in found(database, "violence reduction")] == ["find_a_tender:076396-2026"]
    assert found(database, "quokka") == []
    renamed = copy.deepcopy(release)
    renamed["id"] = release["id"]
    renamed["tender"]["title"] = "Quokka habitat survey"
    store(renamed)
    assert [n.id for n in found(database, "quokka")] == ["find_a_tender:076396-2026"]
    assert [n.id for n in found(database, "habitat")] == ["find_a_tender:076396-2026"]
    again = copy.deepcopy(renamed)
    again["tender"]["title"] = "Wombat habitat survey"
    store(again)
    assert found(database, "quokka") == []
    assert [n.id for n in found(database, "wombat")] == ["find_a_tender:076396-2026"]
    with database.writing() as session:
        session.execute(delete(NoticeRow).where(NoticeRow.key == "find_a_tender:076396-2026"))
    assert found(database, "wombat") == []
    _check_index(database)


def test_notices_stored_before_the_search_migration_are_found_after_it(database):
    _store(database, [release_by_id("076396-2026")])
    migrate(database, "downgrade", "0003")  # the notice stays; the index goes
    migrate(database, "upgrade", "head")
    assert database.current_revision() == SCHEMA_REVISION
    assert [n.id for n in found(database, "violence reduction")] == ["find_a_tender:076396-2026"]
    _check_index(database)


@pytest.mark.sqlite_only(reason=BULK_INDEX)
def test_a_write_leaves_no_notice_waiting_to_be_indexed(stored):
    with stored.reading() as session:
        waiting = session.execute(text("SELECT count(*) FROM notices_fts_pending")).scalar_one()
        indexed = session.execute(text("SELECT count(*) FROM notices_fts")).scalar_one()
        notices = session.execute(text("SELECT count(*) FROM notices")).scalar_one()
    assert (waiting, indexed) == (0, notices)
    _check_index(stored)


@pytest.mark.sqlite_only(reason=BULK_INDEX)
def test_the_bulk_index_migration_keeps_every_notice_findable_both_ways(database):
    _store(database, [release_by_id("076396-2026")])
    with database.writing() as session:  # inserted by hand, so only noted for indexing
        _insert_twin(session, "Wombat habitat survey")
    migrate(database, "downgrade", "0004")  # indexes what was noted first
    _check_index(database)
    assert _indexed(database, "wombat") == ["find_a_tender:twin-1"]  # by SQL: the models are newer
    with database.writing() as session:  # 0004's triggers index at once again
        session.execute(text("UPDATE notices SET title = 'Quokka habitat survey' WHERE id = 1"))
    migrate(database, "upgrade", "head")
    _check_index(database)
    assert [n.id for n in found(database, "quokka")] == ["find_a_tender:076396-2026"]


def test_notices_search_on_the_command_line(stored):
    result = CliRunner().invoke(cli, ["notices", "--search", "development services", "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 4 and "Development and Support Services" in lines[1]
    bad = CliRunner().invoke(cli, ["notices", "--search", "-catering"])
    assert bad.exit_code == 2
    assert "--search: '-catering' only excludes: add a word to look for" in bad.output


@pytest.mark.sqlite_only(reason=BULK_INDEX)
def test_a_notice_changed_or_deleted_before_it_is_indexed_leaves_the_index_exact(database):
    _store(database, [release_by_id("076396-2026")])
    with database.writing() as session:
        renamed, dropped = _insert_twin(session, "Quokka survey"), _insert_twin(session, "Numbat survey")
        session.execute(text("UPDATE notices SET title = 'Wombat survey' WHERE id = :id"), {"id": renamed})
        session.execute(text("DELETE FROM notices WHERE id = :id"), {"id": dropped})
        index_new_notices(session.connection())
    _check_index(database)
    assert [n.id for n in found(database, "wombat")] == ["find_a_tender:twin-1"]
    assert found(database, "quokka") == found(database, "numbat") == []


def _insert_twin(session, title: str) -> int:
    """A copy of the first notice under a new id and key, inserted with plain SQL (not indexed yet)."""
    row = dict(session.execute(text("SELECT * FROM notices ORDER BY id LIMIT 1")).mappings().one())
    number = session.execute(text("SELECT max(id) FROM notices")).scalar_one()
    row.update(id=number + 1, key=f"find_a_tender:twin-{number}", source_id=f"twin-{number}", title=title)
    columns = ", ".join(f'"{name}"' for name in row)
    values = ", ".join(f":{name}" for name in row)
    session.execute(text(f"INSERT INTO notices ({columns}) VALUES ({values})"), row)
    return row["id"]


def _store(database, releases) -> None:
    with database.writing() as session:
        store_releases(session, "find_a_tender", releases)


def _indexed(database, word: str) -> list[str]:
    """The keys of the notices SQLite's index finds for a word, on any schema since 0004."""
    with database.reading() as session:
        return list(
            session.scalars(
                text(
                    "SELECT key FROM notices JOIN notices_fts ON notices_fts.rowid = notices.id "
                    "WHERE notices_fts MATCH :word ORDER BY key"
                ),
                {"word": word},
            )
        )


def _check_index(database) -> None:
    """SQLite: FTS5's own check that the index matches the notices table exactly."""
    if database.dialect == "sqlite":
        with database.writing() as session:
            session.execute(text("INSERT INTO notices_fts(notices_fts, rank) VALUES ('integrity-check', 1)"))
