from rest_framework import pagination
from rest_framework.exceptions import ValidationError


def _query_int(request, name: str, *, maximum: int | None = None) -> int | None:
    """A positive whole number given once, or None when absent; anything else is a 400 (DRF would
    quietly fall back to a default and answer a request the client did not make)."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) == 1 and values[0].isascii() and values[0].isdigit() and int(values[0]) >= 1:
        return min(int(values[0]), maximum) if maximum else int(values[0])
    raise ValidationError({name: ["A positive whole number, given once."]})


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        return _query_int(request, self.page_size_query_param, maximum=self.max_page_size) or self.page_size

    def get_page_number(self, request, paginator):
        values = request.query_params.getlist(self.page_query_param)
        if len(values) == 1 and values[0] in self.last_page_strings:
            return values[0]
        return _query_int(request, self.page_query_param) or 1


class CursorPagination(pagination.CursorPagination):
    """For very large, append-mostly lists: no COUNT(*), stable under inserts."""

    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_page_size(self, request):
        return _query_int(request, self.page_size_query_param, maximum=self.max_page_size) or self.page_size
