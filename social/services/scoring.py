"""Engagement scores and advocate tiers, recomputed set-based (one statement each).

score(contact) = Σ weight · 0.5^(age_days / half_life) over the horizon, over the contact's social
engagements (weight by platform and kind) and the responses to messages sent to them on every
channel (opened, clicked, replied: MESSAGE_WEIGHTS).
advocate score = (positive comments + 3·shares + 3·mentions − 2·negatives) · (1 + log10(1 + reach)),
for contacts with at least SOCIAL_ADVOCATE_MIN_ACTIONS positive actions in the window.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from madansara.audit import audit_record
from madansara.channels.models import Message, MessageEvent
from madansara.contacts.models import Tag
from social.models import AdvocateTier, EngagementKind, EngagementWeight, Platform, ReviewStatus, SocialAdvocate

DEFAULT_WEIGHTS = {"like": 1.0, "comment": 3.0, "reply": 3.0, "share": 5.0, "mention": 4.0, "save": 2.0, "dm": 4.0}
DEFAULT_TIERS = {"champion": 60.0, "advocate": 25.0, "rising": 8.0}
MESSAGE_WEIGHTS = {"opened": 1.0, "clicked": 3.0, "replied": 5.0}  # a campaign's opens count too


def score_weights() -> dict[tuple[str, str], float]:
    """Effective weight of every (platform, kind): platform row > any-platform row > default."""
    defaults = DEFAULT_WEIGHTS | dict(settings.SOCIAL_ENGAGEMENT_WEIGHTS)
    rows = {(w.platform, w.kind): w.weight for w in EngagementWeight.objects.all()}
    weights = {}
    for platform in Platform.values:
        for kind in EngagementKind.values:
            weights[(platform, kind)] = rows.get((platform, kind), rows.get(("", kind), defaults.get(kind, 0.0)))
    return weights


def decayed(weight: float, age_days: float, half_life_days: float) -> float:
    """The contribution of one event: its weight halved every half-life (the SQL does the same)."""
    return weight * math.pow(0.5, age_days / half_life_days)


def _ts(value: datetime):
    """A timestamp parameter: aware on PostgreSQL, Django's text form on SQLite."""
    if connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def _age_days(column: str) -> str:
    if connection.vendor == "postgresql":
        # date_part is float8; EXTRACT is numeric since PostgreSQL 14 (and EXP(numeric) is slow)
        return f"(date_part('epoch', %s::timestamptz - {column}) / 86400.0)"
    return f"(julianday(%s) - julianday({column}))"


def _after(column: str) -> str:
    return f"{column} > %s" if connection.vendor == "postgresql" else f"julianday({column}) > julianday(%s)"


def _not_after(column: str) -> str:
    return f"{column} <= %s" if connection.vendor == "postgresql" else f"julianday({column}) <= julianday(%s)"


def _weights_values(weights: dict[tuple[str, str], float]) -> tuple[str, list]:
    """A VALUES list of (platform, kind, weight): columns column1..column3 on both databases."""
    rows = [(p, k, float(w)) for (p, k), w in weights.items() if w]
    cast = "::float8" if connection.vendor == "postgresql" else ""
    values = ", ".join(f"(%s, %s, %s{cast})" for _ in rows) or f"(NULL, NULL, 0{cast})"
    return f"(VALUES {values})", [v for row in rows for v in row]


def _more_work_mem(cursor) -> None:
    """Let the per-contact aggregate stay in memory (this transaction only)."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = %s", [settings.SOCIAL_SCORING_WORK_MEM])


@transaction.atomic
def engagement_scores_recompute(*, now: datetime | None = None) -> int:
    """Write every contact's decayed engagement score in one UPDATE … FROM; returns rows changed.

    Contacts whose events all left the horizon are in the same statement (as zero), so the
    work is one scan of the events, one of the scored contacts, and the rows that changed."""
    sql, params = scores_update_sql(now=now or timezone.now())
    with connection.cursor() as cursor:
        _more_work_mem(cursor)
        cursor.execute(sql, params)
        return cursor.rowcount


def scores_update_sql(*, now: datetime) -> tuple[str, list]:
    """The score UPDATE and its parameters (also for EXPLAIN in the benchmark)."""
    half_life = float(settings.SOCIAL_SCORE_HALF_LIFE_DAYS)
    horizon = now - timedelta(days=int(settings.SOCIAL_SCORE_HORIZON_DAYS))
    values, weight_params = _weights_values(score_weights())
    message_weights = MESSAGE_WEIGHTS
    kinds = ", ".join(f"'{kind}'" for kind in message_weights)  # fixed names above, not input
    by_kind = " ".join("WHEN %s THEN %s" for _ in message_weights)
    decay = -math.log(2) / half_life
    pg = connection.vendor == "postgresql"
    rounded = "ROUND(SUM(score)::numeric, 3)::float8" if pg else "ROUND(SUM(score), 3)"
    # One statement that starts with UPDATE (SQLite reports no rowcount for WITH … UPDATE).
    sql = f"""
        UPDATE outreach_contact SET engagement_score = target.score
        FROM (
            SELECT contact_id, {rounded} AS score
            FROM (
                SELECT e.contact_id,
                    w.column3 * EXP({decay} * {_age_days("e.occurred_at")}) AS score
                FROM social_socialengagement e
                JOIN {values} w ON w.column1 = e.platform AND w.column2 = e.kind
                WHERE e.contact_id IS NOT NULL AND {_after("e.occurred_at")} AND {_not_after("e.occurred_at")}
                UNION ALL
                SELECT m.contact_id,
                    (CASE e.kind {by_kind} ELSE 0 END) * EXP({decay} * {_age_days("e.occurred_at")}) AS score
                FROM {MessageEvent._meta.db_table} e
                JOIN {Message._meta.db_table} m ON m.id = e.message_id
                WHERE m.contact_id IS NOT NULL AND e.kind IN ({kinds})
                    AND {_after("e.occurred_at")} AND {_not_after("e.occurred_at")}
                UNION ALL
                SELECT id, 0 FROM outreach_contact WHERE engagement_score <> 0
            ) scores
            GROUP BY contact_id
            ORDER BY contact_id  -- rows are then updated in heap order, not at random
        ) target
        WHERE outreach_contact.id = target.contact_id AND outreach_contact.engagement_score <> target.score
    """
    message_params = [v for kind, weight in message_weights.items() for v in (kind, float(weight))]
    return sql, [
        *(_ts(now), *weight_params, _ts(horizon), _ts(now)),
        *(*message_params, _ts(now), _ts(horizon), _ts(now)),
    ]


@transaction.atomic
def advocates_recompute(*, now: datetime | None = None) -> dict[str, int]:
    """Upsert SocialAdvocate rows with score and tier; contacts who no longer qualify drop to 'none'."""
    now = now or timezone.now()
    since = now - timedelta(days=int(settings.SOCIAL_ADVOCATE_WINDOW_DAYS))
    tiers = DEFAULT_TIERS | dict(settings.SOCIAL_ADVOCATE_TIERS)
    min_actions = int(settings.SOCIAL_ADVOCATE_MIN_ACTIONS)
    pg = connection.vendor == "postgresql"
    ln10 = math.log(10)
    positive = "e.kind IN ('comment', 'reply') AND e.sentiment = 'positive'"
    sql = f"""
        INSERT INTO social_socialadvocate
            (contact_id, score, tier, positive_comments, shares, mentions, reach, last_engaged_at,
             review_status, updated_at)
        SELECT contact_id, {"ROUND(score::numeric, 3)::float8" if pg else "ROUND(score, 3)"},
            CASE WHEN score >= %s THEN 'champion' WHEN score >= %s THEN 'advocate'
                 WHEN score >= %s THEN 'rising' ELSE 'none' END,
            positive_comments, shares, mentions, reach, last_engaged_at, %s, %s
        FROM (
            SELECT agg.*, (positive_comments + 3 * shares + 3 * mentions - 2 * negatives)
                * (1 + LN(1 + reach) / {ln10}) AS score
            FROM (
                SELECT e.contact_id,
                    SUM(CASE WHEN {positive} THEN 1 ELSE 0 END) AS positive_comments,
                    SUM(CASE WHEN e.kind = 'share' THEN 1 ELSE 0 END) AS shares,
                    SUM(CASE WHEN e.kind = 'mention' AND e.sentiment <> 'negative' THEN 1 ELSE 0 END) AS mentions,
                    SUM(CASE WHEN e.sentiment = 'negative' THEN 1 ELSE 0 END) AS negatives,
                    MAX(e.author_followers) AS reach,
                    MAX(e.occurred_at) AS last_engaged_at
                FROM social_socialengagement e
                WHERE e.contact_id IS NOT NULL AND {_after("e.occurred_at")} AND {_not_after("e.occurred_at")}
                GROUP BY e.contact_id
            ) agg
            WHERE positive_comments + shares + mentions >= %s
        ) scored
        WHERE true
        ON CONFLICT (contact_id) DO UPDATE SET
            score = excluded.score, tier = excluded.tier, positive_comments = excluded.positive_comments,
            shares = excluded.shares, mentions = excluded.mentions, reach = excluded.reach,
            last_engaged_at = excluded.last_engaged_at, updated_at = excluded.updated_at
    """
    params = [
        tiers["champion"],
        tiers["advocate"],
        tiers["rising"],
        ReviewStatus.TO_REVIEW,
        _ts(now),
        _ts(since),
        _ts(now),
        min_actions,
    ]
    with connection.cursor() as cursor:
        _more_work_mem(cursor)
        cursor.execute(sql, params)
        upserted = cursor.rowcount
        cursor.execute(
            "UPDATE social_socialadvocate SET tier = 'none', score = 0, updated_at = %s "
            "WHERE updated_at <> %s AND tier <> 'none'",
            [_ts(now), _ts(now)],
        )
        demoted = cursor.rowcount
    return {"upserted": upserted, "demoted": demoted}


@transaction.atomic
def advocates_enrol(*, advocates, actor, tag: str | None = None) -> int:
    """Enrol advocates in the advocate campaign: tag their contacts (campaign audiences select the tag)."""
    tag_obj, _ = Tag.objects.get_or_create(name=tag or settings.SOCIAL_ADVOCATE_CAMPAIGN_TAG)
    advocates = list(advocates.exclude(review_status=ReviewStatus.ENROLLED).exclude(tier=AdvocateTier.NONE))
    through = tag_obj.contacts.through
    through.objects.bulk_create(
        [through(contact_id=a.contact_id, tag_id=tag_obj.pk) for a in advocates], ignore_conflicts=True
    )
    now = timezone.now()
    SocialAdvocate.objects.filter(pk__in=[a.pk for a in advocates]).update(
        review_status=ReviewStatus.ENROLLED, enrolled_at=now
    )
    for advocate in advocates:
        audit_record(actor=actor, action="social.advocate.enrol", target=advocate, data={"tag": tag_obj.name})
    return len(advocates)


@transaction.atomic
def advocates_dismiss(*, advocates, actor) -> int:
    """Take advocates off the review list."""
    advocates = list(advocates)
    SocialAdvocate.objects.filter(pk__in=[a.pk for a in advocates]).update(review_status=ReviewStatus.DISMISSED)
    for advocate in advocates:
        audit_record(actor=actor, action="social.advocate.dismiss", target=advocate)
    return len(advocates)
