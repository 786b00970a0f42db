"""Each role's home in the console: cards (a title, a figure or a chart, a link) that every
domain app offers in `<app>/home.py: role_cards(*, user, role) -> list[Card]`, shown by role."""

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.utils.safestring import SafeString

from madansara.roles import ROLE_ADMIN, ROLES


@dataclass
class Card:
    title: str
    body: SafeString
    link: tuple[str, str] | None = None  # (label, url)
    order: int = 50


def user_role(user) -> str:
    """The role that shapes a user's home: superusers are admins, else their first role group."""
    if user.is_superuser:
        return ROLE_ADMIN
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in ROLES if role in names), "")


def home_cards(*, user) -> tuple[str, list[Card]]:
    """(role, cards) for the user's home, from every app that offers cards."""
    role = user_role(user)
    cards: list[Card] = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.home")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.home":
                raise
            continue
        offer = getattr(module, "role_cards", None)
        if offer is not None:
            cards.extend(offer(user=user, role=role))
    return role, sorted(cards, key=lambda card: card.order)
