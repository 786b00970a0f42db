"""Money as people read it: the currency, thousands separated, two decimals, from Decimal (never
float). Unit prices (one message) keep the decimals they need, up to five."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def currency_default() -> str:
    """The currency of reports: costs and attributed revenue are summed in it."""
    return settings.CURRENCY


def money_format(amount, currency: str | None = None) -> str:
    """'USD 1,234.50'; '—' for no amount."""
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{currency or currency_default()} {value:,.2f}"


def unit_price_format(amount, currency: str | None = None) -> str:
    """'USD 0.0079' for one message's price: two decimals at least, five at most, no trailing zeros."""
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount)).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)
    text = f"{value:,.5f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{currency or currency_default()} {whole}.{cents.ljust(2, '0')}"


def money_column(field: str, *, description: str, currency_field: str | None = None, unit: bool = False):
    """A ModelAdmin attribute (`cost_money = money_column("cost", ...)`) showing `field` as money, in
    the row's `currency_field` if any. Its name ends in `_money`, which the console's CSS right-aligns."""
    formatter = unit_price_format if unit else money_format

    def column(model_admin, obj):
        return formatter(getattr(obj, field), getattr(obj, currency_field) if currency_field else None)

    # what @admin.display sets (models import this module: no admin import here)
    column.short_description, column.admin_order_field = description, field
    column.__name__ = f"{field}_money"
    return column
