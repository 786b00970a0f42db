"""The console's navigation, grouped by task: each entry shows only to users whose role may
open it. Low-level tables sit under "Internals", for admins."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


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
        NavLink("Audit log", "admin:madansara_auditevent_changelist", "madansara.view_auditevent"),
        NavLink("Users", "admin:auth_user_changelist", "auth.view_user"),
    ]),
]  # fmt: skip


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
    return {"console_nav": nav_for(user)}
