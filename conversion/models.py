"""Conversions, touchpoints, stored journeys, attribution credit and channel performance."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from madansara.money import money_format

DEFAULT_LOOKBACK_DAYS = 30


class Channel(models.TextChoices):
    """One channel taxonomy for every touchpoint, outreach, social and web alike."""

    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X (Twitter)"
    CHAT = "chat", "Website chat"
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    SOCIAL_ORGANIC = "social_organic", "Organic social"
    SOCIAL_PAID = "social_paid", "Paid social"
    REFERRAL = "referral", "Referral"
    DIRECT = "direct", "Direct"
    OTHER = "other", "Other"


class AttributionModel(models.TextChoices):
    FIRST_TOUCH = "first_touch", "First touch"
    LAST_TOUCH = "last_touch", "Last touch"
    LAST_NON_DIRECT = "last_non_direct", "Last non-direct"
    LINEAR = "linear", "Linear"
    POSITION_BASED = "position_based", "Position based"
    TIME_DECAY = "time_decay", "Time decay"
    MARKOV = "markov", "Markov (removal effect)"
    SHAPLEY = "shapley", "Shapley"


class ConversionSource(models.TextChoices):
    API = "api", "API"
    TRACKER = "tracker", "Website tracker rule"
    ADMIN = "admin", "Admin"
    OUTREACH = "outreach", "Outreach goal"
    IMPORT = "import", "Import"


class TouchpointSource(models.TextChoices):
    MESSAGE_EVENT = "message_event", "Outbound message event"
    INBOUND = "inbound", "Inbound reply"
    WEBSITE_SESSION = "website_session", "Website session"
    SOCIAL = "social", "Social engagement"
    MANUAL = "manual", "Manual"


class TouchKind(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    REPLIED = "replied", "Replied"
    SESSION = "session", "Website session"
    ENGAGEMENT = "engagement", "Social engagement"
    OTHER = "other", "Other"


class ConversionType(models.Model):
    """A kind of conversion (signup, demo_booked, purchase) and how far back its journey looks."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    lookback_days = models.PositiveIntegerField(default=DEFAULT_LOOKBACK_DAYS)
    default_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(lookback_days__gte=1), name="conversiontype_lookback_positive")
        ]

    def __str__(self):
        return self.name or self.code


class ConversionRule(models.Model):
    """Turns a website tracker event (by name, optionally per site) into a conversion."""

    site = models.ForeignKey("website.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    event_name = models.CharField(max_length=100, db_index=True)
    conversion_type = models.ForeignKey(ConversionType, on_delete=models.CASCADE, related_name="rules")
    value_property = models.CharField(max_length=100, blank=True, help_text="Event property holding the value")
    currency_property = models.CharField(max_length=100, blank=True, default="currency")
    id_property = models.CharField(
        max_length=100, blank=True, help_text="Event property holding a business id (order id); else one per event"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event_name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "event_name", "conversion_type"], name="conversionrule_unique"),
        ]

    def __str__(self):
        return f"{self.event_name} → {self.conversion_type}"

    def matches(self, *, site_id: int, event_name: str) -> bool:
        return self.is_active and self.event_name == event_name and self.site_id in (None, site_id)


class ConversionEvent(models.Model):
    """One conversion, idempotent by external id, by a known contact or an anonymous visitor."""

    external_id = models.CharField(max_length=255, unique=True)
    conversion_type = models.ForeignKey(ConversionType, on_delete=models.PROTECT, related_name="conversions")
    value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversions"
    )
    visitor_id = models.CharField(max_length=64, blank=True, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=16, choices=ConversionSource.choices, default=ConversionSource.API)
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    attributed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | ~Q(visitor_id=""), name="conversion_has_contact_or_visitor"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="conversion_value_not_negative"),
        ]
        indexes = [models.Index(fields=["contact", "occurred_at"])]

    def __str__(self):
        return f"{self.conversion_type_id} {self.external_id}"


class CustomerTouchpoint(models.Model):
    """A contact's (or visitor's) contact with a channel; unique by its source row."""

    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="touchpoints"
    )
    visitor_id = models.CharField(max_length=64, blank=True, db_index=True)
    channel = models.CharField(max_length=20, choices=Channel.choices, db_index=True)
    kind = models.CharField(max_length=16, choices=TouchKind.choices, default=TouchKind.OTHER)
    occurred_at = models.DateTimeField(db_index=True)
    campaign = models.CharField(max_length=200, blank=True, db_index=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=20, choices=TouchpointSource.choices)
    source_key = models.CharField(max_length=255, help_text="Id of the source row: idempotent capture")
    journey_key = models.CharField(
        max_length=255, blank=True, help_text="Touches sharing a key (one message's events) are one journey step"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_key"], name="touchpoint_unique_source"),
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | ~Q(visitor_id=""), name="touchpoint_has_contact_or_visitor"
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "occurred_at"]),
            models.Index(fields=["visitor_id", "occurred_at"]),
        ]

    def __str__(self):
        return f"{self.channel}/{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


class JourneyTouch(models.Model):
    """One step of a conversion's stored journey (its touchpoints inside the lookback window)."""

    conversion = models.ForeignKey(ConversionEvent, on_delete=models.CASCADE, related_name="journey")
    touchpoint = models.ForeignKey(CustomerTouchpoint, null=True, on_delete=models.SET_NULL, related_name="+")
    position = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    campaign = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    age_days = models.FloatField(help_text="Days before the conversion")

    class Meta:
        ordering = ["conversion", "position"]
        constraints = [
            models.UniqueConstraint(fields=["conversion", "position"], name="journeytouch_unique_position"),
        ]

    def __str__(self):
        return f"#{self.position} {self.channel}"


class AttributionCredit(models.Model):
    """The share of one conversion (and its value) a channel and campaign earn under one model."""

    conversion = models.ForeignKey(ConversionEvent, on_delete=models.CASCADE, related_name="credits")
    model = models.CharField(max_length=20, choices=AttributionModel.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    campaign = models.CharField(max_length=200, blank=True)
    day = models.DateField(db_index=True, help_text="Day of the conversion (UTC)")
    conversions = models.FloatField()
    revenue = models.DecimalField(max_digits=16, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversion", "model", "channel", "campaign"], name="attributioncredit_unique"
            ),
        ]
        indexes = [models.Index(fields=["day", "model", "channel"])]

    def __str__(self):
        return f"{self.model}: {self.channel} {self.conversions:.3f}"


class ChannelCost(models.Model):
    """Spend not carried by messages (ads, tools, agencies), per day, channel and campaign."""

    day = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    campaign = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-day", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["day", "channel", "campaign"], name="channelcost_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="channelcost_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.day} {self.channel} {money_format(self.amount, self.currency)}"


class ChannelPerformance(models.Model):
    """Daily aggregate per channel and campaign: volume, cost and conversions under each model."""

    day = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    campaign = models.CharField(max_length=200, blank=True)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    engaged = models.PositiveIntegerField(default=0, help_text="Opened or clicked")
    replies = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    attributed_conversions = models.JSONField(default=dict, blank=True, help_text="model → conversions")
    attributed_revenue = models.JSONField(default=dict, blank=True, help_text="model → revenue (string decimal)")
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "channel", "campaign"]
        verbose_name_plural = "channel performance"
        constraints = [
            models.UniqueConstraint(fields=["day", "channel", "campaign"], name="channelperformance_unique"),
        ]

    def __str__(self):
        return f"{self.day} {self.channel} {self.campaign}".strip()

    def conversions_under(self, model: str) -> float:
        return float(self.attributed_conversions.get(model, 0.0))

    def revenue_under(self, model: str) -> Decimal:
        return Decimal(str(self.attributed_revenue.get(model, "0")))

    def roi(self, model: str) -> Decimal | None:
        """(attributed value − cost) / cost; None when nothing was spent (undefined, not infinite)."""
        if not self.cost:
            return None
        return (self.revenue_under(model) - self.cost) / self.cost

    def cost_per_acquisition(self, model: str) -> Decimal | None:
        conversions = self.conversions_under(model)
        if not conversions:
            return None
        return self.cost / Decimal(str(conversions))
