import pytest
from django.urls import reverse

from abtesting import services
from abtesting.models import ABTestDailyStat, ABTestStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def with_results(make_test, seed):
    def build():
        test = make_test("hero", secondary_metrics=["click"])
        seed(test, units={"control": 100, "v1": 100}, signup={"control": 33, "v1": 50})
        services.results_refresh()
        services.results_refresh()
        return test

    return build


def test_change_page_shows_results_ci_chart_history_and_decision_log(admin_client_logged, with_results):
    test = with_results()
    page = admin_client_logged.get(reverse("admin:abtesting_abtest_change", args=[test.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    # a chart for signup; click has no conversions yet, so a note instead of numbers
    assert html.count('aria-label="Confidence intervals"') == 1
    assert "control mean is zero" in html
    assert html.count('aria-label="Estimate over time"') == 1
    assert "Decision log" in html and "Started" in html
    assert "cdn" not in html.lower()


def test_change_page_warns_about_sample_ratio_mismatch(admin_client_logged, with_results):
    test = with_results()
    ABTestDailyStat.objects.filter(test=test, metric="", variant__is_control=True).update(units=300)
    services.results_refresh()
    html = admin_client_logged.get(reverse("admin:abtesting_abtest_change", args=[test.pk])).content.decode()
    assert "Sample ratio mismatch" in html
    listing = admin_client_logged.get(reverse("admin:abtesting_abtest_changelist")).content.decode()
    assert "⚠ mismatch" in listing


def test_changelist_queries_do_not_grow_with_tests(
    admin_client_logged, make_test, with_results, django_assert_max_num_queries
):
    for i in range(6):
        with_results() if i == 0 else make_test(f"t{i}")
    with django_assert_max_num_queries(12):
        assert admin_client_logged.get(reverse("admin:abtesting_abtest_changelist")).status_code == 200


def test_admin_actions_call_the_services(admin_client_logged, with_results):
    test = with_results()
    url = reverse("admin:abtesting_abtest_changelist")
    admin_client_logged.post(url, {"action": "hold", "_selected_action": [test.pk]})
    admin_client_logged.post(url, {"action": "roll_out_leader", "_selected_action": [test.pk]})
    test.refresh_from_db()
    assert test.rollout_hold and test.status == ABTestStatus.ROLLED_OUT and test.winner.key == "v1"
    assert list(test.decisions.order_by("id").values_list("actor_label", flat=True))[-2:] == ["root", "root"]


def test_calculator_page(admin_client_logged):
    url = reverse("admin:abtesting_abtest_calculator")
    page = admin_client_logged.get(url, {"baseline": "0.1", "mde": "0.1", "alpha": "0.05", "power": "0.8"})
    assert page.status_code == 200 and "14745" in page.content.decode()
    bad = admin_client_logged.get(url, {"baseline": "0.1", "alpha": "0.05", "power": "0.8"})
    assert "Give either" in bad.content.decode()
