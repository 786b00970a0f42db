"""{% live_cursor %}: the live event id a console page was rendered at (madansara/live.py);
{% presence_ttl %}: seconds after which an agent's silent page no longer counts as present."""

from django import template
from django.conf import settings

from madansara.live import live_cursor as current_cursor

register = template.Library()


@register.simple_tag
def live_cursor() -> int:
    return current_cursor()


@register.simple_tag
def presence_ttl() -> int:
    return settings.LIVE_PRESENCE_TTL_SECONDS
