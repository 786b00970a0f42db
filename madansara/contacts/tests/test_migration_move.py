"""Moving the contact models from outreach to madansara.contacts moves no data: a database populated
at the migrations before the move keeps, once migrated forward, every row and id of the contact
tables, every other app's link to them, and the content types, permissions and grants."""

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from madansara.choices import Channel

# each app's last migration before the move (later ones are unapplied with them)
BEFORE_MOVE = [
    ("contacts", None),
    ("outreach", "0005_directsend"),
    ("abtesting", "0001_initial"),
    ("channels", "0005_lean_event_indexes"),
    ("conversion", "0002_default_conversion_types"),
    ("inbox", "0005_merge_0004_auto_send_floor_098_0004_console_review"),
    ("social", "0001_initial"),
    ("website", "0004_identity_verification"),
]
CONTACT_MODELS = ("Tag", "Contact", "ContactIdentity", "ContactConsent", "ConsentEvent")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state([t for t in targets if t[1]]).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _rows(model):
    return list(model.objects.order_by("pk").values())


def _seed(old):
    """Rows in every contact table, and links to them from outreach and the inbox."""
    Tag, Contact = old.get_model("outreach", "Tag"), old.get_model("outreach", "Contact")
    vip, lead = Tag.objects.create(name="vip"), Tag.objects.create(name="lead")
    people = [
        Contact.objects.create(name=f"Person {i}", timezone="Europe/Paris", attributes={"i": i}) for i in range(6)
    ]
    people.pop(2).delete()  # a gap in the ids, which must stay a gap
    ana, bruno, carla = people[:3]
    ana.tags.add(vip, lead)
    bruno.tags.add(vip)
    carla.merged_into = ana
    carla.save()
    Identity = old.get_model("outreach", "ContactIdentity")
    Identity.objects.create(contact=ana, channel=Channel.EMAIL, value="ana@example.com")
    Identity.objects.create(contact=bruno, channel=Channel.SMS, value="+50934123456")
    old.get_model("outreach", "ContactConsent").objects.create(contact=ana, channel=Channel.EMAIL, status="opted_in")
    old.get_model("outreach", "ConsentEvent").objects.create(contact=ana, channel=Channel.EMAIL, status="opted_in")
    old.get_model("outreach", "ContactEngagement").objects.create(contact=bruno, channel=Channel.SMS, opened=3)
    segment = old.get_model("outreach", "Segment").objects.create(name="static", is_static=True)
    segment.contacts.add(ana, bruno)
    old.get_model("inbox", "Conversation").objects.create(channel=Channel.EMAIL, contact=ana, participant="ana")
    # an agent-like grant of the old permission, to a group and to a user directly
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    contact_type, _ = ContentType.objects.get_or_create(app_label="outreach", model="contact")
    change, _ = Permission.objects.get_or_create(
        content_type=contact_type, codename="change_contact", defaults={"name": "Can change contact"}
    )
    group = old.get_model("auth", "Group").objects.create(name="Moved grants")
    group.permissions.add(change)
    user = old.get_model("auth", "User").objects.create(username="keeper", is_staff=True)
    user.user_permissions.add(change)
    return {"content_type": contact_type.pk, "permission": change.pk, "group": group.pk, "user": user.pk}


@pytest.mark.django_db(transaction=True)
def test_contacts_move_keeps_every_row_id_link_and_grant():
    leaves = _leaves()
    try:
        # given a database at the migrations before the move, with contacts and links to them
        old = _migrate(BEFORE_MOVE)
        seeded = _seed(old)
        before = {name: _rows(old.get_model("outreach", name)) for name in CONTACT_MODELS}
        before_tags = _rows(old.get_model("outreach", "Contact").tags.through)
        before_segment = _rows(old.get_model("outreach", "Segment").contacts.through)
        before_engagement = _rows(old.get_model("outreach", "ContactEngagement"))
        before_conversations = list(old.get_model("inbox", "Conversation").objects.values_list("pk", "contact_id"))

        # when it is migrated forward
        new = _migrate(leaves)

        # then every contact row is there with its id, now in the contacts app
        for name in CONTACT_MODELS:
            assert _rows(new.get_model("contacts", name)) == before[name], name
            assert before[name], f"the test seeded no {name}"
        assert _rows(new.get_model("contacts", "Contact").tags.through) == before_tags
        assert _rows(new.get_model("outreach", "Segment").contacts.through) == before_segment
        assert _rows(new.get_model("outreach", "ContactEngagement")) == before_engagement
        conversations = new.get_model("inbox", "Conversation").objects.values_list("pk", "contact_id")
        assert list(conversations) == before_conversations
    finally:
        _migrate(leaves)

    # and the code's models read them: relations, the merge link, the identity index
    Contact = current_apps.get_model("contacts", "Contact")
    ana = Contact.objects.get(pk=before["Contact"][0]["id"])
    assert sorted(ana.tags.values_list("name", flat=True)) == ["lead", "vip"]
    assert ana.identities.get().value == "ana@example.com"
    assert ana.merged_from.get().pk == before["Contact"][2]["id"]
    assert list(ana.static_segments.values_list("name", flat=True)) == ["static"]
    assert ana.conversations.count() == 1
    # new rows continue after the old ids (PostgreSQL: the table's sequence moved with it)
    assert Contact.objects.create(name="After").pk > max(row["id"] for row in before["Contact"])

    # and the content type kept its id under the new label, so permissions and grants survived
    ContentType = current_apps.get_model("contenttypes", "ContentType")
    ContentType.objects.clear_cache()
    contact_type = ContentType.objects.get(pk=seeded["content_type"])
    assert (contact_type.app_label, contact_type.model) == ("contacts", "contact")
    assert not ContentType.objects.filter(app_label="outreach", model="contact").exists()
    user = current_apps.get_model("auth", "User").objects.get(pk=seeded["user"])
    assert user.has_perm("contacts.change_contact") and not user.has_perm("outreach.change_contact")
    group = current_apps.get_model("auth", "Group").objects.get(pk=seeded["group"])
    assert list(group.permissions.values_list("pk", flat=True)) == [seeded["permission"]]
