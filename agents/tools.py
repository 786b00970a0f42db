"""What an agent can do, as plain functions of a Principal (the MCP server wraps them).

Every function checks the key's scope and the owner's role, writes an audit row naming the key,
and returns JSON-ready data. Action-taking tools go through the action policy: a send waits in
the review queue ("queued for approval"), goes out ("sent"), or is refused with the reason;
campaign drafts and conversions under approval wait as agent action requests (agents.services).
"""

import json
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from abtesting import selectors as abtesting_selectors
from abtesting.models import ABTest
from agents import services as agent_services
from agents.principal import Principal, ToolRefused
from bestpractices import selectors as bestpractices_selectors
from bestpractices.models import Recommendation, RecommendationStatus
from conversion import selectors as conversion_selectors
from inbox.models import Conversation, ConversationStatus, Direction, DraftStatus, ReplyDraft
from inbox.services.drafts import reply_subject
from madansara.contacts import selectors as contact_selectors
from madansara.contacts.models import Contact
from madansara.models import PolicyAction, PolicyTier
from outreach import selectors as outreach_selectors
from outreach.models import ChannelTemplate, ContactEngagement, OutreachCampaign, Segment
from outreach.services.direct import (
    IdempotencyConflict,
    SendRefused,
    contact_resolve,
    direct_send_request,
    request_fingerprint,
)
from website.api.serializers import FunnelResultSerializer
from website.funnels import FunnelSpec, funnel_compute
from website.models import FunnelDefinition

MAX_LIMIT = 100


def _json(value):
    """Plain JSON types (dates as ISO strings, decimals as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


# --- contacts ------------------------------------------------------------------------------------
def _contact_card(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "name": contact.name,
        "external_id": contact.external_id,
        "lifecycle_stage": contact.lifecycle_stage,
        "timezone": contact.timezone,
        "locale": contact.locale,
        "identities": [{"channel": i.channel, "value": i.value, "valid": i.is_valid} for i in contact.identities.all()],
        "consent": {c.channel: c.status for c in contact.consents.all()},
        "tags": [t.name for t in contact.tags.all()],
    }


def search_contacts(principal: Principal, *, query: str, limit: int = 20) -> dict:
    principal.require("contacts", "read")
    text = query.strip()
    contacts = contact_selectors.contacts_list()
    if text:
        matches = Contact.objects.filter(
            Q(name__icontains=text) | Q(external_id__iexact=text) | Q(identities__value__icontains=text.lower())
        ).values("pk")
        contacts = contacts.filter(pk__in=matches)
    found = [_contact_card(c) for c in contacts.order_by("-id")[: _limit(limit)]]
    principal.audit(tool="search_contacts", query=text, results=len(found))
    return {"count": len(found), "contacts": found}


def contact_360(principal: Principal, *, contact_id: int) -> dict:
    principal.require("contacts", "read")
    contact = contact_selectors.contacts_list(include_inactive=True).filter(pk=contact_id).first()
    if contact is None:
        raise ToolRefused(f"No contact #{contact_id}.")
    view = _contact_card(contact) | {
        "attributes": contact.attributes,
        "engagement_score": contact.engagement_score,
        "active": contact.is_active,
        "consent_history": list(contact.consent_events.values("channel", "status", "source", "occurred_at")[:20]),
    }
    omitted = []
    if principal.can("outreach"):
        view["channel_engagement"] = list(
            ContactEngagement.objects.filter(contact=contact).values(
                "channel", "sent", "delivered", "opened", "clicked", "replied", "score", "best_hour"
            )
        )
        view["campaigns"] = list(
            contact.enrollments.values("campaign_id", "campaign__name", "state", "position", "enrolled_at")
        )
        view["direct_sends"] = list(contact.direct_sends.values("id", "channel", "status", "created_at")[:10])
    else:
        omitted.append("campaigns and engagement (needs outreach:read)")
    if principal.can("inbox"):
        view["conversations"] = list(
            contact.conversations.values("id", "channel", "status", "latest_intent", "last_message_at")[:20]
        )
    else:
        omitted.append("conversations (needs inbox:read)")
    if principal.can("conversion"):
        journey = conversion_selectors.contact_journey(contact_id=contact.pk)
        view["journey"] = {
            "touchpoints": [
                {"channel": t.channel, "source": getattr(t, "source", ""), "occurred_at": t.occurred_at}
                for t in journey["touchpoints"]
            ],
            "conversions": [
                {"type": c.conversion_type.code, "value": c.value, "currency": c.currency, "occurred_at": c.occurred_at}
                for c in journey["conversions"]
            ],
        }
    else:
        omitted.append("journey and conversions (needs conversion:read)")
    view["omitted"] = omitted
    principal.audit(tool="contact_360", target=contact)
    return _json(view)


# --- inbox ---------------------------------------------------------------------------------------
def conversations_needing_attention(principal: Principal, *, limit: int = 20) -> dict:
    """Open conversations awaiting our reply, the most urgent SLA first."""
    principal.require("inbox", "read")
    rows = (
        Conversation.objects.filter(
            awaiting_reply=True, status__in=[ConversationStatus.OPEN, ConversationStatus.PENDING]
        )
        .select_related("contact", "assignee")
        .order_by(
            F("next_response_due").asc(nulls_last=True),
            F("first_response_due").asc(nulls_last=True),
            "-last_message_at",
        )
    )
    personal = principal.can("contacts")
    items = []
    for conversation in rows[: _limit(limit)]:
        pending = conversation.drafts.filter(status=DraftStatus.PENDING).values_list("id", flat=True).first()
        item = {
            "id": conversation.pk,
            "channel": conversation.channel,
            "status": conversation.status,
            "priority": conversation.priority,
            "intent": conversation.latest_intent,
            "sentiment": conversation.latest_sentiment,
            "sla": conversation.sla_state(),
            "response_due": conversation.response_due,
            "last_message_at": conversation.last_message_at,
            "assignee": conversation.assignee.get_username() if conversation.assignee else None,
            "pending_draft_id": pending,
            "contact_id": conversation.contact_id,
        }
        if personal:
            item["contact_name"] = conversation.contact.name if conversation.contact else ""
            item["subject"] = conversation.subject
        items.append(item)
    principal.audit(tool="conversations_needing_attention", results=len(items))
    return _json({"count": len(items), "conversations": items})


def read_conversation(principal: Principal, *, conversation_id: int) -> dict:
    principal.require("inbox", "read")
    conversation = Conversation.objects.filter(pk=conversation_id).select_related("contact").first()
    if conversation is None:
        raise ToolRefused(f"No conversation #{conversation_id}.")
    entries = []
    for entry in conversation.entries.select_related("inbound", "outbound", "author"):
        source = entry.inbound if entry.direction == Direction.INBOUND else entry.outbound
        entries.append(
            {
                "direction": "customer" if entry.direction == Direction.INBOUND else "us",
                "at": entry.created_at,
                "subject": source.subject,
                "text": source.text,
                "by": entry.author.get_username() if entry.author else ("auto" if entry.auto_sent else None),
            }
        )
    drafts = list(conversation.drafts.filter(status=DraftStatus.PENDING).values("id", "source", "text", "created_at"))
    principal.audit(tool="read_conversation", target=conversation)
    return _json(
        {
            "id": conversation.pk,
            "channel": conversation.channel,
            "status": conversation.status,
            "subject": conversation.subject,
            "intent": conversation.latest_intent,
            "contact_id": conversation.contact_id,
            "sla": conversation.sla_state(),
            "messages": entries,
            "pending_drafts": drafts,
        }
    )


def propose_reply(principal: Principal, *, conversation_id: int, text: str) -> dict:
    """A draft in the human review queue (never sent by the agent)."""
    principal.require("inbox", "write", perms=("inbox.add_replydraft",))
    try:
        principal.tier(PolicyAction.PROPOSE_REPLY)
    except ToolRefused as exc:
        principal.audit(tool="propose_reply", outcome="refused", reason=str(exc))
        raise
    if not text.strip():
        raise ToolRefused("The reply is empty.")
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise ToolRefused(f"No conversation #{conversation_id}.")
    latest = conversation.entries.filter(direction=Direction.INBOUND).select_related("inbound").last()
    if latest is None:
        raise ToolRefused("The conversation has no customer message to reply to.")
    with transaction.atomic():
        ReplyDraft.objects.filter(conversation=conversation, status=DraftStatus.PENDING).update(
            status=DraftStatus.SUPERSEDED
        )
        draft = ReplyDraft.objects.create(
            conversation=conversation,
            inbound=latest.inbound,
            source="agent",
            subject=reply_subject(conversation, latest.inbound),
            text=text.strip(),
            intent=conversation.latest_intent,
            sla_due_at=conversation.response_due,
        )
        principal.audit(tool="propose_reply", target=draft, outcome="queued for approval")
    return {"status": "queued for approval", "draft_id": draft.pk, "message": "The reply is in the review queue."}


# --- sending -------------------------------------------------------------------------------------
def send_message(
    principal: Principal,
    *,
    contact_id: int | None = None,
    email: str = "",
    phone: str = "",
    text: str = "",
    subject: str = "",
    template: str = "",
    channel: str = "",
    idempotency_key: str = "",
) -> dict:
    principal.require("outreach", "write", perms=("outreach.add_directsend",))
    request = {k: v for k, v in locals().items() if k not in ("principal", "idempotency_key") and v}
    try:
        contact = contact_resolve(contact_id=contact_id, email=email, phone=phone)
    except (Contact.DoesNotExist, Contact.MultipleObjectsReturned, ValidationError) as exc:
        raise ToolRefused("No single active contact matches.") from exc
    try:
        send, replayed = direct_send_request(
            contact=contact, actor=principal.user, text=text, subject=subject, template_name=template,
            channel=channel, api_key=principal.key, via="mcp", idempotency_key=idempotency_key,
            fingerprint=request_fingerprint(request),
        )  # fmt: skip
    except SendRefused as exc:
        raise ToolRefused(f"Refused by the action policy: {exc}") from exc
    except IdempotencyConflict as exc:
        raise ToolRefused(str(exc)) from exc
    except ValidationError as exc:
        raise ToolRefused(" ".join(exc.messages)) from exc
    principal.audit(tool="send_message", target=send, outcome=send.outcome, replayed=replayed)
    status = {"awaiting_approval": "queued for approval", "sent": "sent"}.get(send.status, send.status)
    return _json(
        {
            "status": status,
            "outcome": send.outcome,
            "send_id": send.pk,
            "channel": send.channel,
            "due_at": send.due_at,
            "replayed": replayed,
        }
    )


def _act(principal: Principal, *, action: str, tool: str, arguments: dict, done: str) -> dict:
    """An action under the action policy: refused, held for a person's approval, or done now."""
    try:
        tier = principal.tier(action)
    except ToolRefused as exc:
        principal.audit(tool=tool, outcome="refused", reason=str(exc))
        raise
    _, effect, _ = agent_services.ACTIONS[action]
    try:
        if tier == PolicyTier.APPROVAL:
            request = agent_services.action_request_queue(
                action=action, arguments=arguments, api_key=principal.key, user=principal.user
            )
            principal.audit(tool=tool, target=request, outcome="queued for approval")
            return {
                "status": "queued for approval",
                "request_id": request.pk,
                "message": "Nothing is done until a person approves it in the console (agent action requests).",
            }
        result = effect(**arguments)
    except ValidationError as exc:
        raise ToolRefused(" ".join(exc.messages)) from exc
    principal.audit(tool=tool, outcome=done, **result)
    return {"status": done} | result


def create_campaign_draft(
    principal: Principal, *, name: str, segment_id: int, channel: str, text: str, subject: str = ""
) -> dict:
    """A draft campaign with one send step; a marketer reviews and launches it in the console."""
    principal.require("outreach", "write", perms=("outreach.add_outreachcampaign",))
    arguments = {"name": name, "segment_id": segment_id, "channel": channel, "text": text, "subject": subject}
    answer = _act(
        principal, action=PolicyAction.CREATE_CAMPAIGN_DRAFT, tool="create_campaign_draft", arguments=arguments,
        done="draft created",
    )  # fmt: skip
    if answer["status"] == "draft created":
        answer["message"] = "The campaign is a draft: it sends nothing until a marketer launches it."
    return answer


# --- results -------------------------------------------------------------------------------------
def campaign_results(principal: Principal, *, campaign_id: int) -> dict:
    principal.require("outreach", "read")
    campaign = OutreachCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise ToolRefused(f"No campaign #{campaign_id}.")
    principal.audit(tool="campaign_results", target=campaign)
    return _json(
        {"name": campaign.name, "status": campaign.status} | outreach_selectors.campaign_results(campaign=campaign)
    )


def experiment_results(principal: Principal, *, experiment_key: str) -> dict:
    principal.require("abtesting", "read")
    test = ABTest.objects.filter(key=experiment_key).first()
    if test is None:
        raise ToolRefused(f"No experiment '{experiment_key}'.")
    snapshot = abtesting_selectors.latest_snapshot(test=test)
    principal.audit(tool="experiment_results", target=test)
    return _json(
        {
            "key": test.key,
            "name": test.name,
            "status": test.status,
            "primary_metric": test.primary_metric,
            "winner": getattr(test.winner, "key", None),
            "results": snapshot.results if snapshot else None,
            "computed_at": snapshot.computed_at if snapshot else None,
            "sample_ratio_mismatch": snapshot.has_srm if snapshot else None,
        }
    )


def funnel_results(principal: Principal, *, funnel_id: int, days: int = 30) -> dict:
    principal.require("website", "read")
    funnel = FunnelDefinition.objects.filter(pk=funnel_id).first()
    if funnel is None:
        raise ToolRefused(f"No funnel #{funnel_id}.")
    end = timezone.now()
    result = funnel_compute(FunnelSpec.for_funnel(funnel, start=end - timedelta(days=max(1, days)), end=end))
    principal.audit(tool="funnel_results", target=funnel)
    data = FunnelResultSerializer(
        {"steps": result.steps, "dropped": result.dropped, "breakdown": result.breakdown}
    ).data
    return _json({"funnel": funnel.name, "days": days, "steps": data["steps"], "breakdown": data["breakdown"]})


def attribution_results(principal: Principal, *, days: int = 30, by: str = "conversions") -> dict:
    principal.require("conversion", "read")
    until = timezone.now().date()
    since = until - timedelta(days=max(1, days))
    comparison = conversion_selectors.attribution_comparison(since=since, until=until, by=by)
    principal.audit(tool="attribution_results", days=days, by=by)
    return _json({"since": since, "until": until, "by": by} | comparison)


def record_conversion(
    principal: Principal,
    *,
    external_id: str,
    type: str,
    value: str = "0",
    currency: str = "USD",
    contact_id: int | None = None,
    occurred_at: str = "",
) -> dict:
    principal.require("conversion", "write", perms=("conversion.add_conversionevent",))
    arguments = {
        "external_id": external_id, "type": type, "value": str(value), "currency": currency,
        "contact_id": contact_id, "occurred_at": occurred_at,
    }  # fmt: skip
    answer = _act(
        principal, action=PolicyAction.RECORD_CONVERSION, tool="record_conversion", arguments=arguments,
        done="recorded",
    )  # fmt: skip
    if answer.pop("created", True) is False:
        answer["status"] = "already recorded"
    return answer


def best_practice_recommendations(
    principal: Principal, *, outcome: str = "", template_name: str = "", limit: int = 20
) -> dict:
    """What works (current practices with their adjusted lift, interval and evidence) and the open
    recommendations to change templates accordingly, largest expected lift first."""
    principal.require("bestpractices", "read")
    practices = bestpractices_selectors.practices_current(outcome=outcome or None)[: _limit(limit)]
    recommendations = Recommendation.objects.filter(status=RecommendationStatus.OPEN).select_related(
        "practice", "template"
    )
    if outcome:
        recommendations = recommendations.filter(practice__outcome=outcome)
    if template_name:
        recommendations = recommendations.filter(template__name=template_name)
    run = bestpractices_selectors.run_latest()
    principal.audit(tool="best_practice_recommendations", outcome_filter=outcome, template=template_name)
    return _json(
        {
            "computed_at": run.created_at if run else None,
            "sends_analysed": run.n_sends if run else 0,
            "method": run.method if run else {},
            "practices": [
                {
                    "id": p.pk,
                    "feature": p.feature,
                    "value": p.value,
                    "baseline": p.baseline,
                    "outcome": p.outcome,
                    "lift": p.lift,
                    "ci": [p.ci_low, p.ci_high],
                    "significant": p.significant,
                    "status": p.status,
                    "sends": p.n,
                }
                for p in practices
            ],
            "recommendations": [
                {
                    "id": r.pk,
                    "title": r.title,
                    "template": r.template.name if r.template else None,
                    "channel": r.template.channel if r.template else None,
                    "outcome": r.practice.outcome,
                    "expected_lift": r.expected_lift,
                    "change": r.change,
                    "significant": r.practice.significant,
                }
                for r in recommendations.order_by("-expected_lift", "pk")[: _limit(limit)]
            ],
        }
    )


# --- resources -----------------------------------------------------------------------------------
def templates_list(principal: Principal) -> list[dict]:
    principal.require("outreach", "read")
    return _json(list(ChannelTemplate.objects.values("id", "name", "channel", "subject", "text", "whatsapp_template")))


def segments_list(principal: Principal) -> list[dict]:
    principal.require("outreach", "read")
    return _json(list(Segment.objects.values("id", "name", "description", "is_static", "filters")))
