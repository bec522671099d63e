"""What the three reference subscribers share: settings, the NATS connection, the durable pull
consumer loop and the decoding of pagewire's messages.

Every subscriber follows one or more pagewire topics through a durable JetStream consumer of its
own, applies each fetched batch to its store and acks the batch only once the store has it
(committed transaction, committed index, webhook answered 2xx). A crash before the ack means
the batch comes again: every store here applies a message idempotently, so that costs nothing.

Settings come from flags or, for a container, from the environment (flags win):

    NATS_URL            nats://127.0.0.1:4222 (comma-separated for several servers)
    NATS_USER           the least-privilege user deploy/nats/accounts.conf defines for the
                        subscriber (search, archive, alert); empty for a server without auth
    NATS_PASSWORD       its password
    NATS_INBOX_PREFIX   replies come here; default `_INBOX_<user>`, the only inbox the user's
                        permissions allow (`_INBOX` without a user)
    NATS_DURABLE        the durable consumer's name (each subscriber has its own default)

The generated protobuf module (`pagewire.v1.pagewire_pb2`, see README.md beside this file) must
be on PYTHONPATH.
"""

import argparse
import asyncio
import os
import sys
import time

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

ARTICLE = "pagewire.v1.Article"
PAGE = "pagewire.v1.Page"


def env(name, default=None):
    value = os.environ.get(name, "")
    return value if value != "" else default


def nats_args(parser, durable):
    """Adds the connection and consumer flags every subscriber has."""
    g = parser.add_argument_group("NATS")
    g.add_argument("--server", default=env("NATS_URL", "nats://127.0.0.1:4222"), help="NATS_URL")
    g.add_argument("--user", default=env("NATS_USER"), help="NATS_USER")
    g.add_argument("--password", default=env("NATS_PASSWORD"), help="NATS_PASSWORD")
    g.add_argument("--inbox-prefix", default=env("NATS_INBOX_PREFIX"), help="NATS_INBOX_PREFIX")
    g.add_argument(
        "--durable",
        default=env("NATS_DURABLE", durable),
        help=f"NATS_DURABLE: this subscriber's durable consumer (default {durable})",
    )
    g.add_argument(
        "--publication",
        help="only this publication (the consumer's filter subject ends in it; fixed when the "
        "durable is created)",
    )
    g.add_argument("--batch", type=int, default=64, help="messages per fetch")
    g.add_argument(
        "--idle-exit",
        type=float,
        help="exit once nothing has arrived for this many seconds (tests, the demo, backfills); "
        "without it the subscriber runs until stopped",
    )


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


async def connect(args, name):
    opts = {"servers": args.server.split(","), "name": name, "max_reconnect_attempts": -1}
    if args.user:
        opts["user"] = args.user
        opts["password"] = args.password or ""
    prefix = args.inbox_prefix or (f"_INBOX_{args.user}" if args.user else None)
    if prefix:
        opts["inbox_prefix"] = prefix
    return await nats.connect(**opts)


class Source:
    """One topic followed through a durable pull consumer on its stream."""

    def __init__(self, stream, prefix, durable):
        self.stream = stream
        self.prefix = prefix
        self.durable = durable
        self.sub = None

    async def bind(self, js, publication):
        subject = f"{self.prefix}.{publication or '>'}"
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            # Plenty for one batch to reach the store; a batch not acked by then comes again.
            ack_wait=60,
        )
        # Creates the durable on first use, afterwards binds to it: a restart continues after
        # the last acked message. `stream` is given, so no stream lookup by subject (which the
        # least-privilege users may not make).
        self.sub = await js.pull_subscribe(
            subject, durable=self.durable, stream=self.stream, config=config
        )

    async def fetch(self, batch, timeout=1.0):
        try:
            return await self.sub.fetch(batch=batch, timeout=timeout)
        except (FetchTimeoutError, asyncio.TimeoutError):  # nats-py raises either: nothing came
            return []


def header(msg, name, default=None):
    return (msg.headers or {}).get(name, default)


def message_type(msg):
    return header(msg, "Pagewire-Type", ARTICLE)


def decode_article(msg):
    article = pb.Article()
    article.ParseFromString(msg.data)
    return article


def decode_page(msg):
    page = pb.Page()
    page.ParseFromString(msg.data)
    return page


def kind_name(article):
    return pb.ArticleKind.Name(article.kind).removeprefix("ARTICLE_KIND_").lower()


def page_id(position):
    """`<publication>/<date>/<edition|main>/<page>`, the prefix of every article id."""
    edition = position.edition or "main"
    return f"{position.publication}/{position.issue_date}/{edition}/{position.page_number}"


async def run(args, name, sources, apply_batch):
    """Follows `sources` until stopped (or idle for `--idle-exit` seconds).

    `apply_batch(source, msgs)` stores one fetched batch and returns only once it is durable;
    the batch is acked after that. It returns None (ack all of it) or the messages to ack, when
    it settled others itself (nak for a later retry, term for what it never wants again). It may
    raise to stop the subscriber: nothing of that batch is acked, so it all comes again.
    Returns the number of messages applied.
    """
    nc = await connect(args, name)
    applied = 0
    try:
        js = nc.jetstream()
        for source in sources:
            await source.bind(js, args.publication)
        last = time.monotonic()
        while True:
            got = 0
            for source in sources:
                msgs = await source.fetch(args.batch, timeout=0.5 if len(sources) > 1 else 1.0)
                if not msgs:
                    continue
                got += len(msgs)
                to_ack = await apply_batch(source, msgs)
                for msg in msgs if to_ack is None else to_ack:
                    await msg.ack()
                applied += len(msgs)
            now = time.monotonic()
            if got:
                last = now
            elif args.idle_exit is not None and now - last >= args.idle_exit:
                break
    finally:
        # Every ack is out before the connection closes (flush waits for the server's answer
        # to a ping sent after them). Not drain(): it waits out its timeout on the pull
        # consumers' request inboxes.
        if nc.is_connected:
            await nc.flush()
        await nc.close()
    return applied


def main(coro):
    try:
        asyncio.run(coro)
    except KeyboardInterrupt:
        pass
