"""Follow pagewire's search topic from Python: a durable JetStream consumer of its own.

Reads `articles.search.>` (or one publication's subject) from the ARTICLES_SEARCH stream
through a durable pull consumer, decodes each message with the module generated from
pagewire's proto/, prints headline, page and references, and acks it. Stop it and start it
again with the same --durable and it continues where it left off.

It keeps pagewire's update contract the way a search indexer must (README, "Subscribing"): per
article id only the highest `revision` counts, so a late lower one is skipped; a message with
`withdrawn` set removes its id (a corrected page no longer has the article, or it left search),
and so does one with `stitched_into` set (the text now lives in the stitched article); any
later revision of the id brings it back. A stitched article lists its printed `parts`. With
--show-index it prints, at exit, the ids its index ends with.

See README.md beside this file for how to generate `pagewire_pb2` and run this.
"""

import argparse
import asyncio
import datetime
import sys

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

try:
    from pagewire.v1 import pagewire_pb2 as pb
except ImportError as e:  # the generated module is not on the path
    sys.exit(
        f"cannot import pagewire.v1.pagewire_pb2 ({e}); generate it first:\n"
        "  python -m grpc_tools.protoc -I proto --python_out=examples/python/gen "
        "proto/pagewire/v1/pagewire.proto\n"
        "and run with PYTHONPATH=examples/python/gen"
    )

ARTICLE_TYPE = "pagewire.v1.Article"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="nats://127.0.0.1:4222", help="NATS server URL")
    p.add_argument("--stream", default="ARTICLES_SEARCH", help="stream of the search topic")
    p.add_argument("--subject-prefix", default="articles.search", help="search topic prefix")
    p.add_argument(
        "--publication",
        help="only this publication (filters on articles.search.<publication>)",
    )
    p.add_argument(
        "--durable",
        default="python-search-example",
        help="durable consumer name: your position in the stream, kept by the server",
    )
    p.add_argument(
        "--since",
        type=datetime.datetime.fromisoformat,
        help="when the durable is created: start at this time (ISO 8601, e.g. "
        "2025-07-10T00:00:00+00:00) instead of the beginning of the stream",
    )
    p.add_argument("--count", type=int, help="exit after this many articles")
    p.add_argument(
        "--idle-exit",
        type=float,
        help="exit when no article arrives for this many seconds",
    )
    p.add_argument(
        "--show-index",
        action="store_true",
        help="at exit, print the ids the index holds (`indexed <id> revision <r>`)",
    )
    return p.parse_args(argv)


def page_of(article):
    """`baotou-daily 2025-07-10 page 01 (要闻)`."""
    pos = article.page
    label = pos.page_label or f"{pos.page_number:02d}"
    name = f" ({pos.page_name})" if pos.page_name else ""
    edition = f" {pos.edition}" if pos.edition else ""
    return f"{pos.publication} {pos.issue_date}{edition} page {label}{name}"


def references_of(article):
    kinds = {
        pb.PAGE_REFERENCE_KIND_SEE_ALSO: "see",
        pb.PAGE_REFERENCE_KIND_CONTINUED_ON: "continued on",
        pb.PAGE_REFERENCE_KIND_CONTINUED_FROM: "continued from",
        pb.PAGE_REFERENCE_KIND_REFERRED_FROM: "announced on",
    }
    out = []
    for r in article.references:
        where = r.page_label or (f"{r.page_number:02d}" if r.page_number else "?")
        target = f" -> {r.article_id}" if r.article_id else ""
        out.append(f"{kinds.get(r.kind, 'reference')} page {where}: {r.text}{target}")
    return out


def show(msg, article):
    kind = pb.ArticleKind.Name(article.kind).removeprefix("ARTICLE_KIND_").lower()
    print(f"{msg.subject}  {kind}  {article.id}  v{article.version}  revision {article.revision}")
    print(f"  headline:   {article.headline}")
    print(f"  page:       {page_of(article)}")
    refs = references_of(article)
    print(f"  references: {refs[0] if refs else '-'}")
    for r in refs[1:]:
        print(f"              {r}")
    if article.parts:
        parts = ", ".join(f"{p.article_id} ({p.paragraph_count} paragraphs)" for p in article.parts)
        print(f"  stitched:   {parts}")
    sys.stdout.flush()


async def follow(args):
    nc = await nats.connect(args.server, name="pagewire-python-example")
    js = nc.jetstream()
    subject = f"{args.subject_prefix}.{args.publication or '>'}"
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL)
    if args.since is not None:
        config.deliver_policy = DeliverPolicy.BY_START_TIME
        config.opt_start_time = args.since
    # Creates the durable on first use (with `config`); afterwards binds to it as it is, so a
    # restart continues after the last acked article.
    sub = await js.pull_subscribe(subject, durable=args.durable, stream=args.stream, config=config)
    seen = 0
    idle = 0.0
    revisions = {}  # article id -> highest revision applied: your index keeps this per document
    index = {}  # article id -> the article as indexed (what a search engine would hold)
    try:
        while args.count is None or seen < args.count:
            try:
                msgs = await sub.fetch(batch=16, timeout=1)
            except FetchTimeoutError:
                idle += 1
                if args.idle_exit is not None and idle >= args.idle_exit:
                    break
                continue
            idle = 0.0
            for msg in msgs:
                kind = (msg.headers or {}).get("Pagewire-Type", ARTICLE_TYPE)
                if kind != ARTICLE_TYPE:
                    await msg.term()  # not for this program; never redeliver it
                    continue
                article = pb.Article()
                article.ParseFromString(msg.data)
                if article.revision < revisions.get(article.id, 0):
                    print(f"{msg.subject}  skipped  {article.id}  revision {article.revision} < {revisions[article.id]}")
                elif article.withdrawn:
                    revisions[article.id] = article.revision
                    index.pop(article.id, None)
                    print(f"{msg.subject}  withdraw  {article.id}  revision {article.revision}")
                elif article.stitched_into:
                    revisions[article.id] = article.revision
                    index.pop(article.id, None)
                    print(f"{msg.subject}  withdraw  {article.id}  (now part of {article.stitched_into})")
                else:
                    revisions[article.id] = article.revision
                    index[article.id] = article
                    show(msg, article)
                await msg.ack()
                seen += 1
                if args.count is not None and seen >= args.count:
                    break
    finally:
        await nc.drain()
    if args.show_index:
        for article_id in sorted(index):
            print(f"indexed {article_id} revision {index[article_id].revision}")
    print(f"{seen} articles", file=sys.stderr)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        asyncio.run(follow(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
