"""Models of the Madan Sara API, generated from its OpenAPI schema by generate_models.py."""
# ruff: noqa
from __future__ import annotations
from typing import Any, Literal
from pydantic import (
    AnyUrl,
    AwareDatetime,
    BaseModel,
    EmailStr,
    Field,
    RootModel,
    confloat,
    conint,
    constr,
)
from decimal import Decimal
from datetime import date
from uuid import UUID


class APIKey(BaseModel):
    id: int
    name: str
    prefix: str
    user: str
    scopes: Any
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None = Field(...)
    expires_at: AwareDatetime | None = Field(...)
    revoked_at: AwareDatetime | None = Field(...)
    is_active: bool


class APIKeyCreated(BaseModel):
    id: int
    name: str
    prefix: str
    user: str
    scopes: Any
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None = Field(...)
    expires_at: AwareDatetime | None = Field(...)
    revoked_at: AwareDatetime | None = Field(...)
    is_active: bool
    key: str = Field(..., description="Shown only in this response; store it now")


class ApproveRequest(BaseModel):
    text: constr(min_length=1, max_length=2000) | None = Field(
        None, description="Edited reply; default: the draft"
    )


class AssignRequest(BaseModel):
    assignee: int | None = Field(...)


class Assignments(BaseModel):
    assignments: dict[str, str] = Field(..., description="test key → variant key")


class CampaignRequest(BaseModel):
    name: constr(min_length=1, max_length=200)
    segment: int
    recurring: bool | None = Field(
        None, description="Re-evaluate the segment every day"
    )
    goal_conversion: (
        constr(pattern=r"^[-a-zA-Z0-9_]+$", max_length=50) | constr(max_length=0) | None
    ) = Field(None, description="Conversion type code that ends a contact's journey")
    holdout_percent: conint(ge=0, le=50) | None = Field(
        None, description="Control group that receives nothing"
    )
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    window_start_hour: conint(ge=0, le=23) | None = Field(
        None, description="Earliest local hour to send (contact's zone)"
    )
    window_end_hour: conint(ge=1, le=24) | None = Field(
        None, description="Sends stop at this hour"
    )
    send_weekdays: list[conint(ge=0, le=6)] | None = Field(
        None,
        description="Local weekdays to send on, 0 = Monday … 6 = Sunday; empty: every day",
        max_length=7,
    )
    daily_volume_cap: conint(ge=0) | None = None
    daily_spend_cap: Decimal | None = None
    sto_enabled: bool | None = Field(
        None, description="Send at each contact's best hour"
    )
    sto_control_percent: conint(ge=0, le=50) | None = Field(
        None, description="Share sent without STO, to measure it"
    )
    links: Any | None = Field(
        None, description='Tracked links: {"offer": "https://..."}'
    )
    subject_test: int | None = Field(
        None,
        description="A/B test whose variants carry {'subject': ...} for email sends",
    )
    send_test: int | None = Field(
        None,
        description='Send-time or channel experiment: each arm carries its own window ({"window_start_hour": 8, "window_end_hour": 12}), weekdays ({"send_weekdays": [1, 2]}) or channel ({"channel": "sms", "steps": [step ids]}); the planner assigns the arms',
    )


class CampaignStepRequest(BaseModel):
    campaign: int
    position: conint(ge=0)
    kind: Literal["send", "wait", "branch"] | None = Field(
        None, description="* `send` - Send\n* `wait` - Wait\n* `branch` - Branch"
    )
    channel: (
        Literal[
            "email",
            "sms",
            "whatsapp",
            "instagram",
            "facebook",
            "linkedin",
            "x",
            "chat",
            "auto",
        ]
        | Literal[""]
        | None
    ) = None
    templates: list[int] | None = None
    fallback_channels: Any | None = None
    wait_hours: conint(ge=0) | None = None
    branch_on: (
        Literal["reply", "click", "open", "conversion", "no_response"]
        | Literal[""]
        | None
    ) = None
    within_hours: conint(ge=0) | None = None
    goto_position: conint(ge=0) | None = Field(None, description="0 = next step")
    else_position: conint(ge=0) | None = Field(None, description="0 = next step")


class ChannelStatus(BaseModel):
    channel: str
    label: str
    provider: str
    live: bool = Field(
        ..., description="False: the sandbox answers (credentials missing)"
    )
    manual_approval_only: bool = Field(
        ..., description="Every message needs a human's approval (LinkedIn)"
    )


class ChannelTemplate(BaseModel):
    id: int
    name: constr(max_length=200)
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    subject: constr(max_length=998) | None = None
    html: str | None = None
    text: str | None = None
    whatsapp_template: constr(max_length=200) | None = Field(
        None, description="Approved template (ContentSid)"
    )
    whatsapp_variables: Any | None = Field(
        None, description='{"1": "{{ contact.first_name }}"}'
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ChannelTemplateRequest(BaseModel):
    name: constr(min_length=1, max_length=200)
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    subject: constr(max_length=998) | None = None
    html: str | None = None
    text: str | None = None
    whatsapp_template: constr(max_length=200) | None = Field(
        None, description="Approved template (ContentSid)"
    )
    whatsapp_variables: Any | None = Field(
        None, description='{"1": "{{ contact.first_name }}"}'
    )


class ConsentsWriteRequest(BaseModel):
    email: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    sms: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    whatsapp: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    instagram: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    facebook: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    linkedin: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    x: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    chat: Literal["opted_in", "unknown", "unsubscribed"] | None = Field(
        None,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )


class ConversionCreateRequest(BaseModel):
    external_id: constr(min_length=1, max_length=255) = Field(
        ..., description="Your id: the same id is never counted twice"
    )
    type: constr(pattern=r"^[-a-zA-Z0-9_]+$", min_length=1, max_length=50) = Field(
        ..., description="Conversion type code, e.g. signup, demo_booked, purchase"
    )
    value: Decimal = "0.00"
    currency: constr(pattern=r"^[A-Za-z]{3}$", min_length=1) = "USD"
    contact_id: int | None = None
    visitor_id: constr(max_length=64) = ""
    occurred_at: AwareDatetime


class ConversionStat(BaseModel):
    period: date
    type: str
    currency: str
    conversions: int
    value: Decimal


class Arm(RootModel[list[int]]):
    root: list[int] = Field(..., min_length=1)


class CopyExperimentResult(BaseModel):
    test: int
    key: str
    status: str


class DecisionRequest(BaseModel):
    note: constr(max_length=500) = ""


class DirectSendRejectRequest(BaseModel):
    reason: constr(max_length=500) | None = None


class DraftEditPattern(BaseModel):
    id: int
    intent: str
    channel: str
    language: str
    drafts: int
    edited: int
    rejected: int
    length_ratio: float | None = Field(
        ..., description="Median sent/drafted length of edited drafts"
    )
    suggested_max_length: int | None = Field(...)
    wrong_language: int = Field(
        ..., description="Drafts not written in the expected language"
    )
    removed_phrases: Any
    added_phrases: Any
    notes: Any = Field(..., description="Guidance lines for the prompt")
    updated_at: AwareDatetime


class DroppedPerson(BaseModel):
    person: str
    visitor_id: str
    contact_id: int | None = Field(...)


class EditRequest(BaseModel):
    text: constr(min_length=1)


class EnrolRequest(BaseModel):
    tag: constr(min_length=1, max_length=100) | None = Field(
        None, description="Campaign tag; default from settings"
    )


class Entry(BaseModel):
    id: int
    direction: Literal["in", "out"] = Field(
        ..., description="* `in` - Inbound\n* `out` - Outbound"
    )
    created_at: AwareDatetime | None = None
    subject: str
    text: str
    delivery_status: str
    auto_sent: bool | None = None
    author: int | None = None


class ExperimentRef(BaseModel):
    experiment: str = Field(..., description="Key of the draft experiment")


class FunnelSnapshot(BaseModel):
    id: int
    funnel: int
    day: date
    entered: conint(ge=0) | None = None
    converted: conint(ge=0) | None = None
    result: Any | None = None
    computed_at: AwareDatetime


class FunnelStepRequest(BaseModel):
    position: conint(ge=0)
    action: Literal[
        "send_dm", "ask_email", "send_link", "handover_campaign", "handover_inbox"
    ] = Field(
        ...,
        description="* `send_dm` - Send a DM\n* `ask_email` - Ask for an email address (waits for the reply)\n* `send_link` - Deliver a link\n* `handover_campaign` - Hand over to a campaign (tag)\n* `handover_inbox` - Hand over to the inbox",
    )
    text: str | None = Field(
        None, description="Message; {{ link }} and {{ name }} are available"
    )
    link: AnyUrl | constr(max_length=0) | None = None
    campaign_tag: constr(max_length=100) | None = Field(
        None, description="Tag that enrols the contact in a campaign"
    )


class FunnelStepResult(BaseModel):
    index: int
    label: str
    count: int
    conversion: float
    conversion_from_previous: float
    dropped: int
    median_seconds_from_previous: float | None = Field(...)


class GenerateVariantsRequest(BaseModel):
    field: Literal["subject", "text"] = Field(
        ..., description="* `subject` - subject\n* `text` - text"
    )
    brief: constr(min_length=1, max_length=4000) = Field(
        ..., description="Brand voice, offer, audience"
    )
    count: conint(ge=1, le=10) = 3


class Identities(BaseModel):
    email: constr(max_length=255) | None = None
    sms: constr(max_length=255) | None = None
    whatsapp: constr(max_length=255) | None = None
    instagram: constr(max_length=255) | None = None
    facebook: constr(max_length=255) | None = None
    linkedin: constr(max_length=255) | None = None
    x: constr(max_length=255) | None = None
    chat: constr(max_length=255) | None = None


class IdentitiesRequest(BaseModel):
    email: constr(max_length=255) | None = None
    sms: constr(max_length=255) | None = None
    whatsapp: constr(max_length=255) | None = None
    instagram: constr(max_length=255) | None = None
    facebook: constr(max_length=255) | None = None
    linkedin: constr(max_length=255) | None = None
    x: constr(max_length=255) | None = None
    chat: constr(max_length=255) | None = None


class LabelsRequest(BaseModel):
    labels: list[constr(min_length=1, max_length=60)]


class MergeRequest(BaseModel):
    duplicate: int = Field(
        ..., description="Contact merged into this one (it becomes inactive)"
    )


class Note(BaseModel):
    id: int
    text: str
    author: int | None = Field(...)
    created_at: AwareDatetime


class NoteRequest(BaseModel):
    text: constr(min_length=1)


class Page(BaseModel):
    path: str
    pageviews: int
    visitors: int
    entries: int
    exits: int
    exit_rate: float


class PaginatedAPIKeyList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[APIKey]


class PaginatedChannelTemplateList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[ChannelTemplate]


class PaginatedDraftEditPatternList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[DraftEditPattern]


class PaginatedFunnelSnapshotList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[FunnelSnapshot]


class PatchedCampaignRequest(BaseModel):
    name: constr(min_length=1, max_length=200) | None = None
    segment: int | None = None
    recurring: bool | None = Field(
        None, description="Re-evaluate the segment every day"
    )
    goal_conversion: (
        constr(pattern=r"^[-a-zA-Z0-9_]+$", max_length=50) | constr(max_length=0) | None
    ) = Field(None, description="Conversion type code that ends a contact's journey")
    holdout_percent: conint(ge=0, le=50) | None = Field(
        None, description="Control group that receives nothing"
    )
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    window_start_hour: conint(ge=0, le=23) | None = Field(
        None, description="Earliest local hour to send (contact's zone)"
    )
    window_end_hour: conint(ge=1, le=24) | None = Field(
        None, description="Sends stop at this hour"
    )
    send_weekdays: list[conint(ge=0, le=6)] | None = Field(
        None,
        description="Local weekdays to send on, 0 = Monday … 6 = Sunday; empty: every day",
        max_length=7,
    )
    daily_volume_cap: conint(ge=0) | None = None
    daily_spend_cap: Decimal | None = None
    sto_enabled: bool | None = Field(
        None, description="Send at each contact's best hour"
    )
    sto_control_percent: conint(ge=0, le=50) | None = Field(
        None, description="Share sent without STO, to measure it"
    )
    links: Any | None = Field(
        None, description='Tracked links: {"offer": "https://..."}'
    )
    subject_test: int | None = Field(
        None,
        description="A/B test whose variants carry {'subject': ...} for email sends",
    )
    send_test: int | None = Field(
        None,
        description='Send-time or channel experiment: each arm carries its own window ({"window_start_hour": 8, "window_end_hour": 12}), weekdays ({"send_weekdays": [1, 2]}) or channel ({"channel": "sms", "steps": [step ids]}); the planner assigns the arms',
    )


class PatchedCampaignStepRequest(BaseModel):
    campaign: int | None = None
    position: conint(ge=0) | None = None
    kind: Literal["send", "wait", "branch"] | None = Field(
        None, description="* `send` - Send\n* `wait` - Wait\n* `branch` - Branch"
    )
    channel: (
        Literal[
            "email",
            "sms",
            "whatsapp",
            "instagram",
            "facebook",
            "linkedin",
            "x",
            "chat",
            "auto",
        ]
        | Literal[""]
        | None
    ) = None
    templates: list[int] | None = None
    fallback_channels: Any | None = None
    wait_hours: conint(ge=0) | None = None
    branch_on: (
        Literal["reply", "click", "open", "conversion", "no_response"]
        | Literal[""]
        | None
    ) = None
    within_hours: conint(ge=0) | None = None
    goto_position: conint(ge=0) | None = Field(None, description="0 = next step")
    else_position: conint(ge=0) | None = Field(None, description="0 = next step")


class PatchedChannelTemplateRequest(BaseModel):
    name: constr(min_length=1, max_length=200) | None = None
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | None
    ) = Field(
        None,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    subject: constr(max_length=998) | None = None
    html: str | None = None
    text: str | None = None
    whatsapp_template: constr(max_length=200) | None = Field(
        None, description="Approved template (ContentSid)"
    )
    whatsapp_variables: Any | None = Field(
        None, description='{"1": "{{ contact.first_name }}"}'
    )


class PatchedContactWriteRequest(BaseModel):
    external_id: constr(max_length=255) | None = None
    name: constr(max_length=255) | None = None
    timezone: constr(min_length=1, max_length=64) | None = Field(
        None, description="IANA zone, e.g. Europe/Paris"
    )
    locale: constr(max_length=35) | None = None
    lifecycle_stage: Literal["lead", "prospect", "customer", "churned"] | None = Field(
        None,
        description="* `lead` - Lead\n* `prospect` - Prospect\n* `customer` - Customer\n* `churned` - Churned",
    )
    tags: list[constr(min_length=1, max_length=100)] | None = None
    attributes: dict[str, Any] | None = None
    identities: IdentitiesRequest | None = None
    consents: ConsentsWriteRequest | None = None


class PatchedFunnelRequest(BaseModel):
    site: int | None = None
    name: constr(min_length=1, max_length=200) | None = None
    steps: Any | None = None
    order_mode: Literal["sequential", "strict", "any_order"] | None = Field(
        None,
        description="* `sequential` - Sequential (other events allowed between steps)\n* `strict` - Strict (steps immediately follow each other)\n* `any_order` - Any order",
    )
    window_days: conint(ge=0) | None = None
    is_active: bool | None = None


class PatchedSegmentRequest(BaseModel):
    name: constr(min_length=1, max_length=200) | None = None
    description: str | None = None
    is_static: bool | None = Field(None, description="A fixed list instead of filters")
    filters: Any | None = None
    contacts: list[int] | None = None


class PatchedSiteRequest(BaseModel):
    name: constr(min_length=1, max_length=200) | None = None
    domain: constr(min_length=1, max_length=253) | None = Field(
        None, description="Main host name, e.g. shop.example.com"
    )
    allowed_origins: Any | None = Field(
        None,
        description='Origins allowed to send events, e.g. ["https://shop.example.com"]',
    )
    respect_dnt: bool | None = Field(
        None, description="Honour Do-Not-Track / Global Privacy Control"
    )
    cookieless: bool | None = Field(
        None, description="Do not store an anonymous id on the device"
    )
    is_active: bool | None = None


class PatchedTemplateVariantRequest(BaseModel):
    content: str | None = Field(
        None, description="The subject or text (single-field variants)"
    )
    subject: constr(max_length=998) | None = None
    preview: constr(max_length=200) | None = Field(
        None, description="Preview text (email preheader)"
    )
    body: str | None = Field(
        None, description="Text body (Jinja2, the template's variables)"
    )
    html: str | None = Field(
        None, description="HTML body (email); built from the text when blank"
    )
    cta_label: constr(max_length=100) | None = None
    cta_link: constr(max_length=50) | None = Field(
        None, description="Name of a tracked campaign link"
    )
    whatsapp_template: constr(max_length=200) | None = Field(
        None,
        description="Approved WhatsApp template of this copy (business-initiated sends)",
    )


class PerformancePoint(BaseModel):
    day: date
    channel: str
    cost: Decimal
    revenue: Decimal = Field(..., description="Attributed under the model")
    conversions: float = Field(..., description="Attributed under the model")
    roi: Decimal | None = Field(..., description="null without cost")


class PersonaliseCounts(BaseModel):
    personalised: int
    holdout: int


class PersonaliseRequestRequest(BaseModel):
    holdout_percent: conint(ge=1, le=50) = 10


class PersonalisedResult(BaseModel):
    personalised: dict[str, Any]
    holdout: dict[str, Any]
    lift: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class PlatformInsight(BaseModel):
    id: int
    account: int
    day: date
    reach: int
    impressions: int
    followers: int
    engagements: int
    engagement_rate: float


class Prediction(BaseModel):
    p: dict[str, float] | None = Field(..., description="{outcome: probability}")
    run: int | None = Field(..., description="The pattern run whose model predicted")


class PredictionRequestRequest(BaseModel):
    channel: constr(min_length=1, max_length=16)
    subject: constr(max_length=998) = ""
    body: constr(max_length=100000) = ""
    segment: int | None = Field(
        None, description="Predict over this segment's contacts"
    )


class PreviewRequest(BaseModel):
    step: int = Field(..., description="Step position")
    contact: int
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | None
    ) = Field(
        None,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )


class PreviewResult(BaseModel):
    channel: str
    subject: str
    html: str
    text: str
    template_name: str
    template_variables: dict[str, Any]


class ProposalApproveRequest(BaseModel):
    start: bool = Field(False, description="Start the experiment right away")


class ReasonRequest(BaseModel):
    reason: str = ""


class RejectRequest(BaseModel):
    reason: constr(min_length=1, max_length=500)


class Rendered(BaseModel):
    channel: str
    subject: str
    html: str
    text: str
    template_name: str
    template_variables: dict[str, Any]
    headers: dict[str, Any]


class ReplyReport(BaseModel):
    human_sent: int
    auto_sent: int
    rejected: int
    pending: int
    human_replies_within_sla: int
    auto_replies_within_sla: int


class ReplyRequest(BaseModel):
    text: constr(min_length=1)


class RolloutRequest(BaseModel):
    variant: constr(pattern=r"^[-a-zA-Z0-9_]+$", min_length=1) = Field(
        ..., description="Key of the winning variant"
    )
    reason: str = ""


class SLACounts(BaseModel):
    at_risk: int
    breached: int


class SampleSize(BaseModel):
    baseline: float
    alpha: float
    power: float
    mde: float | None = Field(...)
    n_per_arm: int | None = Field(...)


class SaveSegmentRequest(BaseModel):
    step: conint(ge=0) = Field(
        ..., description="0-based step after which visitors dropped"
    )
    tag: constr(min_length=1, max_length=100) = Field(
        ..., description="Name of the segment (contact tag) to create or extend"
    )
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class SavedSegment(BaseModel):
    tag_id: int
    tag: str
    contacts: int


class Segment(BaseModel):
    id: int
    name: constr(max_length=200)
    description: str | None = None
    is_static: bool | None = Field(None, description="A fixed list instead of filters")
    filters: Any | None = None
    contacts: list[int] | None = None
    created_at: AwareDatetime


class SegmentRequest(BaseModel):
    name: constr(min_length=1, max_length=200)
    description: str | None = None
    is_static: bool | None = Field(None, description="A fixed list instead of filters")
    filters: Any | None = None
    contacts: list[int] | None = None


class SendRequestRequest(BaseModel):
    contact: int | None = Field(None, description="Contact id (or give email / phone)")
    email: EmailStr | None = None
    phone: constr(min_length=1, max_length=40) | None = Field(
        None, description="E.164 (SMS or WhatsApp identity)"
    )
    template: constr(max_length=200) | None = Field(
        None, description="Template name (one version per channel)"
    )
    text: constr(max_length=10000) | None = None
    subject: constr(max_length=998) | None = Field(None, description="E-mail subject")
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | None
    ) = Field(
        None,
        description="Force a channel (default: the best one)\n\n* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )


class SimulateRequest(BaseModel):
    event: Literal["delivered", "open", "click", "failure", "bounce", "reply"] = Field(
        ...,
        description="* `delivered` - delivered\n* `open` - open\n* `click` - click\n* `failure` - failure\n* `bounce` - bounce\n* `reply` - reply",
    )
    text: constr(max_length=2000) | None = Field(
        None, description="Text of a simulated reply"
    )


class Site(BaseModel):
    id: int
    name: constr(max_length=200)
    domain: constr(max_length=253) = Field(
        ..., description="Main host name, e.g. shop.example.com"
    )
    public_key: str
    allowed_origins: Any | None = Field(
        None,
        description='Origins allowed to send events, e.g. ["https://shop.example.com"]',
    )
    respect_dnt: bool | None = Field(
        None, description="Honour Do-Not-Track / Global Privacy Control"
    )
    cookieless: bool | None = Field(
        None, description="Do not store an anonymous id on the device"
    )
    is_active: bool | None = None
    snippet: str = Field(
        ..., description="The <script> tag to paste into the site's pages"
    )


class SiteRequest(BaseModel):
    name: constr(min_length=1, max_length=200)
    domain: constr(min_length=1, max_length=253) = Field(
        ..., description="Main host name, e.g. shop.example.com"
    )
    allowed_origins: Any | None = Field(
        None,
        description='Origins allowed to send events, e.g. ["https://shop.example.com"]',
    )
    respect_dnt: bool | None = Field(
        None, description="Honour Do-Not-Track / Global Privacy Control"
    )
    cookieless: bool | None = Field(
        None, description="Do not store an anonymous id on the device"
    )
    is_active: bool | None = None


class Snapshot(BaseModel):
    computed_at: AwareDatetime | None = None
    srm_p_value: float | None = None
    has_srm: bool
    results: Any | None = None


class SocialAccount(BaseModel):
    id: int
    platform: Literal["instagram", "facebook", "linkedin", "x", "sandbox"] = Field(
        ...,
        description="* `instagram` - Instagram\n* `facebook` - Facebook\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `sandbox` - Sandbox",
    )
    name: constr(max_length=200)
    external_id: constr(max_length=255) = Field(
        ..., description="IG user id, Page id, organisation URN or X user id"
    )
    handle: constr(max_length=255) | None = None
    has_own_token: bool
    is_active: bool | None = None
    auto_send_allowed: bool | None = Field(
        None,
        description="Policy: rules marked auto-send may reply without approval (never to complaints)",
    )
    max_replies_per_hour: conint(ge=0) | None = None
    min_seconds_between_replies: conint(ge=0) | None = None
    followers: int
    last_synced_at: AwareDatetime | None = Field(...)
    retry_after_until: AwareDatetime | None = Field(
        ..., description="Rate-limited by the platform until"
    )
    created_at: AwareDatetime


class SocialAccountRequest(BaseModel):
    platform: Literal["instagram", "facebook", "linkedin", "x", "sandbox"] = Field(
        ...,
        description="* `instagram` - Instagram\n* `facebook` - Facebook\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `sandbox` - Sandbox",
    )
    name: constr(min_length=1, max_length=200)
    external_id: constr(min_length=1, max_length=255) = Field(
        ..., description="IG user id, Page id, organisation URN or X user id"
    )
    handle: constr(max_length=255) | None = None
    access_token: constr(max_length=1000) | None = None
    is_active: bool | None = None
    auto_send_allowed: bool | None = Field(
        None,
        description="Policy: rules marked auto-send may reply without approval (never to complaints)",
    )
    max_replies_per_hour: conint(ge=0) | None = None
    min_seconds_between_replies: conint(ge=0) | None = None


class SocialPost(BaseModel):
    id: int
    account: int
    platform: str
    external_id: constr(max_length=255)
    url: AnyUrl | constr(max_length=0) | None = None
    text: str | None = None
    media_type: constr(max_length=32) | None = None
    published_at: AwareDatetime
    likes: conint(ge=0) | None = None
    comments_count: conint(ge=0) | None = None
    shares: conint(ge=0) | None = None
    saves: conint(ge=0) | None = None
    impressions: conint(ge=0) | None = None
    reach: conint(ge=0) | None = None
    engagements: int
    engagement_rate: float
    metrics_updated_at: AwareDatetime | None = None
    is_deleted: bool
    deleted_at: AwareDatetime | None = Field(
        None, description="The platform says the post is gone"
    )


class Source(BaseModel):
    value: str
    sessions: int
    visitors: int


class SourceRequest(BaseModel):
    title: constr(max_length=300) = ""
    text: constr(max_length=20000) = ""
    link: AnyUrl | constr(max_length=0) | None = None


class StatusRequest(BaseModel):
    status: Literal["open", "pending", "snoozed", "resolved"] = Field(
        ...,
        description="* `open` - Open\n* `pending` - Pending\n* `snoozed` - Snoozed\n* `resolved` - Resolved",
    )
    snoozed_until: AwareDatetime | None = None


class TemplateVariantRequest(BaseModel):
    content: str | None = Field(
        None, description="The subject or text (single-field variants)"
    )
    subject: constr(max_length=998) | None = None
    preview: constr(max_length=200) | None = Field(
        None, description="Preview text (email preheader)"
    )
    body: str | None = Field(
        None, description="Text body (Jinja2, the template's variables)"
    )
    html: str | None = Field(
        None, description="HTML body (email); built from the text when blank"
    )
    cta_label: constr(max_length=100) | None = None
    cta_link: constr(max_length=50) | None = Field(
        None, description="Name of a tracked campaign link"
    )
    whatsapp_template: constr(max_length=200) | None = Field(
        None,
        description="Approved WhatsApp template of this copy (business-initiated sends)",
    )


class TestSendRequest(BaseModel):
    step: int = Field(..., description="Step position")
    contact: int
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | None
    ) = Field(
        None,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    to: constr(min_length=1) | None = Field(
        None, description="Send to this address instead of the contact's"
    )


class TestSendResult(BaseModel):
    message_id: UUID
    status: str


class TimeSeriesPoint(BaseModel):
    bucket: AwareDatetime
    visitors: int
    sessions: int
    pageviews: int
    events: int
    conversions: int


class Variant(BaseModel):
    key: constr(pattern=r"^[-a-zA-Z0-9_]+$", max_length=50)
    name: constr(max_length=200) | None = None
    is_control: bool | None = None
    weight: confloat(ge=0.0) | None = Field(
        None, description="Share of traffic (relative to the other variants)"
    )
    content: Any | None = Field(
        None, description='What this variant shows, e.g. {"subject": ...}'
    )


class VariantPreviewRequest(BaseModel):
    contact: int
    campaign: int | None = None


class VariantRequest(BaseModel):
    key: constr(pattern=r"^[-a-zA-Z0-9_]+$", min_length=1, max_length=50)
    name: constr(max_length=200) | None = None
    is_control: bool | None = None
    weight: confloat(ge=0.0) | None = Field(
        None, description="Share of traffic (relative to the other variants)"
    )
    content: Any | None = Field(
        None, description='What this variant shows, e.g. {"subject": ...}'
    )


class ABTest(BaseModel):
    id: int
    key: constr(pattern=r"^[-a-zA-Z0-9_]+$", max_length=100) = Field(
        ..., description="Stable id used for hashing"
    )
    name: constr(max_length=200)
    hypothesis: str | None = None
    surface: (
        Literal[
            "website_element",
            "website_cta",
            "website_copy",
            "email_subject",
            "message_copy",
            "send_time",
            "channel",
            "any",
        ]
        | None
    ) = Field(
        None,
        description="* `website_element` - Website element\n* `website_cta` - Website call to action\n* `website_copy` - Website copy\n* `email_subject` - Email subject line\n* `message_copy` - Message copy\n* `send_time` - Send time (window or weekdays)\n* `channel` - Channel of a campaign step\n* `any` - Any",
    )
    status: Literal["draft", "running", "stopped", "rolled_out"] = Field(
        ...,
        description="* `draft` - Draft\n* `running` - Running\n* `stopped` - Stopped\n* `rolled_out` - Rolled out",
    )
    primary_metric: constr(max_length=100) = Field(
        ...,
        description="A message outcome (open, click, reply, conversion) or an event name",
    )
    secondary_metrics: Any | None = None
    guardrail_metrics: Any | None = Field(
        None, description="Metrics that must not get significantly worse"
    )
    mean_metrics: Any | None = Field(
        None, description="Metrics analysed as a sum of values per unit (e.g. revenue)"
    )
    site: int | None = None
    segment: int | None = Field(
        None, description="Only contacts with this tag take part"
    )
    url_pattern: constr(max_length=500) | None = Field(
        None, description="Regular expression on the page URL"
    )
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | Literal[""]
        | None
    ) = None
    mode: Literal["fixed", "bandit"] | None = Field(
        None,
        description="* `fixed` - Fixed split, automatic winner rollout\n* `bandit` - Bandit (Thompson sampling)",
    )
    alpha: float | None = None
    sequential_tuning: float | None = None
    auto_rollout: bool | None = None
    rollout_hold: bool = Field(
        ..., description="Admin override: never roll out automatically"
    )
    min_units_per_arm: conint(ge=0) | None = None
    min_runtime_days: conint(ge=0) | None = None
    winner: str | None = Field(...)
    variants: list[Variant]
    started_at: AwareDatetime | None = Field(...)
    stopped_at: AwareDatetime | None = Field(...)
    rolled_out_at: AwareDatetime | None = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ABTestRequest(BaseModel):
    key: constr(pattern=r"^[-a-zA-Z0-9_]+$", min_length=1, max_length=100) = Field(
        ..., description="Stable id used for hashing"
    )
    name: constr(min_length=1, max_length=200)
    hypothesis: str | None = None
    surface: (
        Literal[
            "website_element",
            "website_cta",
            "website_copy",
            "email_subject",
            "message_copy",
            "send_time",
            "channel",
            "any",
        ]
        | None
    ) = Field(
        None,
        description="* `website_element` - Website element\n* `website_cta` - Website call to action\n* `website_copy` - Website copy\n* `email_subject` - Email subject line\n* `message_copy` - Message copy\n* `send_time` - Send time (window or weekdays)\n* `channel` - Channel of a campaign step\n* `any` - Any",
    )
    primary_metric: constr(min_length=1, max_length=100) = Field(
        ...,
        description="A message outcome (open, click, reply, conversion) or an event name",
    )
    secondary_metrics: Any | None = None
    guardrail_metrics: Any | None = Field(
        None, description="Metrics that must not get significantly worse"
    )
    mean_metrics: Any | None = Field(
        None, description="Metrics analysed as a sum of values per unit (e.g. revenue)"
    )
    site: int | None = None
    segment: int | None = Field(
        None, description="Only contacts with this tag take part"
    )
    url_pattern: constr(max_length=500) | None = Field(
        None, description="Regular expression on the page URL"
    )
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | Literal[""]
        | None
    ) = None
    mode: Literal["fixed", "bandit"] | None = Field(
        None,
        description="* `fixed` - Fixed split, automatic winner rollout\n* `bandit` - Bandit (Thompson sampling)",
    )
    alpha: float | None = None
    sequential_tuning: float | None = None
    auto_rollout: bool | None = None
    min_units_per_arm: conint(ge=0) | None = None
    min_runtime_days: conint(ge=0) | None = None
    variants: list[VariantRequest]


class APIKeyCreateRequest(BaseModel):
    name: constr(min_length=1, max_length=100)
    scopes: list[
        Literal[
            "*:read",
            "*:write",
            "contacts:read",
            "contacts:write",
            "outreach:read",
            "outreach:write",
            "channels:read",
            "channels:write",
            "inbox:read",
            "inbox:write",
            "abtesting:read",
            "abtesting:write",
            "website:read",
            "website:write",
            "conversion:read",
            "conversion:write",
            "social:read",
            "social:write",
            "bestpractices:read",
            "bestpractices:write",
            "webhooks:read",
            "webhooks:write",
        ]
    ] = Field(..., min_length=1)
    expires_at: AwareDatetime | None = None


class AttributionComparison(BaseModel):
    by: Literal["conversions", "value"] = Field(
        ..., description="* `conversions` - conversions\n* `value` - value"
    )
    models: list[
        Literal[
            "first_touch",
            "last_touch",
            "last_non_direct",
            "linear",
            "position_based",
            "time_decay",
            "markov",
            "shapley",
        ]
    ]
    channels: dict[str, dict[str, float]] = Field(
        ..., description="channel → model → credit"
    )
    totals: dict[str, float] = Field(..., description="model → total credit")


class BestPractice(BaseModel):
    id: int
    feature: str
    value: str
    baseline: str
    outcome: str
    version: int
    is_current: bool
    status: Literal["candidate", "confirmed", "retired"] = Field(
        ...,
        description="* `candidate` - Candidate (observed in sends)\n* `confirmed` - Confirmed by an experiment\n* `retired` - Retired (contradicted)",
    )
    status_reason: str
    lift: float
    ci_low: float
    ci_high: float
    n: int
    significant: bool
    p_value: float
    evidence: Any = Field(..., description="{sends, campaigns, experiments, ...}")
    run: int | None = Field(...)
    experiment: int | None = Field(
        ..., description="The experiment that confirmed or contradicted it"
    )
    created_at: AwareDatetime


class BulkItemResult(BaseModel):
    index: int
    status: Literal["created", "updated", "error", "skipped"] = Field(
        ...,
        description="* `created` - Created\n* `updated` - Updated\n* `error` - Error\n* `skipped` - Skipped (its batch had errors)",
    )
    id: int | None = Field(...)
    errors: Any


class BulkResult(BaseModel):
    created: int
    updated: int
    errors: int
    results: list[BulkItemResult]


class CampaignChange(BaseModel):
    id: int
    recommendation: int
    title: str
    campaign: int
    field: Literal["send_window", "send_weekdays", "channel"] = Field(
        ...,
        description="* `send_window` - Send window\n* `send_weekdays` - Send weekdays\n* `channel` - Step channel",
    )
    before: Any = Field(..., description="The campaign as the draft found it")
    after: Any = Field(..., description="The campaign once approved")
    status: Literal["draft", "applied", "rejected"] = Field(
        ...,
        description="* `draft` - Draft (awaiting approval)\n* `applied` - Applied\n* `rejected` - Rejected",
    )
    created_by: int | None = Field(...)
    decided_by: int | None = Field(...)
    decided_at: AwareDatetime | None = Field(...)
    created_at: AwareDatetime


class CampaignStep(BaseModel):
    id: int
    campaign: int
    position: conint(ge=0)
    kind: Literal["send", "wait", "branch"] | None = Field(
        None, description="* `send` - Send\n* `wait` - Wait\n* `branch` - Branch"
    )
    channel: (
        Literal[
            "email",
            "sms",
            "whatsapp",
            "instagram",
            "facebook",
            "linkedin",
            "x",
            "chat",
            "auto",
        ]
        | Literal[""]
        | None
    ) = None
    templates: list[int] | None = None
    fallback_channels: Any | None = None
    wait_hours: conint(ge=0) | None = None
    branch_on: (
        Literal["reply", "click", "open", "conversion", "no_response"]
        | Literal[""]
        | None
    ) = None
    within_hours: conint(ge=0) | None = None
    goto_position: conint(ge=0) | None = Field(None, description="0 = next step")
    else_position: conint(ge=0) | None = Field(None, description="0 = next step")


class ChannelPerformance(BaseModel):
    day: date
    channel: Literal[
        "email",
        "sms",
        "whatsapp",
        "instagram",
        "facebook",
        "linkedin",
        "x",
        "chat",
        "organic_search",
        "paid_search",
        "social_organic",
        "social_paid",
        "referral",
        "direct",
        "other",
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat\n* `organic_search` - Organic search\n* `paid_search` - Paid search\n* `social_organic` - Organic social\n* `social_paid` - Paid social\n* `referral` - Referral\n* `direct` - Direct\n* `other` - Other",
    )
    campaign: str
    sent: int
    delivered: int
    engaged: int = Field(..., description="Opened or clicked")
    replies: int
    sessions: int
    cost: Decimal
    attributed_conversions: Any = Field(..., description="model → conversions")
    attributed_revenue: Any = Field(..., description="model → revenue (string decimal)")
    roi: dict[str, str | None] = Field(
        ..., description="model → (attributed value − cost) / cost; null without cost"
    )
    cost_per_acquisition: dict[str, str | None] = Field(
        ..., description="model → cost / attributed conversions"
    )
    refreshed_at: AwareDatetime


class ComposeRequest(BaseModel):
    brief: constr(min_length=1, max_length=4000)
    template: int
    segment: int | None = None
    sources: list[SourceRequest] | None = None
    language: Literal["en", "fr", "es", "ht"] | Literal[""] = ""
    subject_count: conint(ge=1, le=5) = 3


class Consent(BaseModel):
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    status: Literal["opted_in", "unknown", "unsubscribed"] = Field(
        ...,
        description="* `opted_in` - Opted in\n* `unknown` - Unknown\n* `unsubscribed` - Unsubscribed",
    )
    source: str
    updated_at: AwareDatetime


class Contact(BaseModel):
    id: int
    external_id: str | None = Field(..., description="Your system's id for this person")
    name: str
    timezone: str
    locale: str
    lifecycle_stage: Literal["lead", "prospect", "customer", "churned"] = Field(
        ...,
        description="* `lead` - Lead\n* `prospect` - Prospect\n* `customer` - Customer\n* `churned` - Churned",
    )
    tags: list[str]
    attributes: Any
    engagement_score: float
    identities: Identities
    consents: list[Consent]
    is_active: bool
    merged_into: int | None = Field(...)
    erased_at: AwareDatetime | None = Field(...)
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ContactWriteRequest(BaseModel):
    external_id: constr(max_length=255) | None = None
    name: constr(max_length=255) | None = None
    timezone: constr(min_length=1, max_length=64) | None = Field(
        None, description="IANA zone, e.g. Europe/Paris"
    )
    locale: constr(max_length=35) | None = None
    lifecycle_stage: Literal["lead", "prospect", "customer", "churned"] | None = Field(
        None,
        description="* `lead` - Lead\n* `prospect` - Prospect\n* `customer` - Customer\n* `churned` - Churned",
    )
    tags: list[constr(min_length=1, max_length=100)] | None = None
    attributes: dict[str, Any] | None = None
    identities: IdentitiesRequest | None = None
    consents: ConsentsWriteRequest | None = None


class ConversationDetail(BaseModel):
    id: int
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    participant: constr(max_length=255) = Field(
        ..., description="The contact's identity value on the channel"
    )
    subject: constr(max_length=998) | None = None
    status: Literal["open", "pending", "snoozed", "resolved"] | None = Field(
        None,
        description="* `open` - Open\n* `pending` - Pending\n* `snoozed` - Snoozed\n* `resolved` - Resolved",
    )
    priority: Literal["low", "normal", "high", "urgent"] | None = Field(
        None,
        description="* `low` - Low\n* `normal` - Normal\n* `high` - High\n* `urgent` - Urgent",
    )
    assignee: str | None = Field(...)
    team: int | None = None
    latest_intent: constr(max_length=40) | None = None
    latest_sentiment: constr(max_length=10) | None = None
    last_message_at: AwareDatetime | None = None
    snoozed_until: AwareDatetime | None = None
    sla_state: str
    first_response_due: AwareDatetime | None = None
    next_response_due: AwareDatetime | None = None
    resolution_due: AwareDatetime | None = None
    sla_breached: bool | None = None
    labels: list[str]
    messages: list[Entry]
    notes: list[Note]


class ConversationList(BaseModel):
    id: int
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    participant: constr(max_length=255) = Field(
        ..., description="The contact's identity value on the channel"
    )
    subject: constr(max_length=998) | None = None
    status: Literal["open", "pending", "snoozed", "resolved"] | None = Field(
        None,
        description="* `open` - Open\n* `pending` - Pending\n* `snoozed` - Snoozed\n* `resolved` - Resolved",
    )
    priority: Literal["low", "normal", "high", "urgent"] | None = Field(
        None,
        description="* `low` - Low\n* `normal` - Normal\n* `high` - High\n* `urgent` - Urgent",
    )
    assignee: str | None = Field(...)
    team: int | None = None
    latest_intent: constr(max_length=40) | None = None
    latest_sentiment: constr(max_length=10) | None = None
    last_message_at: AwareDatetime | None = None
    snoozed_until: AwareDatetime | None = None
    sla_state: str
    first_response_due: AwareDatetime | None = None
    next_response_due: AwareDatetime | None = None
    resolution_due: AwareDatetime | None = None
    sla_breached: bool | None = None


class CopyExperimentRequest(BaseModel):
    arms: list[Arm] = Field(
        ...,
        description="Variant ids per arm (at most one per template); the control sends the templates as written",
        min_length=1,
    )
    primary_metric: Literal["click", "open", "reply", "conversion"] = Field(
        "click",
        description="* `click` - click\n* `open` - open\n* `reply` - reply\n* `conversion` - conversion",
    )
    min_units_per_arm: conint(ge=1) = 1000
    min_runtime_days: conint(ge=0) = 7


class Decision(BaseModel):
    created_at: AwareDatetime | None = None
    action: Literal[
        "started",
        "stopped",
        "rolled_out",
        "rollout_reverted",
        "rollout_waiting",
        "hold_set",
        "hold_released",
        "srm_alert",
        "guardrail_alert",
        "reweighted",
    ] = Field(
        ...,
        description="* `started` - Started\n* `stopped` - Stopped\n* `rolled_out` - Winner rolled out\n* `rollout_reverted` - Rollout reverted\n* `rollout_waiting` - Rollout not yet allowed\n* `hold_set` - Automatic rollout held\n* `hold_released` - Automatic rollout released\n* `srm_alert` - Sample ratio mismatch\n* `guardrail_alert` - Guardrail regression\n* `reweighted` - Bandit re-weighted",
    )
    actor_label: constr(max_length=150) | None = None
    automatic: bool | None = None
    reason: str | None = None
    data: Any | None = None


class DeliveryAttempt(BaseModel):
    created_at: AwareDatetime | None = None
    provider: constr(max_length=32)
    outcome: Literal["success", "transient", "permanent"] = Field(
        ...,
        description="* `success` - Success\n* `transient` - Transient error\n* `permanent` - Permanent error",
    )
    error_code: constr(max_length=64) | None = None
    error_message: constr(max_length=500) | None = None
    retry_after: float | None = None
    latency_ms: conint(ge=0) | None = None
    provider_message_id: constr(max_length=255) | None = None


class DirectSend(BaseModel):
    id: int
    contact: int
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | Literal[""]
    )
    requested_channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | Literal[""]
    )
    template_name: str = Field(
        ..., description="ChannelTemplate name (one per channel)"
    )
    subject: str
    text: str
    status: Literal[
        "awaiting_approval",
        "scheduled",
        "sending",
        "sent",
        "failed",
        "held",
        "rejected",
    ] = Field(
        ...,
        description="* `awaiting_approval` - Awaiting approval\n* `scheduled` - Scheduled (quiet hours or retry)\n* `sending` - Sending\n* `sent` - Sent\n* `failed` - Failed\n* `held` - Held back (consent, suppression, caps, no channel)\n* `rejected` - Rejected by a reviewer",
    )
    hold_reason: (
        Literal[
            "no_channel",
            "suppressed",
            "unsubscribed",
            "frequency_cap",
            "budget",
            "quiet_hours",
            "goal",
            "content",
        ]
        | Literal[""]
    )
    reason: str = Field(
        ..., description="Why this channel: requested, contact, population"
    )
    channel_score: float | None = Field(...)
    due_at: AwareDatetime
    attempts: int
    error: str
    message: UUID | None = Field(...)
    via: str = Field(..., description="api or mcp")
    api_key: str | None = Field(...)
    outcome: str = Field(..., description="What happened, in one sentence")
    created_at: AwareDatetime
    sent_at: AwareDatetime | None = Field(...)
    decided_at: AwareDatetime | None = Field(...)


class Draft(BaseModel):
    id: int
    conversation: int
    channel: str
    status: Literal[
        "pending", "sent", "auto_sent", "rejected", "superseded", "failed"
    ] = Field(
        ...,
        description="* `pending` - Pending review\n* `sent` - Sent\n* `auto_sent` - Auto-sent\n* `rejected` - Rejected\n* `superseded` - Superseded\n* `failed` - Send failed",
    )
    source: str = Field(..., description="llm, template or local")
    intent: str
    confidence: float
    low_risk: bool
    sla_due_at: AwareDatetime | None = Field(...)
    customer_text: str
    subject: str
    text: str
    sent_text: str
    rejection_reason: str
    created_at: AwareDatetime


class Funnel(BaseModel):
    id: int
    site: int
    name: constr(max_length=200)
    steps: Any
    order_mode: Literal["sequential", "strict", "any_order"] | None = Field(
        None,
        description="* `sequential` - Sequential (other events allowed between steps)\n* `strict` - Strict (steps immediately follow each other)\n* `any_order` - Any order",
    )
    window_days: conint(ge=0) | None = None
    is_active: bool | None = None
    created_at: AwareDatetime


class FunnelRequest(BaseModel):
    site: int
    name: constr(min_length=1, max_length=200)
    steps: Any
    order_mode: Literal["sequential", "strict", "any_order"] | None = Field(
        None,
        description="* `sequential` - Sequential (other events allowed between steps)\n* `strict` - Strict (steps immediately follow each other)\n* `any_order` - Any order",
    )
    window_days: conint(ge=0) | None = None
    is_active: bool | None = None


class FunnelResult(BaseModel):
    steps: list[FunnelStepResult]
    dropped: list[list[DroppedPerson]] = Field(
        ..., description="Per step (but the last), up to 1000"
    )
    breakdown: dict[str, list[int]]


class FunnelRun(BaseModel):
    id: int
    funnel: int
    contact: int
    comment: int | None = Field(...)
    status: Literal["active", "waiting_reply", "completed", "handed_over", "failed"] = (
        Field(
            ...,
            description="* `active` - Active\n* `waiting_reply` - Waiting for a reply\n* `completed` - Completed\n* `handed_over` - Handed over\n* `failed` - Failed",
        )
    )
    position: int = Field(..., description="Next step to run")
    email: EmailStr
    started_at: AwareDatetime
    dm_sent_at: AwareDatetime | None = Field(...)
    replied_at: AwareDatetime | None = Field(...)
    converted_at: AwareDatetime | None = Field(...)
    finished_at: AwareDatetime | None = Field(...)
    last_error: str


class FunnelStep(BaseModel):
    position: conint(ge=0)
    action: Literal[
        "send_dm", "ask_email", "send_link", "handover_campaign", "handover_inbox"
    ] = Field(
        ...,
        description="* `send_dm` - Send a DM\n* `ask_email` - Ask for an email address (waits for the reply)\n* `send_link` - Deliver a link\n* `handover_campaign` - Hand over to a campaign (tag)\n* `handover_inbox` - Hand over to the inbox",
    )
    text: str | None = Field(
        None, description="Message; {{ link }} and {{ name }} are available"
    )
    link: AnyUrl | constr(max_length=0) | None = None
    campaign_tag: constr(max_length=100) | None = Field(
        None, description="Tag that enrols the contact in a campaign"
    )


class InboundMessage(BaseModel):
    id: int
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    kind: Literal["message", "comment", "mention", "postback", "story_reply"] = Field(
        ...,
        description="* `message` - Message\n* `comment` - Comment\n* `mention` - Mention\n* `postback` - Postback\n* `story_reply` - Story reply",
    )
    contact: int | None = Field(...)
    sender: str = Field(..., description="Normalised sender identity value")
    recipient: str
    external_id: str = Field(..., description="Provider's id of this message/comment")
    thread_id: str
    post_id: str = Field(..., description="Post a comment/mention belongs to")
    parent_id: str = Field(..., description="Comment this one replies to")
    subject: str
    text: str
    html: str = Field(..., description="Sanitised HTML")
    attachments: Any
    headers: Any = Field(..., description="message_id, in_reply_to, references")
    in_reply_to_message: UUID | None = Field(...)
    raw_event: int | None = Field(...)
    received_at: AwareDatetime


class JourneyTouch(BaseModel):
    position: conint(ge=0)
    channel: Literal[
        "email",
        "sms",
        "whatsapp",
        "instagram",
        "facebook",
        "linkedin",
        "x",
        "chat",
        "organic_search",
        "paid_search",
        "social_organic",
        "social_paid",
        "referral",
        "direct",
        "other",
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat\n* `organic_search` - Organic search\n* `paid_search` - Paid search\n* `social_organic` - Organic social\n* `social_paid` - Paid social\n* `referral` - Referral\n* `direct` - Direct\n* `other` - Other",
    )
    campaign: constr(max_length=200) | None = None
    occurred_at: AwareDatetime
    age_days: float = Field(..., description="Days before the conversion")
    touchpoint_id: int | None = Field(...)


class Message(BaseModel):
    id: UUID
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    contact: int | None = Field(...)
    to: str = Field(..., description="Identity value at send time")
    provider: str
    status: Literal[
        "queued",
        "sending",
        "sent",
        "delivered",
        "opened",
        "clicked",
        "replied",
        "failed",
    ] = Field(
        ...,
        description="* `queued` - Queued\n* `sending` - Sending\n* `sent` - Sent\n* `delivered` - Delivered\n* `opened` - Opened\n* `clicked` - Clicked\n* `replied` - Replied\n* `failed` - Failed",
    )
    source: str = Field(..., description="campaign, inbox, social, test…")
    subject: str
    provider_message_id: str | None = Field(...)
    cost: Decimal | None = Field(...)
    currency: str
    attempts_count: int
    failure_code: str
    failure_reason: str
    created_at: AwareDatetime
    sent_at: AwareDatetime | None = Field(...)
    delivered_at: AwareDatetime | None = Field(...)
    opened_at: AwareDatetime | None = Field(...)
    clicked_at: AwareDatetime | None = Field(...)
    replied_at: AwareDatetime | None = Field(...)
    failed_at: AwareDatetime | None = Field(...)


class MessageEvent(BaseModel):
    occurred_at: AwareDatetime | None = None
    kind: Literal[
        "queued",
        "sent",
        "delivered",
        "deferred",
        "opened",
        "clicked",
        "replied",
        "bounced",
        "dropped",
        "failed",
        "unsubscribed",
        "spam_report",
    ] = Field(
        ...,
        description="* `queued` - Queued\n* `sent` - Sent\n* `delivered` - Delivered\n* `deferred` - Deferred\n* `opened` - Opened\n* `clicked` - Clicked\n* `replied` - Replied\n* `bounced` - Bounced\n* `dropped` - Dropped\n* `failed` - Failed\n* `unsubscribed` - Unsubscribed\n* `spam_report` - Spam report",
    )
    provider_event_id: constr(max_length=255) | None = None
    data: Any | None = None


class PaginatedABTestList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[ABTest]


class PaginatedBestPracticeList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[BestPractice]


class PaginatedCampaignChangeList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[CampaignChange]


class PaginatedCampaignStepList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[CampaignStep]


class PaginatedChannelPerformanceList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[ChannelPerformance]


class PaginatedContactList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Contact]


class PaginatedConversationListList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[ConversationList]


class PaginatedDecisionList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Decision]


class PaginatedDirectSendList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[DirectSend]


class PaginatedDraftList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Draft]


class PaginatedFunnelList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Funnel]


class PaginatedFunnelRunList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[FunnelRun]


class PaginatedInboundMessageList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[InboundMessage]


class PaginatedMessageList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Message]


class PaginatedPlatformInsightList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[PlatformInsight]


class PaginatedSegmentList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Segment]


class PaginatedSiteList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Site]


class PaginatedSnapshotList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Snapshot]


class PaginatedSocialAccountList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[SocialAccount]


class PaginatedSocialPostList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[SocialPost]


class PatchedABTestRequest(BaseModel):
    key: constr(pattern=r"^[-a-zA-Z0-9_]+$", min_length=1, max_length=100) | None = (
        Field(None, description="Stable id used for hashing")
    )
    name: constr(min_length=1, max_length=200) | None = None
    hypothesis: str | None = None
    surface: (
        Literal[
            "website_element",
            "website_cta",
            "website_copy",
            "email_subject",
            "message_copy",
            "send_time",
            "channel",
            "any",
        ]
        | None
    ) = Field(
        None,
        description="* `website_element` - Website element\n* `website_cta` - Website call to action\n* `website_copy` - Website copy\n* `email_subject` - Email subject line\n* `message_copy` - Message copy\n* `send_time` - Send time (window or weekdays)\n* `channel` - Channel of a campaign step\n* `any` - Any",
    )
    primary_metric: constr(min_length=1, max_length=100) | None = Field(
        None,
        description="A message outcome (open, click, reply, conversion) or an event name",
    )
    secondary_metrics: Any | None = None
    guardrail_metrics: Any | None = Field(
        None, description="Metrics that must not get significantly worse"
    )
    mean_metrics: Any | None = Field(
        None, description="Metrics analysed as a sum of values per unit (e.g. revenue)"
    )
    site: int | None = None
    segment: int | None = Field(
        None, description="Only contacts with this tag take part"
    )
    url_pattern: constr(max_length=500) | None = Field(
        None, description="Regular expression on the page URL"
    )
    channel: (
        Literal[
            "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
        ]
        | Literal[""]
        | None
    ) = None
    mode: Literal["fixed", "bandit"] | None = Field(
        None,
        description="* `fixed` - Fixed split, automatic winner rollout\n* `bandit` - Bandit (Thompson sampling)",
    )
    alpha: float | None = None
    sequential_tuning: float | None = None
    auto_rollout: bool | None = None
    min_units_per_arm: conint(ge=0) | None = None
    min_runtime_days: conint(ge=0) | None = None
    variants: list[VariantRequest] | None = None


class PatchedSocialAccountRequest(BaseModel):
    platform: Literal["instagram", "facebook", "linkedin", "x", "sandbox"] | None = (
        Field(
            None,
            description="* `instagram` - Instagram\n* `facebook` - Facebook\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `sandbox` - Sandbox",
        )
    )
    name: constr(min_length=1, max_length=200) | None = None
    external_id: constr(min_length=1, max_length=255) | None = Field(
        None, description="IG user id, Page id, organisation URN or X user id"
    )
    handle: constr(max_length=255) | None = None
    access_token: constr(max_length=1000) | None = None
    is_active: bool | None = None
    auto_send_allowed: bool | None = Field(
        None,
        description="Policy: rules marked auto-send may reply without approval (never to complaints)",
    )
    max_replies_per_hour: conint(ge=0) | None = None
    min_seconds_between_replies: conint(ge=0) | None = None


class PatchedSocialEngagementFunnelRequest(BaseModel):
    account: int | None = None
    name: constr(min_length=1, max_length=200) | None = None
    is_active: bool | None = None
    trigger: Literal["comment_keyword", "mention", "story_reply"] | None = Field(
        None,
        description="* `comment_keyword` - Keyword in a comment\n* `mention` - Mention\n* `story_reply` - Story reply",
    )
    post: int | None = Field(None, description="Blank: any post")
    keywords: Any | None = None
    steps: list[FunnelStepRequest] | None = None


class PatchedWebhookEndpointRequest(BaseModel):
    url: AnyUrl | None = None
    description: constr(max_length=200) | None = None
    event_types: (
        list[
            Literal[
                "message.received",
                "draft.created",
                "draft.approved",
                "message.sent",
                "message.delivered",
                "message.failed",
                "conversation.assigned",
                "conversion.recorded",
                "experiment.concluded",
                "contact.erased",
            ]
        ]
        | None
    ) = Field(None, min_length=1)
    is_active: bool | None = None


class PracticeRecommendation(BaseModel):
    id: int
    title: str
    status: Literal[
        "open", "testing", "won", "lost", "dismissed", "drafted", "applied"
    ] = Field(
        ...,
        description="* `open` - Open\n* `testing` - Being tested\n* `won` - Tested: the change won\n* `lost` - Tested: the control won\n* `dismissed` - Dismissed\n* `drafted` - Draft change awaiting approval\n* `applied` - Applied to the campaign",
    )
    template: int | None = Field(...)
    campaign: int | None = Field(...)
    expected_lift: float
    change: Any = Field(..., description='{"field": "subject", "from": ..., "to": ...}')
    practice: BestPractice
    experiment: str = Field(..., description="Stable id used for hashing")
    created_at: AwareDatetime


class ProposedTest(BaseModel):
    id: int
    recommendation: PracticeRecommendation
    week: date = Field(..., description="Monday of the testing week")
    surface: str
    audience: str = Field(..., description="segment:<id> or channel:<name>")
    reach: int = Field(..., description="Sends expected in a week")
    uncertainty: float
    expected_value: float
    status: Literal["proposed", "approved", "started", "finished", "rejected"] = Field(
        ...,
        description="* `proposed` - Awaiting approval\n* `approved` - Approved (draft experiment made)\n* `started` - Started\n* `finished` - Finished (the experiment has a winner)\n* `rejected` - Rejected",
    )
    decided_by: int | None = Field(...)
    decided_at: AwareDatetime | None = Field(...)
    created_at: AwareDatetime


class Recommendation(BaseModel):
    id: int
    site: int
    funnel: int | None = Field(...)
    kind: Literal["funnel_drop_off", "high_exit_page", "under_converting_segment"] = (
        Field(
            ...,
            description="* `funnel_drop_off` - Largest funnel drop-off\n* `high_exit_page` - High-exit page\n* `under_converting_segment` - Under-converting segment",
        )
    )
    title: str
    evidence: Any
    proposed_test: Any
    impact_score: float
    status: Literal["open", "test_created", "dismissed"] = Field(
        ...,
        description="* `open` - Open\n* `test_created` - A/B test created\n* `dismissed` - Dismissed",
    )
    experiment_ref: str = Field(..., description="The A/B test created from it")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class Session(BaseModel):
    id: int
    site: int
    session_key: constr(max_length=64)
    visitor: int | None = None
    contact: int | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime
    duration_seconds: int
    pageviews: conint(ge=0) | None = None
    events: conint(ge=0) | None = None
    entry_path: constr(max_length=500) | None = None
    exit_path: constr(max_length=500) | None = None
    referrer: str | None = None
    source: constr(max_length=100) | None = None
    medium: constr(max_length=100) | None = None
    campaign: constr(max_length=200) | None = None
    traffic_class: (
        Literal[
            "direct",
            "organic_search",
            "paid_search",
            "social",
            "email",
            "referral",
            "outreach",
        ]
        | None
    ) = Field(
        None,
        description="* `direct` - Direct\n* `organic_search` - Organic search\n* `paid_search` - Paid search\n* `social` - Social\n* `email` - Email\n* `referral` - Referral\n* `outreach` - Outreach message",
    )
    device: constr(max_length=16) | None = None
    browser: constr(max_length=40) | None = None
    os: constr(max_length=40) | None = None
    is_returning: bool | None = None
    customer_type: Literal["anonymous", "lead", "customer"] | None = Field(
        None,
        description="* `anonymous` - Anonymous\n* `lead` - Lead\n* `customer` - Customer",
    )


class SocialAdvocate(BaseModel):
    id: int
    contact: int
    contact_name: str
    score: float
    tier: Literal["none", "rising", "advocate", "champion"] = Field(
        ...,
        description="* `none` - Not (or no longer) an advocate\n* `rising` - Rising\n* `advocate` - Advocate\n* `champion` - Champion",
    )
    positive_comments: int
    shares: int
    mentions: int
    reach: int
    last_engaged_at: AwareDatetime | None = Field(...)
    review_status: Literal["to_review", "enrolled", "dismissed"] = Field(
        ...,
        description="* `to_review` - To review\n* `enrolled` - Enrolled\n* `dismissed` - Dismissed",
    )
    enrolled_at: AwareDatetime | None = Field(...)


class SocialComment(BaseModel):
    id: int
    account: int
    post: int | None = Field(...)
    kind: str = Field(..., description="comment, mention or story_reply")
    external_id: str
    parent_external_id: str
    author_handle: str
    contact: int | None = Field(...)
    text: str
    commented_at: AwareDatetime
    intent: str
    sentiment: Literal["positive", "neutral", "negative"] | Literal[""]
    status: Literal[
        "new",
        "pending_approval",
        "needs_human",
        "approved",
        "sending",
        "replied",
        "hidden",
        "routed",
        "ignored",
        "failed",
    ] = Field(
        ...,
        description="* `new` - New\n* `pending_approval` - Draft awaiting approval\n* `needs_human` - Needs a human\n* `approved` - Approved, to send\n* `sending` - Sending\n* `replied` - Replied\n* `hidden` - Hidden\n* `routed` - Routed to the inbox\n* `ignored` - Ignored\n* `failed` - Failed",
    )
    rule: int | None = Field(...)
    draft_text: str
    draft_source: str = Field(..., description="ai, template or human")
    approved_by: int | None = Field(...)
    approved_at: AwareDatetime | None = Field(...)
    reply_external_id: str
    replied_at: AwareDatetime | None = Field(...)
    hidden_at: AwareDatetime | None = Field(...)
    last_error: str


class SocialEngagement(BaseModel):
    id: int
    platform: Literal["instagram", "facebook", "linkedin", "x", "sandbox"] = Field(
        ...,
        description="* `instagram` - Instagram\n* `facebook` - Facebook\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `sandbox` - Sandbox",
    )
    account: int
    post: int | None = Field(...)
    contact: int | None = Field(...)
    kind: Literal["like", "comment", "reply", "share", "mention", "save", "dm"] = Field(
        ...,
        description="* `like` - Like\n* `comment` - Comment\n* `reply` - Reply\n* `share` - Share\n* `mention` - Mention\n* `save` - Save\n* `dm` - Direct message",
    )
    external_id: str = Field(
        ..., description="Platform id of the event (comment id, share id…)"
    )
    author_handle: str
    author_followers: int = Field(..., description="The engager's reach")
    sentiment: Literal["positive", "neutral", "negative"] | Literal[""]
    occurred_at: AwareDatetime


class SocialEngagementFunnel(BaseModel):
    id: int
    account: int
    name: constr(max_length=200)
    is_active: bool | None = None
    trigger: Literal["comment_keyword", "mention", "story_reply"] | None = Field(
        None,
        description="* `comment_keyword` - Keyword in a comment\n* `mention` - Mention\n* `story_reply` - Story reply",
    )
    post: int | None = Field(None, description="Blank: any post")
    keywords: Any | None = None
    steps: list[FunnelStep]
    triggered: int
    dm_sent: int
    replied: int
    converted: int
    created_at: AwareDatetime


class SocialEngagementFunnelRequest(BaseModel):
    account: int
    name: constr(min_length=1, max_length=200)
    is_active: bool | None = None
    trigger: Literal["comment_keyword", "mention", "story_reply"] | None = Field(
        None,
        description="* `comment_keyword` - Keyword in a comment\n* `mention` - Mention\n* `story_reply` - Story reply",
    )
    post: int | None = Field(None, description="Blank: any post")
    keywords: Any | None = None
    steps: list[FunnelStepRequest]


class TemplateVariant(BaseModel):
    id: int
    template: int
    field: Literal["subject", "text", "message"] = Field(
        ...,
        description="* `subject` - Subject\n* `text` - Text\n* `message` - Whole message",
    )
    content: str | None = Field(
        None, description="The subject or text (single-field variants)"
    )
    subject: constr(max_length=998) | None = None
    preview: constr(max_length=200) | None = Field(
        None, description="Preview text (email preheader)"
    )
    body: str | None = Field(
        None, description="Text body (Jinja2, the template's variables)"
    )
    html: str | None = Field(
        None, description="HTML body (email); built from the text when blank"
    )
    cta_label: constr(max_length=100) | None = None
    cta_link: constr(max_length=50) | None = Field(
        None, description="Name of a tracked campaign link"
    )
    whatsapp_template: constr(max_length=200) | None = Field(
        None,
        description="Approved WhatsApp template of this copy (business-initiated sends)",
    )
    language: str
    draft: int | None = Field(...)
    checks: Any = Field(..., description="Guard findings: errors, warnings, claims")
    status: Literal["draft", "approved", "rejected"] = Field(
        ...,
        description="* `draft` - Draft (awaiting approval)\n* `approved` - Approved\n* `rejected` - Rejected",
    )
    source: str = Field(..., description="llm model name or 'local'")
    brief: str
    review_note: str
    approved_at: AwareDatetime | None = Field(...)
    created_at: AwareDatetime


class Touchpoint(BaseModel):
    id: int
    channel: Literal[
        "email",
        "sms",
        "whatsapp",
        "instagram",
        "facebook",
        "linkedin",
        "x",
        "chat",
        "organic_search",
        "paid_search",
        "social_organic",
        "social_paid",
        "referral",
        "direct",
        "other",
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat\n* `organic_search` - Organic search\n* `paid_search` - Paid search\n* `social_organic` - Organic social\n* `social_paid` - Paid social\n* `referral` - Referral\n* `direct` - Direct\n* `other` - Other",
    )
    kind: (
        Literal[
            "delivered",
            "opened",
            "clicked",
            "replied",
            "session",
            "engagement",
            "other",
        ]
        | None
    ) = Field(
        None,
        description="* `delivered` - Delivered\n* `opened` - Opened\n* `clicked` - Clicked\n* `replied` - Replied\n* `session` - Website session\n* `engagement` - Social engagement\n* `other` - Other",
    )
    occurred_at: AwareDatetime
    campaign: constr(max_length=200) | None = None
    utm_source: constr(max_length=100) | None = None
    utm_medium: constr(max_length=100) | None = None
    source: Literal[
        "message_event", "inbound", "website_session", "social", "manual"
    ] = Field(
        ...,
        description="* `message_event` - Outbound message event\n* `inbound` - Inbound reply\n* `website_session` - Website session\n* `social` - Social engagement\n* `manual` - Manual",
    )
    visitor_id: constr(max_length=64) | None = None


class WebhookDelivery(BaseModel):
    id: int
    endpoint: int
    event_id: str = Field(
        ..., description="webhook-id: the same on every retry and replay"
    )
    event_type: Literal[
        "message.received",
        "draft.created",
        "draft.approved",
        "message.sent",
        "message.delivered",
        "message.failed",
        "conversation.assigned",
        "conversion.recorded",
        "experiment.concluded",
        "contact.erased",
    ] = Field(
        ...,
        description="* `message.received` - Inbound message received\n* `draft.created` - Reply draft created\n* `draft.approved` - Reply draft approved and sent\n* `message.sent` - Message sent\n* `message.delivered` - Message delivered\n* `message.failed` - Message failed\n* `conversation.assigned` - Conversation assigned\n* `conversion.recorded` - Conversion recorded\n* `experiment.concluded` - Experiment concluded\n* `contact.erased` - Contact erased",
    )
    body: str = Field(..., description="The JSON body, byte for byte as signed")
    status: Literal["pending", "succeeded", "failed"] = Field(
        ...,
        description="* `pending` - Pending (retrying)\n* `succeeded` - Succeeded\n* `failed` - Failed (retries exhausted or endpoint disabled)",
    )
    attempts: int
    next_attempt_at: AwareDatetime
    last_status_code: int | None = Field(...)
    last_error: str
    created_at: AwareDatetime
    delivered_at: AwareDatetime | None = Field(...)


class WebhookEndpoint(BaseModel):
    id: int
    url: AnyUrl
    description: constr(max_length=200) | None = None
    event_types: list[
        Literal[
            "message.received",
            "draft.created",
            "draft.approved",
            "message.sent",
            "message.delivered",
            "message.failed",
            "conversation.assigned",
            "conversion.recorded",
            "experiment.concluded",
            "contact.erased",
        ]
    ] = Field(..., min_length=1)
    is_active: bool | None = None
    api_key: str | None = Field(...)
    disabled_at: AwareDatetime | None = Field(...)
    disabled_reason: str
    consecutive_failures: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class WebhookEndpointRequest(BaseModel):
    url: AnyUrl
    description: constr(max_length=200) | None = None
    event_types: list[
        Literal[
            "message.received",
            "draft.created",
            "draft.approved",
            "message.sent",
            "message.delivered",
            "message.failed",
            "conversation.assigned",
            "conversion.recorded",
            "experiment.concluded",
            "contact.erased",
        ]
    ] = Field(..., min_length=1)
    is_active: bool | None = None


class WebhookEndpointSecret(BaseModel):
    id: int
    url: AnyUrl
    description: constr(max_length=200) | None = None
    event_types: list[
        Literal[
            "message.received",
            "draft.created",
            "draft.approved",
            "message.sent",
            "message.delivered",
            "message.failed",
            "conversation.assigned",
            "conversion.recorded",
            "experiment.concluded",
            "contact.erased",
        ]
    ] = Field(..., min_length=1)
    is_active: bool | None = None
    api_key: str | None = Field(...)
    disabled_at: AwareDatetime | None = Field(...)
    disabled_reason: str
    consecutive_failures: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    secret: str = Field(
        ..., description="whsec_… : verify our signatures with it; store it now"
    )


class WebhookEvent(BaseModel):
    id: int
    provider: str
    kind: str
    received_at: AwareDatetime
    verification: str = Field(..., description="How the request was verified")
    status: Literal["pending", "processed", "failed"] = Field(
        ...,
        description="* `pending` - Pending\n* `processed` - Processed\n* `failed` - Failed",
    )
    attempts: int
    last_error: str
    processed_at: AwareDatetime | None = Field(...)


class BulkUpsertRequest(BaseModel):
    contacts: list[ContactWriteRequest] = Field(
        ..., description="At most 1000; matched by external_id or identity"
    )


class Campaign(BaseModel):
    id: int
    name: constr(max_length=200)
    status: Literal[
        "draft", "scheduled", "running", "paused", "completed", "cancelled"
    ] = Field(
        ...,
        description="* `draft` - Draft\n* `scheduled` - Scheduled\n* `running` - Running\n* `paused` - Paused\n* `completed` - Completed\n* `cancelled` - Cancelled",
    )
    segment: int
    recurring: bool | None = Field(
        None, description="Re-evaluate the segment every day"
    )
    goal_conversion: (
        constr(pattern=r"^[-a-zA-Z0-9_]+$", max_length=50) | constr(max_length=0) | None
    ) = Field(None, description="Conversion type code that ends a contact's journey")
    holdout_percent: conint(ge=0, le=50) | None = Field(
        None, description="Control group that receives nothing"
    )
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    window_start_hour: conint(ge=0, le=23) | None = Field(
        None, description="Earliest local hour to send (contact's zone)"
    )
    window_end_hour: conint(ge=1, le=24) | None = Field(
        None, description="Sends stop at this hour"
    )
    send_weekdays: list[conint(ge=0, le=6)] | None = Field(
        None,
        description="Local weekdays to send on, 0 = Monday … 6 = Sunday; empty: every day",
        max_length=7,
    )
    daily_volume_cap: conint(ge=0) | None = None
    daily_spend_cap: Decimal | None = None
    sto_enabled: bool | None = Field(
        None, description="Send at each contact's best hour"
    )
    sto_control_percent: conint(ge=0, le=50) | None = Field(
        None, description="Share sent without STO, to measure it"
    )
    links: Any | None = Field(
        None, description='Tracked links: {"offer": "https://..."}'
    )
    subject_test: int | None = Field(
        None,
        description="A/B test whose variants carry {'subject': ...} for email sends",
    )
    send_test: int | None = Field(
        None,
        description='Send-time or channel experiment: each arm carries its own window ({"window_start_hour": 8, "window_end_hour": 12}), weekdays ({"send_weekdays": [1, 2]}) or channel ({"channel": "sms", "steps": [step ids]}); the planner assigns the arms',
    )
    steps: list[CampaignStep]
    created_at: AwareDatetime
    launched_at: AwareDatetime | None = Field(...)
    completed_at: AwareDatetime | None = Field(...)


class ContentDraft(BaseModel):
    id: int
    brief: str = Field(..., description="What to say, to whom, and why now")
    template: int = Field(..., description="Whose variants these are")
    segment: int | None = Field(...)
    sources: Any = Field(..., description='[{"title": ..., "text": ..., "link": ...}]')
    language: str
    source: str = Field(..., description="llm model name or 'local'")
    structure: Any = Field(..., description="subject_options, preview, sections, ctas")
    llm_error: str = Field(..., description="Why the LLM draft fell back to local")
    status: Literal["draft", "approved", "rejected"] = Field(
        ...,
        description="* `draft` - Draft (awaiting approval)\n* `approved` - Approved\n* `rejected` - Rejected",
    )
    variants: list[TemplateVariant]
    created_at: AwareDatetime


class Conversion(BaseModel):
    id: int
    external_id: str
    type: str
    value: Decimal
    currency: str
    contact_id: int | None = Field(...)
    visitor_id: str
    occurred_at: AwareDatetime
    source: Literal["api", "tracker", "admin", "outreach", "import"] = Field(
        ...,
        description="* `api` - API\n* `tracker` - Website tracker rule\n* `admin` - Admin\n* `outreach` - Outreach goal\n* `import` - Import",
    )
    recorded_at: AwareDatetime
    attributed_at: AwareDatetime | None = Field(...)
    journey: list[JourneyTouch]


class CreatedTest(BaseModel):
    recommendation: Recommendation
    experiment_key: str


class MessageDetail(BaseModel):
    id: UUID
    channel: Literal[
        "email", "sms", "whatsapp", "instagram", "facebook", "linkedin", "x", "chat"
    ] = Field(
        ...,
        description="* `email` - Email\n* `sms` - SMS\n* `whatsapp` - WhatsApp\n* `instagram` - Instagram\n* `facebook` - Facebook Messenger\n* `linkedin` - LinkedIn\n* `x` - X (Twitter)\n* `chat` - Website chat",
    )
    contact: int | None = Field(...)
    to: str = Field(..., description="Identity value at send time")
    provider: str
    status: Literal[
        "queued",
        "sending",
        "sent",
        "delivered",
        "opened",
        "clicked",
        "replied",
        "failed",
    ] = Field(
        ...,
        description="* `queued` - Queued\n* `sending` - Sending\n* `sent` - Sent\n* `delivered` - Delivered\n* `opened` - Opened\n* `clicked` - Clicked\n* `replied` - Replied\n* `failed` - Failed",
    )
    source: str = Field(..., description="campaign, inbox, social, test…")
    subject: str
    provider_message_id: str | None = Field(...)
    cost: Decimal | None = Field(...)
    currency: str
    attempts_count: int
    failure_code: str
    failure_reason: str
    created_at: AwareDatetime
    sent_at: AwareDatetime | None = Field(...)
    delivered_at: AwareDatetime | None = Field(...)
    opened_at: AwareDatetime | None = Field(...)
    clicked_at: AwareDatetime | None = Field(...)
    replied_at: AwareDatetime | None = Field(...)
    failed_at: AwareDatetime | None = Field(...)
    text: str
    html: str
    headers: Any
    template_name: str
    attempts: list[DeliveryAttempt]
    events: list[MessageEvent]


class PaginatedCampaignList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Campaign]


class PaginatedContentDraftList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[ContentDraft]


class PaginatedConversionList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Conversion]


class PaginatedPracticeRecommendationList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[PracticeRecommendation]


class PaginatedProposedTestList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[ProposedTest]


class PaginatedRecommendationList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Recommendation]


class PaginatedSessionList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[Session]


class PaginatedSocialAdvocateList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[SocialAdvocate]


class PaginatedSocialCommentList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[SocialComment]


class PaginatedSocialEngagementFunnelList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[SocialEngagementFunnel]


class PaginatedSocialEngagementList(BaseModel):
    next: AnyUrl | None = Field(
        None, examples=['http://api.example.org/accounts/?cursor=cD00ODY%3D"']
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?cursor=cj0xJnA9NDg3"]
    )
    results: list[SocialEngagement]


class PaginatedTemplateVariantList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[TemplateVariant]


class PaginatedWebhookDeliveryList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[WebhookDelivery]


class PaginatedWebhookEndpointList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[WebhookEndpoint]


class PaginatedWebhookEventList(BaseModel):
    count: int = Field(..., examples=[123])
    next: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=4"]
    )
    previous: AnyUrl | None = Field(
        None, examples=["http://api.example.org/accounts/?page=2"]
    )
    results: list[WebhookEvent]


class ContactJourney(BaseModel):
    contact_id: int
    touchpoints: list[Touchpoint]
    conversions: list[Conversion]
