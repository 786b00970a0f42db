"""Money as the console shows it: currency, thousands separators, two decimals (unit prices up to
five), computed from Decimal; and in the admin lists that show costs and revenue."""

from decimal import Decimal

import pytest

from madansara.money import money_format, unit_price_format
from madansara.tests.factories import make_user


def test_money_has_its_currency_thousands_and_two_decimals():
    assert money_format(Decimal("1234567.455")) == "USD 1,234,567.46"
    assert money_format(Decimal("0.00260000000000000")) == "USD 0.00"
    assert money_format(Decimal("18.5"), "EUR") == "EUR 18.50"
    assert money_format(None) == "—"


def test_a_unit_price_keeps_the_decimals_it_needs():
    assert unit_price_format(Decimal("0.00260000000000000")) == "USD 0.0026"
    assert unit_price_format(Decimal("0.00790")) == "USD 0.0079"
    assert unit_price_format(Decimal("1200")) == "USD 1,200.00"


@pytest.mark.django_db
def test_admin_lists_show_costs_and_revenue_as_money(client, settings):
    from conversion.models import ChannelCost as AdSpend
    from outreach.models import ChannelCost

    settings.CURRENCY = "USD"
    ChannelCost.objects.create(channel="sms", cost_per_message=Decimal("0.00790"))
    AdSpend.objects.create(day="2026-12-01", channel="paid_search", amount=Decimal("12345.5"), currency="EUR")
    client.force_login(make_user("Admin"))

    prices = client.get("/admin/outreach/channelcost/").content.decode()
    spend = client.get("/admin/conversion/channelcost/").content.decode()

    assert "USD 0.0079" in prices and "0.00790" not in prices
    assert "EUR 12,345.50" in spend
