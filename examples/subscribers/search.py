"""pagewire's search topic into a full-text index (Tantivy, embedded: a folder, no server).

    search.py run   follows `articles.search.>` (stream ARTICLES_SEARCH) with a durable consumer
                    of its own, as the `search` user of deploy/nats/accounts.conf, and applies
                    each fetched batch to the index; the batch is acked after the index commit.
    search.py query WORDS   prints the live articles that contain WORDS, best first.

It keeps pagewire's update contract (README, "The update contract"). The index holds one
document per article id with the highest revision applied:
- a message with a lower revision than the document's is skipped (a late redelivery);
- the same revision again replaces the document with the same text (harmless, so a batch
  redelivered after a crash before the ack changes nothing);
- a withdrawal (`withdrawn`) or a part that now lives in a stitched article (`stitched_into`)
  replaces the document with a tombstone at that revision: no longer found, and an older
  revision arriving late cannot bring it back; a later revision does.

Chinese text has no spaces between words, so the index is built on character pairs (the CJK
bigrams search engines use, as pagewire's own see-also matching does): `高效办成` is indexed as
`高效 效办 办成`, and a query word is looked up as the phrase of its pairs (a lone character,
as in `第1项`, in a field of single characters). Latin letters and digits are indexed as
lowercase words. No dictionary, no model, any word of the text is found.

Run (settings as flags or environment variables, see pagewire_sub.py):

    PYTHONPATH=examples/python/gen NATS_USER=search NATS_PASSWORD=search-example \\
    SEARCH_INDEX_DIR=/var/lib/pagewire-search \\
      .tools/venv/bin/python examples/subscribers/search.py run
    SEARCH_INDEX_DIR=/var/lib/pagewire-search .tools/venv/bin/python \\
      examples/subscribers/search.py query 高效办成
"""

import argparse
import json
import os
import re
import sys

import tantivy

import pagewire_sub as sub

# CJK ideographs (unified, extension A, compatibility) and kana/hangul: scripts without spaces.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN = re.compile(f"[{CJK}]+|[^\\W{CJK}]+")
CJK_RUN = re.compile(f"[{CJK}]+")


def runs(text):
    """The text's runs: ("cjk", run) for a run of CJK characters, ("word", w) for the rest."""
    for m in TOKEN.finditer(text):
        run = m.group(0)
        yield ("cjk", run) if CJK_RUN.fullmatch(run) else ("word", run.lower())


def pairs(run):
    """`高效办成` -> 高效 效办 办成; a lone character stays itself."""
    return [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(text):
    """Character pairs of each CJK run, lowercase other words: what the text fields hold."""
    out = []
    for kind, run in runs(text):
        out.extend(pairs(run) if kind == "cjk" else [run])
    return out


def characters(text):
    """Every CJK character once per occurrence: for a query run of one character."""
    return [c for kind, run in runs(text) if kind == "cjk" for c in run]


def schema():
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    b.add_unsigned_field("revision", stored=True, indexed=True)
    b.add_boolean_field("live", stored=True, indexed=True)
    b.add_text_field("headline", stored=True, tokenizer_name="whitespace")
    b.add_text_field("body", stored=False, tokenizer_name="whitespace")
    b.add_text_field("chars", stored=False, tokenizer_name="whitespace")
    b.add_text_field("page", stored=True, tokenizer_name="raw")
    b.add_text_field("kind", stored=True, tokenizer_name="raw")
    # What `query` shows: the headline and the first paragraph as printed.
    b.add_text_field("headline_text", stored=True, index_option="basic", tokenizer_name="raw")
    b.add_text_field("lead", stored=True, index_option="basic", tokenizer_name="raw")
    return b.build()


def open_index(path):
    os.makedirs(path, exist_ok=True)
    return tantivy.Index(schema(), path=path)


def page_label(article):
    pos = article.page
    label = pos.page_label or f"{pos.page_number:02d}"
    return f"{pos.publication} {pos.issue_date} page {label}"


def document(article):
    """The document of a live article, or a tombstone for a removed one."""
    live = not (article.withdrawn or article.stitched_into)
    doc = tantivy.Document()
    doc.add_text("id", article.id)
    doc.add_unsigned("revision", article.revision)
    doc.add_boolean("live", live)
    if live:
        text = [article.headline, *article.subheadlines, *article.paragraphs]
        doc.add_text("headline", " ".join(tokens(article.headline)))
        doc.add_text("body", " ".join(tokens("\n".join(text))))
        doc.add_text("chars", " ".join(characters("\n".join(text))))
        doc.add_text("page", page_label(article))
        doc.add_text("kind", sub.kind_name(article))
        doc.add_text("headline_text", article.headline)
        doc.add_text("lead", article.paragraphs[0] if article.paragraphs else "")
    return doc


def indexed_revision(searcher, index, article_id):
    query = tantivy.Query.term_query(index.schema, "id", article_id)
    hits = searcher.search(query, 1).hits
    if not hits:
        return None
    return searcher.doc(hits[0][1])["revision"][0]


async def follow(args):
    index = open_index(args.index_dir)
    writer = index.writer(heap_size=50_000_000, num_threads=1)

    async def apply_batch(source, msgs):
        index.reload()
        searcher = index.searcher()
        pending = {}  # id -> revision written in this batch, not yet visible to the searcher
        to_ack = []
        for msg in msgs:
            if sub.message_type(msg) != sub.ARTICLE:
                await msg.term()  # not for this program; never redeliver it
                continue
            to_ack.append(msg)
            article = sub.decode_article(msg)
            have = pending.get(article.id)
            if have is None:
                have = indexed_revision(searcher, index, article.id)
            if have is not None and article.revision < have:
                sub.log(f"{msg.subject}  skipped  {article.id}  revision {article.revision} < {have}")
                continue
            writer.delete_documents_by_term("id", article.id)
            writer.add_document(document(article))
            pending[article.id] = article.revision
            if article.withdrawn:
                what = "withdrawn"
            elif article.stitched_into:
                what = f"removed (now part of {article.stitched_into})"
            else:
                what = "indexed"
            sub.log(f"{msg.subject}  {what}  {article.id}  revision {article.revision}")
        writer.commit()
        return to_ack

    source = sub.Source("ARTICLES_SEARCH", "articles.search", args.durable)
    try:
        n = await sub.run(args, "pagewire-search", [source], apply_batch)
    finally:
        writer.wait_merging_threads()
    sub.log(f"{n} messages")


def search(index_dir, words, limit):
    """The live documents containing every one of `words`, best first."""
    index = tantivy.Index.open(index_dir)
    index.reload()
    schema = index.schema
    clauses = [(tantivy.Occur.Must, tantivy.Query.term_query(schema, "live", True))]
    for word in words:
        # Each run of the word must match: a CJK run as the phrase of its character pairs (in
        # the headline, boosted, or the body), a lone CJK character in `chars`, another word
        # as itself. `第1项民生工程` is 第, 1 and the phrase 项民 民生 生工 工程.
        for kind, run in runs(word):
            if kind == "cjk" and len(run) == 1:
                q = tantivy.Query.term_query(schema, "chars", run)
                clauses.append((tantivy.Occur.Must, q))
                continue
            terms = pairs(run) if kind == "cjk" else [run]
            per_field = []
            for field in ("headline", "body"):
                if len(terms) == 1:
                    q = tantivy.Query.term_query(schema, field, terms[0])
                else:
                    q = tantivy.Query.phrase_query(schema, field, terms)
                if field == "headline":
                    q = tantivy.Query.boost_query(q, 2.0)
                per_field.append((tantivy.Occur.Should, q))
            clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(per_field)))
    searcher = index.searcher()
    out = []
    for score, address in searcher.search(tantivy.Query.boolean_query(clauses), limit).hits:
        doc = searcher.doc(address)
        out.append(
            {
                "id": doc["id"][0],
                "revision": doc["revision"][0],
                "score": round(score, 3),
                "headline": doc["headline_text"][0],
                "page": doc["page"][0],
                "kind": doc["kind"][0],
                "lead": doc["lead"][0],
            }
        )
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--index-dir",
        default=sub.env("SEARCH_INDEX_DIR", "search-index"),
        help="SEARCH_INDEX_DIR: the index folder (created if missing)",
    )
    cmds = p.add_subparsers(dest="command", required=True)
    run = cmds.add_parser("run", help="follow the search topic into the index")
    sub.nats_args(run, durable="search-index")
    q = cmds.add_parser("query", help="print the live articles containing all WORDS")
    q.add_argument("words", nargs="+")
    q.add_argument("--limit", type=int, default=10)
    q.add_argument("--json", action="store_true", help="one JSON object per hit")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "run":
        sub.main(follow(args))
        return
    if not tantivy.Index.exists(args.index_dir):
        sys.exit(f"no index in {args.index_dir}: run `search.py run` first")
    hits = search(args.index_dir, args.words, args.limit)
    for hit in hits:
        if args.json:
            print(json.dumps(hit, ensure_ascii=False))
        else:
            print(f"{hit['id']}  revision {hit['revision']}  score {hit['score']}")
            print(f"  headline: {hit['headline']}")
            print(f"  page:     {hit['page']} ({hit['kind']})")
            print(f"  lead:     {hit['lead'][:80]}")
    if not hits:
        print(f"no live article contains {' '.join(args.words)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
