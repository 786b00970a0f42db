from abtesting.models import ABTest
from madansara.api.filters import DateTimeFilter, FilterSet


class ABTestFilter(FilterSet):
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ABTest
        fields = ["status", "surface", "mode", "site", "channel"]
