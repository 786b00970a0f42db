"""Full-text search over conversations: PostgreSQL tsvector + GIN index, SQLite LIKE fallback."""

import pytest
from django.db import connection

from inbox.models import Conversation
from inbox.selectors import conversations_search
from inbox.services.conversations import conversation_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversations(make_inbound):
    shipping = conversation_ingest(
        inbound=make_inbound(subject="Shipping", text="Do you ship to Canada?\n\n> quoted: lamps on sale"),
        classify=False,
    )
    conversation_ingest(
        inbound=make_inbound(sender="jean@example.com", subject="Kòmand", text="Kòmand mwen an poko rive"),
        classify=False,
    )
    return shipping


def search(text):
    return list(conversations_search(queryset=Conversation.objects.all(), text=text).values_list("subject", flat=True))


def test_search_matches_all_words_of_subject_participant_and_messages(conversations):
    assert search("canada ship") == ["Shipping"]
    assert search("mwen poko") == ["Kòmand"]
    assert search("jean@example.com") == ["Kòmand"]
    assert search("canada mwen") == []


def test_quoted_history_is_not_searchable(conversations):
    assert search("lamps") == []


def test_later_messages_become_searchable(conversations, make_inbound):
    conversation_ingest(
        inbound=make_inbound(
            channel="email", subject="Re: Shipping", recipient=conversations.reply_address, text="And to Mexico?"
        ),
        classify=False,
    )
    assert search("mexico") == ["Shipping"]


@pytest.mark.postgres
def test_postgres_search_uses_the_gin_index(conversations):
    queryset = conversations_search(queryset=Conversation.objects.all(), text="canada")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "inbox_conv_search_gin" in plan
