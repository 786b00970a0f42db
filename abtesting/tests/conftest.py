import pytest
from django.utils import timezone

from abtesting import services
from abtesting.models import ABTest


@pytest.fixture
def make_test(db):
    """A test with variants (control first); started unless status="draft"."""

    def make(key="cta-color", *, weights=(1.0, 1.0), status="running", started_days_ago=0, **fields):
        fields.setdefault("primary_metric", "signup")
        fields.setdefault("name", key)
        variants = [
            {"key": "control" if i == 0 else f"v{i}", "is_control": i == 0, "weight": w} for i, w in enumerate(weights)
        ]
        test = services.abtest_create(key=key, variants=variants, **fields)
        if status == "running":
            services.abtest_start(test=test)
            if started_days_ago:
                test.started_at = timezone.now() - timezone.timedelta(days=started_days_ago)
                test.save(update_fields=["started_at"])
        return ABTest.objects.prefetch_related("variants").get(pk=test.pk)

    return make


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def seed():
    """Write aggregates directly (what variant_assign/outcome_record would have stored).

    seed(test, units={"control": 150, "v1": 150}, signup={"control": 15, "v1": 75})
    """
    from abtesting.models import ABTestDailyStat

    def write(test, *, units, **metrics):
        variants = {v.key: v for v in test.variants.all()}
        day = timezone.now().date()
        rows = [ABTestDailyStat(test=test, variant=variants[k], day=day, metric="", units=n) for k, n in units.items()]
        for metric, counts in metrics.items():
            rows += [
                ABTestDailyStat(test=test, variant=variants[k], day=day, metric=metric, units=c, total=c, sum_squares=c)
                for k, c in counts.items()
            ]
        ABTestDailyStat.objects.bulk_create(rows)

    return write
