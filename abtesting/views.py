"""Public endpoint for the website tracker: variants of a site's live website tests."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from abtesting import selectors
from abtesting.api.serializers import AssignmentsSerializer, PublicAssignmentQuerySerializer
from abtesting.models import WEBSITE_SURFACES
from website.models import Site


class PublicAssignmentsView(APIView):
    """GET /ab/assignments?site_key=…&unit=… → {"assignments": {test key: variant key}}.

    No credentials: the site key is public. CORS is granted only to the site's allowed origins.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "public"
    domain = "abtesting"

    @extend_schema(
        parameters=[PublicAssignmentQuerySerializer],
        responses={200: AssignmentsSerializer, 400: OpenApiResponse(description="Bad or unknown site key")},
        auth=[],
    )
    def get(self, request):
        query = PublicAssignmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        site = self._site(query.validated_data["site_key"])
        tests = selectors.live_tests(site_id=site.id, surfaces=WEBSITE_SURFACES)
        assignments = selectors.assignments_for(
            tests=tests, unit_id=query.validated_data["unit"], url=query.validated_data.get("url")
        )
        return Response({"assignments": assignments}, headers={"Cache-Control": "no-store"})

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        return Response(status=204)

    def _site(self, key: str) -> Site:
        site = Site.objects.filter(public_key=key, is_active=True).first()
        if site is None:
            raise exceptions.ValidationError({"site_key": "Unknown or inactive site key."})
        self.site = site
        return site

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin", "")
        site = getattr(self, "site", None)
        if site is None and request.method == "OPTIONS":
            site = Site.objects.filter(public_key=request.query_params.get("site_key", ""), is_active=True).first()
        if origin and site is not None and site.allows_origin(origin):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
        return response
