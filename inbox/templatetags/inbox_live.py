"""{% live_cursor %}: the live event id a console page was rendered at (madansara/live.py)."""

from django import template

from madansara.live import live_cursor as current_cursor

register = template.Library()


@register.simple_tag
def live_cursor() -> int:
    return current_cursor()
