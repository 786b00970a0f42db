"""The marketer's home: running campaigns and the channels that answer best."""

from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from madansara.charts import bar_chart
from madansara.home import Card
from madansara.roles import ROLE_ADMIN, ROLE_ANALYST, ROLE_MARKETER
from outreach.models import CampaignStatus, ContactEngagement, OutreachCampaign


def role_cards(*, user, role) -> list[Card]:
    cards = []
    if role in (ROLE_MARKETER, ROLE_ADMIN) and user.has_perm("outreach.view_outreachcampaign"):
        cards.append(_running_campaigns())
    if role in (ROLE_MARKETER, ROLE_ADMIN, ROLE_ANALYST) and user.has_perm("outreach.view_contactengagement"):
        cards.append(_best_channels())
    return cards


def _running_campaigns() -> Card:
    campaigns = (
        OutreachCampaign.objects.filter(status=CampaignStatus.RUNNING)
        .annotate(enrolled=Count("enrollments"), active=Count("enrollments", filter=Q(enrollments__state="active")))
        .order_by("-starts_at", "-id")[:6]
    )
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:outreach_outreachcampaign_change", args=[c.pk]),
                c.name,
                f"{c.enrolled:,}",
                f"{c.active:,}",
                c.starts_at.strftime("%d %b") if c.starts_at else "—",
            )
            for c in campaigns
        ),
    )
    body = (
        format_html(
            "<table><tr><th>Campaign</th><th>Enrolled</th><th>In progress</th><th>Since</th></tr>{}</table>", rows
        )
        if rows
        else format_html('<p class="why">{}</p>', "No campaign is running. Launch one from Campaigns (action: Launch).")
    )
    return Card("Running campaigns", body, ("All campaigns", reverse("admin:outreach_outreachcampaign_changelist")), 20)


def _best_channels() -> Card:
    totals = (
        ContactEngagement.objects.values("channel")
        .annotate(sent=Sum("sent"), responses=Sum("responses"))
        .filter(sent__gt=0)
        .annotate(rate=F("responses") * 100.0 / F("sent"))
        .order_by("-rate")
    )
    chart = bar_chart(
        rows=[(row["channel"], row["rate"]) for row in totals],
        title="Response rate by channel",
        value_format="{:.1f} %",
        empty_text="No message sent yet, so no channel has a response rate. Launch a campaign; opens, clicks "
        "and replies recorded by the providers' webhooks fill this chart.",
    )
    body = format_html('<p class="why">{}</p>{}', "Share of sent messages that got an open, click or reply.", chart)
    return Card("Best channels", body, None, 22)
