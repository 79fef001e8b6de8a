"""Full-text search of notices (title, description, buyer), ranked, the same way on both stores.

The query language is the one web search engines taught everyone (PostgreSQL's `websearch_to_tsquery`
reads the same): words must all appear (in any form: "develop" finds "developing"), `"a quoted
phrase"` must appear as written, `OR` between words accepts either, and `-word` excludes. A word
with punctuation in it is a phrase of its parts ("cyber-security" finds "cyber security" too). `parse`
reads it once, for both stores, so what a user types can never be a syntax error. A term of English
stop words alone ("the", "IT", which reads as "it") is refused with advice: PostgreSQL's index leaves
them out (it found nothing), where FTS5 found nearly every notice.

- **PostgreSQL** matches the generated `notices.search` tsvector (migration 0004; English stemming and
  stop words) with a tsquery built from phraseto_tsquery per term, and ranks by `ts_rank`, title
  weighted above buyer above description.
- **SQLite** matches an FTS5 expression over `notices_fts` (Porter stemming; every term a quoted
  string) and ranks by `bm25` with the same weighting. New notices are indexed in bulk before each
  write commits (store.ingest.index_new_notices, migration 0005).

Ties, and equally good matches, come newest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Select, column, func, literal_column, table
from sqlalchemy.orm import Session

from store.ingest import notice_from_row
from store.models import NoticeRow
from store.notice import Notice
from store.queries import NoticeFilter, filtered

TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# PostgreSQL's English stop words (its `english.stop`), which its index leaves out: a term of them
# alone would find nothing there and, in FTS5, nearly every notice. Case is not kept, so "IT" is "it".
_ENGLISH_STOP = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she "
    "her hers herself it its itself they them their theirs themselves what which who whom this that "
    "these those am is are was were be been being have has had having do does did doing a an the and "
    "but if or because as until while of at by for with about against between into through during "
    "before after above below to from up down in out on off over under again further then once here "
    "there when where why how all any both each few more most other some such no nor not only own "
    "same so than too very s t can will just don should now"
)
STOP_WORDS = frozenset(_ENGLISH_STOP.split())
# bm25 weights in notices_fts column order (title, description, buyer_name), like the tsvector's A/C/B.
BM25_WEIGHTS = (10.0, 2.0, 5.0)


@dataclass(frozen=True)
class Term:
    text: str
    excluded: bool = False


def parse(text: str) -> list[list[Term]]:
    """The query as alternatives (split at OR), each a list of terms that must all hold.

    Raises ValueError, with a message for the user, when an alternative has nothing to look for.
    """
    alternatives: list[list[Term]] = [[]]
    # A NUL (a web form's %00) separates words, as tsquery already made it; in an FTS5 string it
    # ended the string early, and SQLite refused the query ("unterminated string").
    for match in TERM.finditer(text.replace("\x00", " ")):
        negated, phrase, word = match.groups()
        if word is not None and word.upper() == "OR":
            if alternatives[-1]:
                alternatives.append([])
            continue
        if word is not None:
            negated, phrase = ("-", word[1:]) if word.startswith("-") else ("", word)
        if re.search(r"[^\W_]", phrase):  # a letter or digit: "_" alone is no word on either store
            alternatives[-1].append(Term(phrase, excluded=bool(negated)))
    alternatives = [terms for terms in alternatives if terms]
    for term in (term for terms in alternatives for term in terms):
        if set(re.findall(r"[^\W_]+", term.text.lower())) <= STOP_WORDS:  # "the", "IT", "to be"
            raise ValueError(
                f"'{term.text}' is too common a word to search for (case is not kept, so 'IT' is 'it'): "
                "leave it out, or search for what it is about"
            )
    if not alternatives:
        raise ValueError(f'nothing to search for in {text!r}: give a word or a "quoted phrase"')
    for terms in alternatives:
        if all(term.excluded for term in terms):
            raise ValueError(
                f"'{' '.join('-' + t.text for t in terms)}' only excludes: add a word to look for"
            )
    return alternatives


def fts5_query(text: str) -> str:
    """The FTS5 MATCH expression for a web-search-style query (see parse)."""

    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"'

    parts = []
    for terms in parse(text):
        wanted = " AND ".join(quoted(t) for t in terms if not t.excluded)
        unwanted = "".join(f" NOT {quoted(t)}" for t in terms if t.excluded)
        parts.append(f"(({wanted}){unwanted})")
    return " OR ".join(parts)


def tsquery(text: str) -> ColumnElement[Any]:
    """The PostgreSQL tsquery for a web-search-style query (see parse)."""

    def phrase(term: Term) -> ColumnElement[Any]:
        words = re.sub(r"[^\w]+", " ", term.text).strip()  # "cyber-security": the phrase "cyber security"
        found = func.phraseto_tsquery(literal_column("'english'::regconfig"), words)
        return func.tsquery_not(found) if term.excluded else found

    alternatives = [reduce(func.tsquery_and, map(phrase, terms)) for terms in parse(text)]
    return reduce(func.tsquery_or, alternatives)


def search(
    session: Session, text: str, *, where: NoticeFilter | None = None, limit: int | None = 50
) -> list[Notice]:
    """Notices matching `text` (and the other conditions in `where`), best match first."""
    query = ranked(session, text, filtered(where or NoticeFilter()))
    if limit:
        query = query.limit(limit)
    return [notice_from_row(row) for row in session.scalars(query)]


def ranked(session: Session, text: str, query: Select) -> Select:
    """`query` (over notices) narrowed to the matches of `text` and ordered best first."""
    parse(text)  # the same errors on both stores
    newest = (NoticeRow.published_at.desc().nulls_last(), NoticeRow.id.desc())
    if session.get_bind().dialect.name == "postgresql":
        vector, wanted = literal_column("notices.search"), tsquery(text)
        return query.where(vector.op("@@")(wanted)).order_by(func.ts_rank(vector, wanted, 1).desc(), *newest)
    fts = table("notices_fts", column("rowid"))
    return (
        query.join(fts, fts.c.rowid == NoticeRow.id)
        .where(literal_column("notices_fts").op("MATCH")(fts5_query(text)))
        .order_by(func.bm25(literal_column("notices_fts"), *BM25_WEIGHTS), *newest)
    )
