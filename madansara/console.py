"""The console's navigation, grouped by task: each entry shows only to users whose role may
open it. Low-level tables sit under "Internals", for admins."""

from dataclasses import dataclass

from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from madansara.home import user_role
from madansara.roles import ROLE_ADMIN


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str
    perm: str  # the permission that opens it ("app.view_model")


NAV: list[tuple[str, list[NavLink]]] = [
    ("Inbox", [
        NavLink("Review queue", "admin:inbox_replydraft_changelist", "inbox.view_replydraft"),
        NavLink("Conversations", "admin:inbox_conversation_changelist", "inbox.view_conversation"),
        NavLink("Templates", "admin:inbox_responsetemplate_changelist", "inbox.view_responsetemplate"),
        NavLink("Knowledge", "admin:inbox_knowledgesnippet_changelist", "inbox.view_knowledgesnippet"),
        NavLink("SLA policies", "admin:inbox_slapolicy_changelist", "inbox.view_slapolicy"),
        NavLink("Auto-send rules", "admin:inbox_autosendpolicy_changelist", "inbox.view_autosendpolicy"),
    ]),
    ("Audience", [
        NavLink("Contacts", "admin:contacts_contact_changelist", "contacts.view_contact"),
        NavLink("Segments", "admin:outreach_segment_changelist", "outreach.view_segment"),
        NavLink("Suppression", "admin:outreach_suppressionentry_changelist", "outreach.view_suppressionentry"),
    ]),
    ("Campaigns", [
        NavLink("Campaigns", "admin:outreach_outreachcampaign_changelist", "outreach.view_outreachcampaign"),
        NavLink("Message templates", "admin:outreach_channeltemplate_changelist", "outreach.view_channeltemplate"),
        NavLink("Content drafts", "admin:outreach_contentdraft_changelist", "outreach.view_contentdraft"),
        NavLink("Experiments", "admin:abtesting_abtest_changelist", "abtesting.view_abtest"),
        NavLink("Social", "admin:social_socialpost_changelist", "social.view_socialpost"),
    ]),
    ("Insights", [
        NavLink("Attribution", "admin:conversion_attribution", "conversion.view_channelperformance"),
        NavLink("Channel ROI", "admin:conversion_channelperformance_changelist", "conversion.view_channelperformance"),
        NavLink("Funnels", "admin:website_funneldefinition_changelist", "website.view_funneldefinition"),
        NavLink("Websites", "admin:website_site_changelist", "website.view_site"),
    ]),
    ("Settings", [
        NavLink("API keys", "admin:madansara_apikey_changelist", "madansara.view_apikey"),
        NavLink("Agent requests", "admin:agents_agentactionrequest_changelist", "agents.view_agentactionrequest"),
        NavLink("Audit log", "admin:madansara_auditevent_changelist", "madansara.view_auditevent"),
        NavLink("Users", "admin:auth_user_changelist", "auth.view_user"),
    ]),
]  # fmt: skip


# The low-level tables, by what they record; every registered model that is in neither NAV nor here
# is listed under "Other tables", so nothing in the admin is out of reach.
INTERNALS: list[tuple[str, str, list[str]]] = [
    ("Delivery", "Every send, provider call, status event and webhook, as stored.", [
        "channels.Message", "channels.DeliveryAttempt", "channels.MessageEvent", "channels.WebhookEvent",
        "channels.InboundMessage", "channels.SandboxMessage", "channels.RateLimitBucket", "outreach.DirectSend",
        "notifications.Notification", "notifications.Delivery", "webhooks_out.WebhookDelivery",
    ]),
    ("Campaign engine", "The outbox, journeys, spend, caps and prices campaigns run on.", [
        "outreach.OutboxMessage", "outreach.CampaignEnrollment", "outreach.CampaignSpend",
        "outreach.ContactEngagement", "outreach.FrequencyCap", "outreach.ChannelCost", "outreach.TemplateVariant",
        "contacts.Tag",
    ]),
    ("Experiments", "Exposures, per-unit metrics, daily sums, snapshots and the decision log.", [
        "abtesting.ABTestVariant", "abtesting.ABTestExposure", "abtesting.ABTestUnitMetric",
        "abtesting.ABTestDailyStat", "abtesting.ABTestSnapshot", "abtesting.ABTestDecision",
    ]),
    ("Tracking and attribution", "Raw tracker rows, sessions, daily funnel snapshots, touchpoints and credits.", [
        "website.WebsiteEvent", "website.WebsiteSession", "website.WebsiteVisitor", "website.FunnelAnalytics",
        "website.IngestSpoolReceipt", "website.OptimizationRecommendation", "conversion.CustomerTouchpoint",
        "conversion.JourneyTouch", "conversion.AttributionCredit", "conversion.ChannelCost",
        "conversion.ConversionRule", "conversion.ConversionType", "conversion.ConversionEvent",
    ]),
    ("Inbox machinery", "Classifications, SLA events, teams, intents and the inbox's small tables.", [
        "inbox.AIClassification", "inbox.SLAEvent", "inbox.ConversationMessage", "inbox.InternalNote",
        "inbox.Agent", "inbox.Team", "inbox.BusinessHours", "inbox.Intent", "inbox.Label", "inbox.AutoSendSettings",
        "channels.ChatThread",
    ]),
    ("Social", "Accounts, sync runs, engagements, insights and the comment funnels.", [
        "social.SocialAccount", "social.SocialSyncRun", "social.SocialEngagement", "social.SocialComment",
        "social.PlatformInsight", "social.SocialAdvocate", "social.EngagementWeight", "social.CommentRule",
        "social.SocialEngagementFunnel", "social.FunnelRun", "social.PrivateReply",
    ]),
    ("Learning", "Extraction runs, practices, recommendations, proposed tests and campaign changes.", [
        "bestpractices.PatternRun", "bestpractices.BestPractice", "bestpractices.Recommendation",
        "bestpractices.ProposedTest", "bestpractices.CampaignChange", "bestpractices.DraftEditPattern",
    ]),
    ("Jobs and security", "Scheduled tasks, login lockouts, agent action tiers, outbound webhook endpoints.", [
        "django_celery_beat.PeriodicTask", "django_celery_beat.CrontabSchedule",
        "django_celery_beat.IntervalSchedule", "django_celery_beat.ClockedSchedule",
        "django_celery_beat.SolarSchedule", "axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog",
        "madansara.ActionPolicy", "webhooks_out.WebhookEndpoint", "notifications.NotificationPreference",
        "auth.Group",
    ]),
]  # fmt: skip


@dataclass(frozen=True)
class TableLink:
    label: str
    url: str
    about: str  # the model's one-line docstring, when it has one


def _table_link(model) -> TableLink | None:
    opts = model._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        return None
    doc = (model.__doc__ or "").strip().split("\n")[0]
    about = "" if doc.startswith(f"{model.__name__}(") else doc  # Django's generated signature says nothing
    return TableLink(str(opts.verbose_name_plural).capitalize(), url, about)


def _registered(label: str):
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return model if admin.site.is_registered(model) else None


def internals_sections() -> list[tuple[str, str, list[TableLink]]]:
    """[(group, why, [table, ...]), ...]: INTERNALS, then "Other tables": every other registered model
    outside the task navigation. For admins (the page refuses everyone else)."""
    in_nav = {link.url_name for _, links in NAV for link in links}
    listed = {label for _, _, labels in INTERNALS for label in labels}
    sections = []
    for group, why, labels in INTERNALS:
        links = [_table_link(model) for model in map(_registered, labels) if model is not None]
        sections.append((group, why, [link for link in links if link]))
    rest = []
    for model in admin.site._registry:
        opts = model._meta
        if opts.label in listed or f"admin:{opts.app_label}_{opts.model_name}_changelist" in in_nav:
            continue
        link = _table_link(model)
        if link:
            rest.append(link)
    if rest:
        sections.append(("Other tables", "Registered in the admin, in no group above yet.", sorted(rest, key=str)))
    return sections


def nav_for(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group, [(label, url), ...]), ...] of the entries the user's role may open."""
    groups = []
    for group, links in NAV:
        entries = []
        for link in links:
            if not user.has_perm(link.perm):
                continue
            try:
                entries.append((link.label, reverse(link.url_name)))
            except NoReverseMatch:
                continue
        if entries:
            groups.append((group, entries))
    return groups


def console_nav(request) -> dict:
    """Template context processor: the grouped navigation for the logged-in staff user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff or not request.path.startswith("/admin"):
        return {}
    return {"console_nav": nav_for(user), "console_admin": user_role(user) == ROLE_ADMIN}
