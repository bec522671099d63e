"""pagewire's alert topic to a webhook: one HTTP POST per alert, retried until it is taken.

Follows `articles.alert.>` (stream ARTICLES_ALERT) with a durable consumer of its own, as the
`alert` user of deploy/nats/accounts.conf, and POSTs each alert as JSON to ALERT_WEBHOOK_URL:

    {"id": ..., "revision": ..., "rules": ["rule-a", ...], "headline": ..., "lead": ...,
     "kind": ..., "page": {"publication": ..., "issue_date": ..., "page_number": ...,
     "page_label": ...}, "withdrawn": false, "subject": ..., "msg_id": ...}

with the headers `Content-Type: application/json` and `Idempotency-Key: <Nats-Msg-Id>` (one key
per article revision; a receiver that keeps the keys it has seen shows each alert once even
when one is sent twice, see below). `rules` are the alert rules that matched (header
`Pagewire-Alert`). A withdrawal (a corrected page no longer has the article) is posted too,
with `"withdrawn": true` and no text.

Delivery: the message is acked only after the webhook answered 2xx. A connection error, a
timeout, 408, 429 or 5xx is retried with exponential backoff (`--backoff` doubling up to
`--backoff-max`; a numeric Retry-After is honoured within that cap), at most `--attempts` times;
then the message is nak'ed with a delay and JetStream delivers it again later (nothing is lost
while the receiver is down; the rest of the batch waits too). Any other 4xx means the receiver
refuses this alert: it is logged and termed, never retried. A crash between the 2xx and the ack
sends that one alert again: the Idempotency-Key is the receiver's way to drop it.

Run (settings as flags or environment variables, see pagewire_sub.py):

    PYTHONPATH=examples/python/gen NATS_USER=alert NATS_PASSWORD=alert-example \\
    ALERT_WEBHOOK_URL=https://hooks.example.org/pagewire \\
      .tools/venv/bin/python examples/subscribers/alert.py
"""

import argparse
import asyncio
import json
import sys
import urllib.error
import urllib.request

import pagewire_sub as sub

RETRYABLE = {408, 425, 429}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=sub.env("ALERT_WEBHOOK_URL"), help="ALERT_WEBHOOK_URL")
    p.add_argument("--attempts", type=int, default=6, help="POSTs per alert before a nak")
    p.add_argument("--backoff", type=float, default=0.5, help="first retry delay, seconds")
    p.add_argument("--backoff-max", type=float, default=30.0, help="longest retry delay")
    p.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout per POST")
    p.add_argument(
        "--redeliver-after",
        type=float,
        default=60.0,
        help="seconds until JetStream delivers an alert again once its attempts are used up",
    )
    sub.nats_args(p, durable="alert-webhook")
    args = p.parse_args(argv)
    if not args.url:
        p.error("no webhook: set ALERT_WEBHOOK_URL or --url")
    return args


def payload(msg, article):
    rules = [r.strip() for r in sub.header(msg, "Pagewire-Alert", "").split(",") if r.strip()]
    pos = article.page
    return {
        "id": article.id,
        "revision": article.revision,
        "version": article.version,
        "rules": rules,
        "headline": article.headline,
        "lead": article.paragraphs[0] if article.paragraphs else "",
        "kind": sub.kind_name(article),
        "page": {
            "publication": pos.publication,
            "issue_date": pos.issue_date,
            "edition": pos.edition,
            "page_number": pos.page_number,
            "page_label": pos.page_label,
        },
        "withdrawn": article.withdrawn,
        "subject": msg.subject,
        "msg_id": sub.header(msg, "Nats-Msg-Id", ""),
    }


def post(url, body, key, timeout):
    """One POST. Returns (status, retry_after seconds or None); status 0 for no answer."""
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "User-Agent": "pagewire-alert-webhook",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, None
    except urllib.error.HTTPError as e:
        retry_after = e.headers.get("Retry-After", "")
        return e.code, float(retry_after) if retry_after.isdigit() else None
    except (urllib.error.URLError, OSError) as e:
        sub.log(f"webhook: no answer ({e})")
        return 0, None


async def deliver(args, msg, doc):
    """POSTs until 2xx (True), a refusal (False) or the attempts are used up (None)."""
    body = json.dumps(doc, ensure_ascii=False).encode()
    key = doc["msg_id"] or f"{doc['id']}:{doc['revision']}:{doc['version']}:alert"
    delay = args.backoff
    for attempt in range(1, args.attempts + 1):
        status, retry_after = await asyncio.to_thread(post, args.url, body, key, args.timeout)
        if 200 <= status < 300:
            sub.log(f"{msg.subject}  posted  {doc['id']}  revision {doc['revision']}  ({status}, attempt {attempt})")
            return True
        if 400 <= status < 500 and status not in RETRYABLE:
            sub.log(f"{msg.subject}  REFUSED  {doc['id']}  revision {doc['revision']}: HTTP {status}, not retried")
            return False
        if attempt == args.attempts:
            break
        wait = min(retry_after if retry_after is not None else delay, args.backoff_max)
        sub.log(f"{msg.subject}  retry  {doc['id']}  HTTP {status or 'no answer'}, again in {wait:.1f}s")
        await asyncio.sleep(wait)
        delay = min(delay * 2, args.backoff_max)
    return None


async def forward(args):
    async def apply_batch(source, msgs):
        for i, msg in enumerate(msgs):
            if sub.message_type(msg) != sub.ARTICLE:
                await msg.term()
                continue
            doc = payload(msg, sub.decode_article(msg))
            outcome = await deliver(args, msg, doc)
            if outcome is None:
                sub.log(
                    f"webhook down after {args.attempts} attempts: {len(msgs) - i} alert(s) "
                    f"come again in {args.redeliver_after:.0f}s"
                )
                for rest in msgs[i:]:
                    await rest.nak(delay=args.redeliver_after)
                return []
            if outcome:
                await msg.ack()
            else:
                await msg.term()
        return []  # each settled above, right after its POST

    source = sub.Source("ARTICLES_ALERT", "articles.alert", args.durable)
    n = await sub.run(args, "pagewire-alert", [source], apply_batch)
    sub.log(f"{n} messages")


def main(argv=None):
    sub.main(forward(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
