"""pagewire's archive topics into PostgreSQL: every article revision and every page record.

Follows `articles.archive.>` (stream ARTICLES_ARCHIVE) and `pages.archive.>` (PAGES_ARCHIVE)
with durable consumers of its own (`<durable>-articles`, `<durable>-pages`), as the `archive`
user of deploy/nats/accounts.conf, and writes each fetched batch in one transaction; the batch
is acked after the commit. It keeps pagewire's update contract (README, "The update contract"):

- `pagewire_article_revisions`: every message received, once per (id, revision, version): the
  archive's history. A redelivered or repeated message is the same row and stores nothing.
- `pagewire_articles`: one row per article id, the highest revision received. A lower revision
  arriving late changes nothing. A withdrawal (`withdrawn`, header `Pagewire-Withdrawn`) marks
  the row `withdrawn` at its revision and keeps the text last archived; a later revision of the
  id brings it back. `stitched_into` is recorded on the printed part that became part of a
  stitched article (the part stays in the archive), and the stitched article's printed pieces
  are its rows in `pagewire_article_parts` (position, part id, page, paragraph count).
- `pagewire_pages`: one row per page record (page id and BLAKE3 `content_hash`): a corrected
  page is a new row, a redelivered one is not. `article_ids` keeps the page's reading order.

Run (settings as flags or environment variables, see pagewire_sub.py):

    PYTHONPATH=examples/python/gen NATS_USER=archive NATS_PASSWORD=archive-example \\
    ARCHIVE_DSN=postgresql://postgres@127.0.0.1:5432/pagewire \\
      .tools/venv/bin/python examples/subscribers/archive.py

`--init-only` creates the tables and exits. The tables are created if missing at every start.
"""

import argparse
import datetime
import sys

import psycopg

import pagewire_sub as sub

SCHEMA = """
CREATE TABLE IF NOT EXISTS pagewire_articles (
    id            text PRIMARY KEY,
    revision      bigint NOT NULL,
    version       text NOT NULL,
    kind          text NOT NULL,
    headline      text NOT NULL,
    body          text NOT NULL,
    publication   text NOT NULL,
    issue_date    date,
    edition       text NOT NULL,
    page_number   integer NOT NULL,
    page_label    text NOT NULL,
    withdrawn     boolean NOT NULL,
    stitched_into text,
    message       bytea NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS pagewire_article_revisions (
    id            text NOT NULL,
    revision      bigint NOT NULL,
    version       text NOT NULL,
    withdrawn     boolean NOT NULL,
    stitched_into text,
    msg_id        text,
    message       bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, revision, version)
);
CREATE TABLE IF NOT EXISTS pagewire_article_parts (
    article_id      text NOT NULL REFERENCES pagewire_articles (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    part_id         text NOT NULL,
    page_number     integer NOT NULL,
    page_label      text NOT NULL,
    paragraph_count integer NOT NULL,
    PRIMARY KEY (article_id, position)
);
CREATE TABLE IF NOT EXISTS pagewire_pages (
    page_id      text NOT NULL,
    content_hash text NOT NULL,
    publication  text NOT NULL,
    issue_date   date,
    edition      text NOT NULL,
    page_number  integer NOT NULL,
    page_label   text NOT NULL,
    page_name    text NOT NULL,
    article_ids  text[] NOT NULL,
    content      text NOT NULL,
    message      bytea NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (page_id, content_hash)
);
"""

# The row of an id moves only forward: a higher revision replaces it; the same revision with
# another version only where pagewire keeps no revisions (`stitch.enabled = false`, all 0).
# A withdrawal keeps the text and marks the row.
UPSERT_ARTICLE = """
INSERT INTO pagewire_articles AS a (id, revision, version, kind, headline, body, publication,
    issue_date, edition, page_number, page_label, withdrawn, stitched_into, message)
VALUES (%(id)s, %(revision)s, %(version)s, %(kind)s, %(headline)s, %(body)s, %(publication)s,
    %(issue_date)s, %(edition)s, %(page_number)s, %(page_label)s, %(withdrawn)s,
    %(stitched_into)s, %(message)s)
ON CONFLICT (id) DO UPDATE SET
    revision = excluded.revision,
    version = excluded.version,
    kind = CASE WHEN excluded.withdrawn THEN a.kind ELSE excluded.kind END,
    headline = CASE WHEN excluded.withdrawn THEN a.headline ELSE excluded.headline END,
    body = CASE WHEN excluded.withdrawn THEN a.body ELSE excluded.body END,
    publication = excluded.publication,
    issue_date = excluded.issue_date,
    edition = excluded.edition,
    page_number = excluded.page_number,
    page_label = excluded.page_label,
    withdrawn = excluded.withdrawn,
    stitched_into = excluded.stitched_into,
    message = CASE WHEN excluded.withdrawn THEN a.message ELSE excluded.message END,
    updated_at = now()
WHERE a.revision < excluded.revision
   OR (a.revision = excluded.revision AND a.version <> excluded.version AND excluded.revision = 0)
RETURNING id
"""

INSERT_REVISION = """
INSERT INTO pagewire_article_revisions (id, revision, version, withdrawn, stitched_into, msg_id,
    message)
VALUES (%(id)s, %(revision)s, %(version)s, %(withdrawn)s, %(stitched_into)s, %(msg_id)s,
    %(message)s)
ON CONFLICT DO NOTHING
"""

INSERT_PART = """
INSERT INTO pagewire_article_parts (article_id, position, part_id, page_number, page_label,
    paragraph_count)
VALUES (%s, %s, %s, %s, %s, %s)
"""

INSERT_PAGE = """
INSERT INTO pagewire_pages (page_id, content_hash, publication, issue_date, edition,
    page_number, page_label, page_name, article_ids, content, message)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--dsn",
        default=sub.env("ARCHIVE_DSN"),
        help="ARCHIVE_DSN: libpq connection string or URI of the archive database",
    )
    p.add_argument("--init-only", action="store_true", help="create the tables and exit")
    sub.nats_args(p, durable="archive")
    args = p.parse_args(argv)
    if not args.dsn:
        p.error("no database: set ARCHIVE_DSN or --dsn")
    return args


def date_or_none(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def article_row(msg, article):
    pos = article.page
    return {
        "id": article.id,
        "revision": article.revision,
        "version": article.version,
        "kind": sub.kind_name(article),
        "headline": article.headline,
        "body": "\n\n".join(article.paragraphs),
        "publication": pos.publication,
        "issue_date": date_or_none(pos.issue_date),
        "edition": pos.edition,
        "page_number": pos.page_number,
        "page_label": pos.page_label,
        "withdrawn": article.withdrawn,
        "stitched_into": article.stitched_into or None,
        "message": msg.data,
        "msg_id": sub.header(msg, "Nats-Msg-Id"),
    }


async def apply_article(cur, msg):
    article = sub.decode_article(msg)
    row = article_row(msg, article)
    await cur.execute(INSERT_REVISION, row)
    await cur.execute(UPSERT_ARTICLE, row)
    if await cur.fetchone() is None:
        return "kept"  # an older (or the same) revision: the row already has newer
    if not article.withdrawn:
        # The printed pieces as of this revision; an un-stitched article has none.
        await cur.execute("DELETE FROM pagewire_article_parts WHERE article_id = %s", (article.id,))
        for i, part in enumerate(article.parts):
            await cur.execute(
                INSERT_PART,
                (article.id, i, part.article_id, part.page.page_number, part.page.page_label,
                 part.paragraph_count),
            )
    return "withdrawn" if article.withdrawn else "stored"


async def apply_page(cur, msg):
    page = sub.decode_page(msg)
    pos = page.page
    await cur.execute(
        INSERT_PAGE,
        (sub.page_id(pos), page.content_hash, pos.publication, date_or_none(pos.issue_date),
         pos.edition, pos.page_number, pos.page_label, pos.page_name, list(page.article_ids),
         page.content, msg.data),
    )
    return "stored" if cur.rowcount == 1 else "kept"


async def archive(args):
    conn = await psycopg.AsyncConnection.connect(args.dsn)
    async with conn:
        async with conn.transaction():
            await conn.execute(SCHEMA)
        if args.init_only:
            return

        async def apply_batch(source, msgs):
            to_ack = []
            async with conn.transaction(), conn.cursor() as cur:
                for msg in msgs:
                    kind = sub.message_type(msg)
                    if kind == sub.ARTICLE:
                        outcome = await apply_article(cur, msg)
                    elif kind == sub.PAGE:
                        outcome = await apply_page(cur, msg)
                    else:
                        await msg.term()  # not a message this archive knows; never again
                        sub.log(f"{msg.subject}  skipped  unknown type {kind}")
                        continue
                    to_ack.append(msg)
                    sub.log(f"{msg.subject}  {outcome}  {sub.header(msg, 'Nats-Msg-Id', '')}")
            return to_ack

        sources = [
            sub.Source("ARTICLES_ARCHIVE", "articles.archive", f"{args.durable}-articles"),
            sub.Source("PAGES_ARCHIVE", "pages.archive", f"{args.durable}-pages"),
        ]
        n = await sub.run(args, "pagewire-archive", sources, apply_batch)
        sub.log(f"{n} messages")


def main(argv=None):
    sub.main(archive(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
