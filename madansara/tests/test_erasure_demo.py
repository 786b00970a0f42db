"""`erase_contact` on the demo workspace: `dumpdata` of every project app (and the website's
unmanaged event table, which dumpdata skips) holds none of the erased person's values."""

import json
from collections import Counter
from io import StringIO
from urllib.parse import quote, quote_plus

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count

from madansara.channels.models import InboundMessage
from madansara.contacts.models import Contact, ContactIdentity
from madansara.models import AuditEvent
from madansara.tests.test_erasure import dump_rows

pytestmark = pytest.mark.django_db


def project_labels() -> list[str]:
    root = str(settings.BASE_DIR)
    return [c.label for c in apps.get_app_configs() if c.path.startswith(root) and ".venv" not in c.path]


def dumpdata() -> str:
    out = StringIO()
    call_command("dumpdata", *project_labels(), stdout=out)
    return out.getvalue().lower()


def forms_of(values: list[str]) -> set[str]:
    forms = set()
    for value in values:
        forms |= {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}
        if value.startswith("+"):
            forms.add(value[1:])
    return {form.lower() for form in forms}


def test_erase_contact_on_the_demo_data_leaves_none_of_their_values():
    # given the demo workspace, and its busiest contact whose name no other contact shares
    call_command("seed_demo", stdout=StringIO())
    names = Counter(Contact.objects.values_list("name", flat=True))
    person = (
        Contact.objects.filter(name__in=[name for name, n in names.items() if n == 1])
        .annotate(conversations_n=Count("conversations", distinct=True), inbound_n=Count("inbound_messages"))
        .order_by("-conversations_n", "-inbound_n", "pk")
        .first()
    )
    assert person.conversations_n >= 2 and person.inbound_n >= 2
    email = person.identities.get(channel="email").value
    values = [person.name, person.external_id, *person.identities.values_list("value", flat=True)]
    # and the words only they wrote (demo texts shared with others would be found in others' rows)
    texts = person.inbound_messages.values_list("text", flat=True)
    values += [t for t in texts if len(t) >= 20 and InboundMessage.objects.filter(text=t).count() == 1]
    forms = forms_of(values)
    before = dumpdata()
    assert {form for form in forms if form in before} >= {person.name.lower(), email}
    counts = {model: model._base_manager.count() for model in apps.get_models() if model._meta.app_label != "admin"}
    # when erased from the command line by e-mail
    call_command("erase_contact", email, stdout=StringIO())
    # then no value is left in dumpdata of every project app, nor in the unmanaged event table
    after = dumpdata()
    assert sorted(form for form in forms if form in after) == []
    assert [(label, form) for label, text in dump_rows() for form in forms if form in text] == []
    # and only the person's identities and tag links are gone (plus one audit row)
    changed = {
        model._meta.label: (n, model._base_manager.count())
        for model, n in counts.items()
        if model._base_manager.count() != n
    }
    assert set(changed) <= {ContactIdentity._meta.label, Contact.tags.through._meta.label, AuditEvent._meta.label}
