"""Stream checks of scripts/test-containers, run on the host against the compose stack's NATS.

    NATS_URL=nats://127.0.0.1:PORT python containers-check.py seed
    ... wait-processing N T # until N of T backfill pages are processed (fails if all T are)
    ... drained             # until consumer `pagewire` has acked every page
    ... backfill N          # the seed plus N copies: nothing lost, nothing twice

Connects as `admin` (deploy/nats/accounts.conf's example password). "Twice" means one
Nats-Msg-Id stored twice in a stream (a new revision of an article has a new id). "Lost" is
counted by article ids: every page carries the seed's articles, so each article stream must
hold the seed's count of distinct article ids times the pages, and the page records one per
page. The seed's counts are kept in .tools/containers/seed.json between the commands.
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import nats

STREAMS = ["ARTICLES_SEARCH", "ARTICLES_ARCHIVE", "ARTICLES_ALERT", "PAGES_ARCHIVE"]
SEED_FILE = Path(__file__).resolve().parent.parent / ".tools" / "containers" / "seed.json"
WAIT = 240


def say(*a):
    print("containers-check:", *a, file=sys.stderr, flush=True)


async def connect():
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return await nats.connect(
                os.environ["NATS_URL"],
                user="admin",
                password="admin-example",
                max_reconnect_attempts=-1,
            )
        except Exception as e:  # the cluster may still be electing
            if time.monotonic() > deadline:
                raise SystemExit(f"cannot connect to {os.environ['NATS_URL']}: {e}")
            await asyncio.sleep(1)


async def retry(f):
    """Calls f until it answers: a stream whose leader is being elected answers nothing."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return await f()
        except Exception as e:
            if time.monotonic() > deadline:
                raise
            say(f"retrying after: {type(e).__name__} {e}")
            await asyncio.sleep(1)


async def messages(js, stream):
    """Nats-Msg-Id of every message in the stream, in order."""
    info = await retry(lambda: js.stream_info(stream))
    ids = []
    if info.state.messages == 0:
        return ids
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        m = await retry(lambda: js.get_msg(stream, seq))
        ids.append((m.headers or {}).get("Nats-Msg-Id", ""))
    return ids


def article_id(msg_id):
    return msg_id.split(":")[0]


async def counts(js):
    """stream -> (messages, distinct message ids, distinct article ids, ids stored twice)."""
    out = {}
    for s in STREAMS:
        ids = await messages(js, s)
        twice = sorted({i for i in ids if ids.count(i) > 1}) if len(ids) != len(set(ids)) else []
        out[s] = (len(ids), len(set(ids)), len({article_id(i) for i in ids}), twice)
    return out


async def consumer_drained(js, pages):
    info = await retry(lambda: js.consumer_info("PAGES", "pagewire"))
    return (
        info.num_pending == 0
        and info.num_ack_pending == 0
        and info.delivered.stream_seq >= pages
    ), info


async def wait_drained(js, pages):
    deadline = time.monotonic() + WAIT
    while True:
        ok, info = await consumer_drained(js, pages)
        if ok:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"consumer pagewire not drained within {WAIT}s: {info}")
        await asyncio.sleep(1)


async def dlq(js):
    return (await retry(lambda: js.stream_info("PAGES_DLQ"))).state.messages


async def main(cmd, arg):
    nc = await connect()
    js = nc.jetstream()
    failed = []
    if cmd == "seed":
        await wait_drained(js, 1)
        # The page records are the last the service writes for a page: wait for the page's.
        deadline = time.monotonic() + WAIT
        while (await retry(lambda: js.stream_info("PAGES_ARCHIVE"))).state.messages < 1:
            if time.monotonic() > deadline:
                raise SystemExit("no page record for the seed page")
            await asyncio.sleep(1)
        c = await counts(js)
        for s, (n, distinct, articles, twice) in c.items():
            say(f"{s}: {n} messages, {distinct} distinct ids, {articles} article ids")
            if n == 0:
                failed.append(f"{s} is empty: the seed page did not reach it")
            if twice:
                failed.append(f"{s}: stored twice {twice}")
        if (d := await dlq(js)) != 0:
            failed.append(f"PAGES_DLQ holds {d} dead letters")
        SEED_FILE.write_text(
            json.dumps(
                {
                    "articles": {s: v[2] for s, v in c.items()},
                    "messages": {s: v[0] for s, v in c.items()},
                }
            )
        )
    elif cmd == "wait-processing":
        want = 1 + int(arg)
        deadline = time.monotonic() + WAIT
        while (n := (await retry(lambda: js.stream_info("PAGES_ARCHIVE"))).state.messages) < want:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {n} page records after {WAIT}s, waiting for {want}")
            await asyncio.sleep(0.2)
        say(f"{n} page records stored: processing is under way")
        total = 1 + int(sys.argv[3])
        if n >= total:
            raise SystemExit(f"all {total} pages processed already: a kill now is not mid-backfill")
    elif cmd == "drained":
        pages = 1 + int(arg) if arg else 1
        await wait_drained(js, pages)
        say("consumer pagewire has acked every page")
    elif cmd == "backfill":
        pages = 1 + int(arg)
        await wait_drained(js, pages)
        raw = (await retry(lambda: js.stream_info("PAGES"))).state.messages
        if raw != pages:
            failed.append(f"PAGES holds {raw} pages, published {pages}")
        seed = json.loads(SEED_FILE.read_text())["articles"]
        c = await counts(js)
        for s, (n, distinct, articles, twice) in c.items():
            want = seed[s] * pages
            say(f"{s}: {n} messages, {distinct} distinct ids, {articles} article ids (want {want})")
            if twice:
                failed.append(f"{s}: {len(twice)} ids stored twice, e.g. {twice[:3]}")
            if articles != want:
                failed.append(f"{s}: {articles} article ids, want {want} ({seed[s]} x {pages} pages)")
        if (d := await dlq(js)) != 0:
            failed.append(f"PAGES_DLQ holds {d} dead letters")
    else:
        raise SystemExit(f"unknown command {cmd}")
    await nc.close()
    if failed:
        for f in failed:
            say("FAIL:", f)
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
