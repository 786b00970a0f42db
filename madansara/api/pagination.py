from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class CursorPagination(pagination.CursorPagination):
    """For very large, append-mostly lists: no COUNT(*), stable under inserts."""

    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
