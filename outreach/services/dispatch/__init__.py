"""The dispatcher: claim due outbox rows under a lease, send them one at a time, exactly once.

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` picks a batch that no other
dispatcher holds and marks it claimed with a lease; on SQLite each row is claimed with a
conditional single-row UPDATE (it must touch exactly one row). A row whose lease expired (its
worker died) is due again.

Exactly once: each row is sent through the channel layer, which claims the channels `Message`
(queued → sending) before calling the provider, and the row's outcome is recorded right after
— never a whole batch at the end. A crash can leave three states, each resolved on re-claim:
  * no Message yet, or a queued one → nothing was sent; send it;
  * the Message is final (sent/failed) → the send happened; record it on the row;
  * the Message is `sending` → ambiguous: the worker died around the provider call. Our
    message id travelled to the provider (payload.message_id), so if the provider offers
    `lookup(message_id)` we ask it: found → record that success without sending; not found →
    send again. A provider without lookup gets the same message id again, for its own
    idempotency/dedup (at-least-once only in that narrow window). A lease (OUTREACH_LEASE_SECONDS, 60 s) is longer
    than any provider timeout, so an expired lease means its worker is gone, not slow.

The hot path (outbox_send_batch): a claimed batch is loaded in one query with its guards;
rows needing care (an earlier message, a budget cap, a hold) take outbox_send_one, the others
are rendered and get their queued Messages in one INSERT and one link UPDATE. Then each is sent
on its own: the provider call, then one commit (one statement on PostgreSQL) recording the
attempt, the message and row sent, the engagement — and claiming the next message (queued →
sending), so the states above still hold message by message. The day's spend (one row every
dispatcher updates) is added once per batch; a worker killed mid-batch under-counts it by the
messages it recorded in that batch (budget-capped campaigns take the exact careful path).
"""

from outreach.services.dispatch.batch import outbox_dispatch, outbox_retry_now, outbox_send_batch
from outreach.services.dispatch.claim import outbox_claim
from outreach.services.dispatch.send_one import outbox_send_one
from outreach.services.dispatch.shared import MAX_ATTEMPTS, backoff_seconds, lease, worker_name

__all__ = [
    "MAX_ATTEMPTS",
    "backoff_seconds",
    "lease",
    "outbox_claim",
    "outbox_dispatch",
    "outbox_retry_now",
    "outbox_send_batch",
    "outbox_send_one",
    "worker_name",
]
