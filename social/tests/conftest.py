"""Fixtures of the social tests: accounts pointed at a local fake platform server."""

import pytest

from social.models import SocialAccount


@pytest.fixture
def graph(settings, httpserver):
    """The Meta Graph API, faked on 127.0.0.1."""
    settings.META_GRAPH_URL = httpserver.url_for("/v21.0")
    return httpserver


@pytest.fixture
def instagram(graph):
    return SocialAccount.objects.create(
        platform="instagram", name="Brand IG", external_id="17841400000", handle="brand", access_token="ig-token"
    )


@pytest.fixture
def sandbox_account(db):
    return SocialAccount.objects.create(platform="sandbox", name="Sandbox", external_id="sbx-1", handle="brand")
