import django_filters

from abtesting.models import ABTest


class ABTestFilter(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ABTest
        fields = ["status", "surface", "mode", "site", "channel"]
