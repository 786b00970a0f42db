import re
import secrets
import zoneinfo
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models


def new_public_key() -> str:
    return f"site_{secrets.token_urlsafe(12)}"


def new_identity_secret() -> str:
    return secrets.token_hex(32)


class Site(models.Model):
    """A website that runs the Madan Sara tracker."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, help_text="Main host name, e.g. shop.example.com")
    public_key = models.CharField(max_length=64, unique=True, default=new_public_key)
    identity_secret = models.CharField(
        max_length=64,
        default=new_identity_secret,
        help_text="Server-side only: sign identify calls with hex HMAC-SHA256(this secret, user id or email)",
    )
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text='Origins allowed to send events, e.g. ["https://shop.example.com"]'
    )
    respect_dnt = models.BooleanField(default=True, help_text="Honour Do-Not-Track / Global Privacy Control")
    cookieless = models.BooleanField(default=False, help_text="Do not store an anonymous id on the device")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def allows_origin(self, origin: str) -> bool:
        return bool(origin) and origin.rstrip("/") in {o.rstrip("/") for o in self.allowed_origins}


class TrafficClass(models.TextChoices):
    DIRECT = "direct", "Direct"
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    SOCIAL = "social", "Social"
    EMAIL = "email", "Email"
    REFERRAL = "referral", "Referral"
    OUTREACH = "outreach", "Outreach message"


class CustomerType(models.TextChoices):
    ANONYMOUS = "anonymous", "Anonymous"
    LEAD = "lead", "Lead"
    CUSTOMER = "customer", "Customer"


class WebsiteVisitor(models.Model):
    """An anonymous browser (or cookieless daily hash) on a site, stitched to a contact on identify."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visitors")
    anonymous_id = models.CharField(max_length=64)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="website_visitors"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    sessions_count = models.PositiveIntegerField(default=0)
    identified_at = models.DateTimeField(null=True, blank=True)
    # What an unsigned identify claimed: recorded, never trusted (no contact is created or attached).
    claimed_id = models.CharField(max_length=255, blank=True)
    claimed_traits = models.JSONField(default=dict, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "anonymous_id"], name="website_visitor_unique_anonymous_id")
        ]
        indexes = [models.Index(fields=["site", "last_seen_at"])]

    def __str__(self):
        return self.anonymous_id

    @property
    def is_returning(self) -> bool:
        return self.sessions_count > 1


class WebsiteSession(models.Model):
    """A visit: consecutive events of one visitor, 30 minutes of inactivity or 24 hours at most."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64)
    visitor = models.ForeignKey(WebsiteVisitor, null=True, on_delete=models.SET_NULL, related_name="sessions")
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="website_sessions"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    pageviews = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    entry_url = models.TextField(blank=True)
    exit_url = models.TextField(blank=True)
    entry_path = models.CharField(max_length=500, blank=True)
    exit_path = models.CharField(max_length=500, blank=True)
    referrer = models.TextField(blank=True)
    source = models.CharField(max_length=100, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    traffic_class = models.CharField(max_length=16, choices=TrafficClass.choices, default=TrafficClass.DIRECT)
    outreach_message_id = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=16, blank=True)
    browser = models.CharField(max_length=40, blank=True)
    os = models.CharField(max_length=40, blank=True)
    is_returning = models.BooleanField(default=False)
    customer_type = models.CharField(max_length=16, choices=CustomerType.choices, default=CustomerType.ANONYMOUS)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "session_key"], name="website_session_unique_key"),
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")), name="website_session_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["site", "started_at"]),
            models.Index(fields=["site", "traffic_class", "started_at"]),
        ]

    def __str__(self):
        return f"{self.session_key} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def duration_seconds(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())

    @property
    def is_bounce(self) -> bool:
        return self.pageviews <= 1 and self.events <= 1


class WebsiteEvent(models.Model):
    """One tracked event. Partitioned by month on PostgreSQL (see migration 0002); written by COPY."""

    id = models.BigAutoField(primary_key=True)
    site = models.ForeignKey(Site, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    name = models.CharField(max_length=100)
    visitor_id = models.CharField(max_length=64)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    session_id = models.CharField(max_length=64)
    url = models.TextField()
    path = models.CharField(max_length=500)
    referrer = models.TextField()
    props = models.JSONField(default=dict)
    device = models.CharField(max_length=16)
    browser = models.CharField(max_length=40)
    os = models.CharField(max_length=40)
    ip = models.CharField(max_length=45)

    class Meta:
        managed = False
        db_table = "website_event"

    def __str__(self):
        return f"{self.name} {self.visitor_id} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class FunnelOrder(models.TextChoices):
    SEQUENTIAL = "sequential", "Sequential (other events allowed between steps)"
    STRICT = "strict", "Strict (steps immediately follow each other)"
    ANY_ORDER = "any_order", "Any order"


def validate_funnel_steps(steps) -> None:
    """2–10 steps, each {"event": name, "filters": {prop: value}} or {"url": "/pattern*"}."""
    if not isinstance(steps, list) or not 2 <= len(steps) <= 10:
        raise ValidationError("A funnel has between 2 and 10 steps.")
    for index, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or bool(step.get("event")) == bool(step.get("url")):
            raise ValidationError(f"Step {index}: give either an event name or a URL pattern.")
        filters = step.get("filters", {})
        if not isinstance(filters, dict) or not all(isinstance(v, str | int | float | bool) for v in filters.values()):
            raise ValidationError(f"Step {index}: filters map property names to plain values.")


class FunnelDefinition(models.Model):
    """Steps, order mode and conversion window of a funnel on one site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="funnels")
    name = models.CharField(max_length=200)
    steps = models.JSONField(validators=[validate_funnel_steps])
    order_mode = models.CharField(max_length=16, choices=FunnelOrder.choices, default=FunnelOrder.SEQUENTIAL)
    window_days = models.PositiveSmallIntegerField(default=14)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="website_funnel_unique_name"),
            models.CheckConstraint(condition=models.Q(window_days__gte=1), name="website_funnel_window_positive"),
        ]

    def __str__(self):
        return self.name

    def step_labels(self) -> list[str]:
        return [step.get("label") or step.get("event") or step.get("url") for step in self.steps]

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


class FunnelAnalytics(models.Model):
    """A daily snapshot of a funnel for the cohort that entered on `day`."""

    funnel = models.ForeignKey(FunnelDefinition, on_delete=models.CASCADE, related_name="snapshots")
    day = models.DateField()
    entered = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "funnel analytics"
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["funnel", "day"], name="website_funnel_snapshot_unique_day")]

    def __str__(self):
        return f"{self.funnel} {self.day}"

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.entered if self.entered else 0.0


class RecommendationKind(models.TextChoices):
    FUNNEL_DROP_OFF = "funnel_drop_off", "Largest funnel drop-off"
    HIGH_EXIT_PAGE = "high_exit_page", "High-exit page"
    UNDER_CONVERTING_SEGMENT = "under_converting_segment", "Under-converting segment"


class RecommendationStatus(models.TextChoices):
    OPEN = "open", "Open"
    TEST_CREATED = "test_created", "A/B test created"
    DISMISSED = "dismissed", "Dismissed"


class OptimizationRecommendation(models.Model):
    """A rule's finding with its evidence and a proposed A/B test."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="recommendations")
    funnel = models.ForeignKey(
        FunnelDefinition, null=True, blank=True, on_delete=models.CASCADE, related_name="recommendations"
    )
    kind = models.CharField(max_length=32, choices=RecommendationKind.choices)
    fingerprint = models.CharField(max_length=200, help_text="Same finding, same fingerprint: reruns update it")
    title = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict)
    proposed_test = models.JSONField(default=dict)
    impact_score = models.FloatField(default=0.0)
    status = models.CharField(max_length=16, choices=RecommendationStatus.choices, default=RecommendationStatus.OPEN)
    experiment_ref = models.CharField(max_length=200, blank=True, help_text="The A/B test created from it")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-impact_score", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "fingerprint"], name="website_recommendation_unique_fingerprint")
        ]

    def __str__(self):
        return self.title

    def can_create_test(self) -> bool:
        return self.status == RecommendationStatus.OPEN


class IngestSpoolReceipt(models.Model):
    """A spooled batch already stored: makes replaying the spool after a crash exactly-once."""

    batch_id = models.CharField(max_length=80, unique=True)
    events = models.PositiveIntegerField(default=0)
    stored_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.batch_id


HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour is #rrggbb, e.g. #2563eb.")
TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
PRECHAT_FIELDS = ("name", "email")
WIDGET_LANGUAGES = ("en", "fr", "es", "ht")


def validate_weekly_hours(value) -> None:
    """{"0": [["09:00", "17:00"]], ... "6": []}: Monday is 0; {} means always open."""
    if not isinstance(value, dict):
        raise ValidationError('Business hours are an object such as {"0": [["09:00", "17:00"]]}.')
    for day, ranges in value.items():
        if day not in {str(d) for d in range(7)} or not isinstance(ranges, list):
            raise ValidationError(f'\'{day}\': days are "0" (Monday) to "6" (Sunday), each a list of ranges.')
        for pair in ranges:
            if not (isinstance(pair, list) and len(pair) == 2 and all(TIME_OF_DAY.match(str(t)) for t in pair)):
                raise ValidationError(f'Day {day}: each range is ["HH:MM", "HH:MM"].')
            if pair[0] >= pair[1]:
                raise ValidationError(f"Day {day}: {pair[0]}-{pair[1]} ends before it starts.")


class ChatWidgetPosition(models.TextChoices):
    RIGHT = "right", "Bottom right"
    LEFT = "left", "Bottom left"


class ChatWidget(models.Model):
    """The website chat of one site: how the widget looks and greets, when agents answer, what it
    asks before a chat starts and in which languages (see website/chat.py and static/madansara-chat.js)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="chat_widget")
    is_enabled = models.BooleanField(default=True)
    title = models.CharField(max_length=80, default="Chat with us")
    greeting = models.CharField(max_length=500, default="Hi! How can we help you today?")
    away_message = models.CharField(
        max_length=500, default="We are away right now. Leave your e-mail and we will answer there."
    )
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per language: {"fr": {"title": "…", "greeting": "…", "away_message": "…"}}',
    )
    languages = models.JSONField(
        default=list, blank=True, help_text=f"Offered languages among {', '.join(WIDGET_LANGUAGES)}"
    )
    primary_colour = models.CharField(max_length=7, default="#2563eb", validators=[HEX_COLOUR])
    text_colour = models.CharField(max_length=7, default="#ffffff", validators=[HEX_COLOUR])
    position = models.CharField(max_length=5, choices=ChatWidgetPosition.choices, default=ChatWidgetPosition.RIGHT)
    timezone = models.CharField(max_length=64, default="UTC")
    business_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_weekly_hours],
        help_text='{"0": [["09:00", "17:00"]], …}; empty: always open',
    )
    prechat_fields = models.JSONField(
        default=list, blank=True, help_text=f"Asked before the first message, among {', '.join(PRECHAT_FIELDS)}"
    )
    ask_csat = models.BooleanField(default=True, help_text="Ask the visitor to rate the chat when it ends")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Chat on {self.site}"

    def clean(self):
        errors = {}
        if any(lang not in WIDGET_LANGUAGES for lang in self.languages or []):
            errors["languages"] = f"Languages are among {', '.join(WIDGET_LANGUAGES)}."
        if any(field not in PRECHAT_FIELDS for field in self.prechat_fields or []):
            errors["prechat_fields"] = f"Pre-chat fields are among {', '.join(PRECHAT_FIELDS)}."
        if not isinstance(self.translations, dict) or any(
            lang not in WIDGET_LANGUAGES or not isinstance(texts, dict)
            for lang, texts in (self.translations or {}).items()
        ):
            errors["translations"] = 'Translations are {"fr": {"greeting": "…"}} for offered languages.'
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = f"'{self.timezone}' is not an IANA time zone (e.g. Europe/Paris)."
        if errors:
            raise ValidationError(errors)
