"""Contact services: create, update, bulk upsert, merge, erase; identities and consent."""

import logging
import zoneinfo
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from madansara.audit import audit_record
from madansara.choices import Channel
from madansara.contacts.models import (
    ConsentEvent,
    ConsentStatus,
    Contact,
    ContactConsent,
    ContactIdentity,
    LifecycleStage,
    Tag,
    normalize_identity,
)
from madansara.contacts.signals import contact_erased, contact_merged

logger = logging.getLogger(__name__)

CONTACT_FIELDS = ("external_id", "name", "timezone", "locale", "lifecycle_stage")
FIELD_LIMITS = {"external_id": 255, "name": 255, "locale": 35}  # the columns' sizes: refused, not a DataError
IDENTITY_MAX_LENGTH = 255
# Choices' `.values` is rebuilt on every access; the import checks every cell against these.
CHANNELS = tuple(Channel.values)
STAGES = frozenset(LifecycleStage.values)
CONSENT_STATUSES = frozenset(ConsentStatus.values)


@transaction.atomic
def consent_set(
    *, contact: Contact, channel: str, status: str, source: str, note: str = "", occurred_at=None
) -> ContactConsent:
    """Set a contact's consent on a channel and append it to the history (no-op if unchanged)."""
    if status not in ConsentStatus.values:
        raise ValueError(f"Unknown consent status '{status}'.")
    occurred_at = occurred_at or timezone.now()
    consent, created = ContactConsent.objects.select_for_update().get_or_create(
        contact=contact, channel=channel, defaults={"status": status, "source": source, "updated_at": occurred_at}
    )
    if not created and consent.status == status:
        return consent
    if not created:
        consent.status, consent.source, consent.updated_at = status, source, occurred_at
        consent.save(update_fields=["status", "source", "updated_at"])
    ConsentEvent.objects.create(
        contact=contact, channel=channel, status=status, source=source, note=note, occurred_at=occurred_at
    )
    return consent


@transaction.atomic
def identity_add(*, contact: Contact, channel: str, value: str) -> ContactIdentity:
    """Attach a normalised identity; raises ValidationError if invalid or owned by another contact."""
    normalized = normalize_identity(channel, value)
    existing = ContactIdentity.objects.filter(channel=channel, value=normalized).first()
    if existing is not None:
        if existing.contact_id != contact.pk:
            raise ValidationError(f"{channel} identity '{normalized}' belongs to another contact.")
        return existing
    return ContactIdentity.objects.create(contact=contact, channel=channel, value=normalized)


@transaction.atomic
def contact_get_or_create_by_identity(
    *, channel: str, value: str, defaults: dict | None = None
) -> tuple[Contact, ContactIdentity, bool]:
    """The contact owning an identity, created (with that identity) if none does."""
    normalized = normalize_identity(channel, value)
    identity = ContactIdentity.objects.select_related("contact").filter(channel=channel, value=normalized).first()
    if identity is not None:
        return identity.contact, identity, False
    contact = Contact.objects.create(**(defaults or {}))
    identity = ContactIdentity.objects.create(contact=contact, channel=channel, value=normalized)
    return contact, identity, True


# --- input cleaning shared by the API, the CSV import and the services -------------------


@dataclass
class ContactInput:
    """One cleaned contact record: only the keys present in `fields` are written."""

    fields: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    attributes: dict = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    consents: dict[str, str] = field(default_factory=dict)


def contact_input_clean(
    data: dict, *, require_key: bool = True, stored: frozenset[tuple[str, str]] = frozenset()
) -> tuple[ContactInput | None, list[str]]:
    """Validate and normalise a raw contact dict (API item or CSV row); returns (input, errors).

    `require_key`: a new or upserted contact needs an identity or an external_id to match on.
    `stored`: (channel, value) pairs already stored as identities, hence valid and canonical: not
    parsed again (a re-imported file is mostly these).
    """
    errors: list[str] = []
    cleaned = ContactInput()
    for name in CONTACT_FIELDS:
        if name in data and data[name] is not None:
            cleaned.fields[name] = str(data[name]).strip()
    if cleaned.fields.get("external_id") == "":
        cleaned.fields.pop("external_id")
    stage = cleaned.fields.get("lifecycle_stage")
    if stage == "":
        cleaned.fields.pop("lifecycle_stage")
    elif stage is not None and stage not in STAGES:
        errors.append(f"lifecycle_stage: '{stage}' is not one of {', '.join(LifecycleStage.values)}.")
    tz = cleaned.fields.get("timezone")
    if tz == "":
        cleaned.fields.pop("timezone")
    elif tz is not None and tz not in _timezones():
        errors.append(f"timezone: '{tz}' is not an IANA time zone (e.g. Europe/Paris).")
    for name, limit in FIELD_LIMITS.items():
        if len(cleaned.fields.get(name, "")) > limit:
            errors.append(f"{name}: at most {limit} characters.")
    for channel, value in (data.get("identities") or {}).items():
        if value in (None, ""):
            continue
        if channel not in CHANNELS:
            errors.append(f"identities: unknown channel '{channel}'.")
            continue
        if isinstance(value, str) and (channel, value) in stored:
            cleaned.identities[channel] = value
            continue
        normalized, error = identity_clean(channel, str(value))
        if error:
            errors.append(error)
        else:
            cleaned.identities[channel] = normalized
    for channel, status in (data.get("consents") or {}).items():
        if status in (None, ""):
            continue
        if channel not in CHANNELS:
            errors.append(f"consents: unknown channel '{channel}'.")
        elif status not in CONSENT_STATUSES:
            errors.append(f"consent {channel}: '{status}' is not one of {', '.join(ConsentStatus.values)}.")
        else:
            cleaned.consents[channel] = status
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = tags.split(";")
    cleaned.tags = sorted({str(tag).strip()[:100] for tag in tags if str(tag).strip()})
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        errors.append("attributes: must be an object.")
    else:
        cleaned.attributes = attributes
    given = any(value not in (None, "") for value in (data.get("identities") or {}).values())
    if require_key and not given and "external_id" not in cleaned.fields:
        errors.append("A contact needs at least one identity or an external_id.")
    return (None if errors else cleaned), errors


def identity_clean(channel: str, value: str) -> tuple[str | None, str | None]:
    """(normalised value, None) or (None, "<channel>: <why>") for one identity value."""
    try:
        normalized = normalize_identity(channel, value)
    except ValidationError as exc:
        return None, f"{channel}: {' '.join(exc.messages)}"
    if len(normalized) > IDENTITY_MAX_LENGTH:
        return None, f"{channel}: at most {IDENTITY_MAX_LENGTH} characters."
    return normalized, None


_TIMEZONES: set[str] = set()


def _timezones() -> set[str]:
    if not _TIMEZONES:
        _TIMEZONES.update(zoneinfo.available_timezones())
    return _TIMEZONES


# --- create / update --------------------------------------------------------------------


@transaction.atomic
def contact_create(*, data: dict, source: str = "api", actor=None) -> Contact:
    """Create a contact with identities, tags and consent; raises ValidationError."""
    cleaned, errors = contact_input_clean(data)
    if errors:
        raise ValidationError(errors)
    (result,) = contacts_upsert_cleaned(rows=[cleaned], source=source, create_only=True)
    if result.status == UpsertStatus.ERROR:
        raise ValidationError(result.errors)
    contact = Contact.objects.get(pk=result.contact_id)
    audit_record(actor=actor, action="contact.create", target=contact, data={"source": source})
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: dict, source: str = "api", actor=None) -> Contact:
    """Update fields, add identities/tags, merge attributes and set consent; raises ValidationError.

    `data["tags"]`, when given, replaces the tag set; identities are added (use identity_remove
    to drop one).
    """
    cleaned, errors = contact_input_clean(data, require_key=False)
    if errors:
        raise ValidationError(errors)
    for name, value in cleaned.fields.items():
        setattr(contact, name, value)
    contact.attributes = {**contact.attributes, **cleaned.attributes}
    contact.full_clean(exclude=["tags"], validate_unique=True)
    contact.save()
    for channel, value in cleaned.identities.items():
        current = contact.identities.filter(channel=channel).exclude(value=value).first()
        identity_add(contact=contact, channel=channel, value=value)
        if current is not None:
            current.delete()
    if "tags" in data:
        contact.tags.set(_tags_for(set(cleaned.tags)).values())
    for channel, status in cleaned.consents.items():
        consent_set(contact=contact, channel=channel, status=status, source=source)
    audit_record(actor=actor, action="contact.update", target=contact, data={"fields": sorted(data)})
    return contact


@transaction.atomic
def identity_remove(*, contact: Contact, channel: str) -> int:
    """Remove the contact's identity on a channel; returns how many were removed."""
    deleted, _ = contact.identities.filter(channel=channel).delete()
    return deleted


def _tags_for(names: set[str]) -> dict[str, Tag]:
    if not names:
        return {}
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    return {tag.name: tag for tag in Tag.objects.filter(name__in=names)}


# --- bulk upsert (API bulk endpoint, CSV import on SQLite) -------------------------------


class UpsertStatus(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped (its batch had errors)"


@dataclass
class UpsertResult:
    index: int
    status: str
    contact_id: int | None = None
    errors: list[str] = field(default_factory=list)
    changed: bool = True  # False: a matched contact the item leaves as it is (nothing written)
    conflict: bool = False  # the error is a clash with stored contacts, not a bad value


def contacts_upsert(*, items: list[dict], source: str = "api", all_or_nothing: bool = False) -> list[UpsertResult]:
    """Create or update many contacts matched by external_id or any identity, set-based.

    Each item gets a result. With `all_or_nothing`, one bad item means nothing is written and
    the valid items are reported as skipped.
    """
    cleaned: list[ContactInput | None] = []
    results: list[UpsertResult | None] = []
    for index, item in enumerate(items):
        data, errors = contact_input_clean(item)
        cleaned.append(data)
        results.append(UpsertResult(index=index, status=UpsertStatus.ERROR, errors=errors) if errors else None)
    if all_or_nothing and any(results):
        return [r or UpsertResult(index=i, status=UpsertStatus.SKIPPED) for i, r in enumerate(results)]
    good = [(i, data) for i, data in enumerate(cleaned) if data is not None]
    written = contacts_upsert_cleaned(rows=[data for _, data in good], source=source, all_or_nothing=all_or_nothing)
    for (index, _), result in zip(good, written, strict=True):
        result.index = index
        results[index] = result
    return results


@transaction.atomic
def contacts_upsert_cleaned(
    *,
    rows: list[ContactInput],
    source: str,
    create_only: bool = False,
    all_or_nothing: bool = False,
    identity_conflicts: bool = False,
) -> list[UpsertResult]:
    """Write cleaned rows with a fixed number of queries (not per row); results by row index.

    A matched row that changes nothing is not written (its result has `changed` False). With
    `identity_conflicts` (the CSV import), a row matched by an identity that carries another value
    for an identity the contact already has (or another external_id) is a conflict: not written.
    Without it, a matched contact's identity on a channel is replaced by the row's.
    """
    results = [UpsertResult(index=i, status=UpsertStatus.CREATED) for i in range(len(rows))]
    owners = _identity_owners(rows)
    external = dict(
        Contact.objects.filter(
            external_id__in=[r.fields["external_id"] for r in rows if "external_id" in r.fields]
        ).values_list("external_id", "pk")
    )
    seen: dict[object, int] = {}  # identity/external key -> first row index in this batch
    targets: list[int | None] = []
    for i, row in enumerate(rows):
        keys = [("id", ch, v) for ch, v in row.identities.items()]
        if "external_id" in row.fields:
            keys.append(("ext", row.fields["external_id"]))
        matched = {owners.get(k[1:]) if k[0] == "id" else external.get(k[1]) for k in keys} - {None}
        earlier = [seen[k] for k in keys if k in seen]
        if earlier:
            results[i] = UpsertResult(i, UpsertStatus.ERROR, errors=[f"Same identity as item {earlier[0]}."])
        elif len(matched) > 1:
            ids = ", ".join(f"#{pk}" for pk in sorted(matched))
            results[i] = UpsertResult(
                i, UpsertStatus.ERROR, errors=[f"Identities belong to different contacts ({ids})."], conflict=True
            )
        elif matched and create_only:
            results[i] = UpsertResult(i, UpsertStatus.ERROR, errors=["A contact with this identity already exists."])
        for key in keys:
            seen.setdefault(key, i)
        targets.append(next(iter(matched)) if matched else None)
    carried = {name for row in rows for name in row.fields}  # the only columns compared or written below
    existing = Contact.objects.only("external_id", "attributes", *carried).in_bulk(
        {t for t, r in zip(targets, results, strict=True) if t and not r.errors}
    )
    stored = _stored_identities(existing)
    if identity_conflicts:
        for i, row in enumerate(rows):
            if targets[i] in existing and not results[i].errors:
                messages = identity_conflicts_of(row, existing[targets[i]], stored, owners, external)
                if messages:
                    results[i] = UpsertResult(i, UpsertStatus.ERROR, errors=messages, conflict=True)
    if all_or_nothing and any(r.status == UpsertStatus.ERROR for r in results):
        for r in results:
            if r.status != UpsertStatus.ERROR:
                r.status = UpsertStatus.SKIPPED
        return results
    live = [i for i, r in enumerate(results) if r.status != UpsertStatus.ERROR]
    now = timezone.now()
    # new contacts
    new_rows = [i for i in live if targets[i] is None]
    created = Contact.objects.bulk_create([Contact(**rows[i].fields, attributes=rows[i].attributes) for i in new_rows])
    for i, contact in zip(new_rows, created, strict=True):
        targets[i] = contact.pk
    created_ids = {contact.pk for contact in created}
    # existing contacts: only the fields each row carries, only rows that change something
    fresh = set(new_rows)
    old_rows = [i for i in live if i not in fresh]
    tags_of = _tag_names_of(existing)
    consents_of = _consents_of(existing)
    changed_fields: set[str] = set()
    to_update: dict[int, Contact] = {}
    for i in old_rows:
        contact, row = existing[targets[i]], rows[i]
        results[i].status = UpsertStatus.UPDATED
        for name, value in row.fields.items():
            if getattr(contact, name) != value:
                setattr(contact, name, value)
                changed_fields.add(name)
                to_update[contact.pk] = contact
        if {**contact.attributes, **row.attributes} != contact.attributes:
            contact.attributes = {**contact.attributes, **row.attributes}
            changed_fields.add("attributes")
            to_update[contact.pk] = contact
        results[i].changed = (
            contact.pk in to_update
            or any(stored.get((contact.pk, ch)) != v for ch, v in row.identities.items())
            or not set(row.tags) <= tags_of.get(contact.pk, set())
            or any(consents_of.get((contact.pk, ch)) != st for ch, st in row.consents.items())
        )
    for contact in to_update.values():
        contact.updated_at = now
    if to_update:
        Contact.objects.bulk_update(list(to_update.values()), sorted(changed_fields | {"updated_at"}))
    for i in live:
        results[i].contact_id = targets[i]
    writing = [i for i in live if results[i].changed]
    # identities (an existing contact's identity on a channel is replaced by the new value)
    new_identities = [
        (targets[i], ch, v) for i in writing for ch, v in rows[i].identities.items() if owners.get((ch, v)) is None
    ]
    replaced = {(c, ch) for c, ch, _ in new_identities if c not in created_ids}
    if replaced:
        query = Q()
        for channel in {ch for _, ch in replaced}:
            query |= Q(channel=channel, contact_id__in=[c for c, ch in replaced if ch == channel])
        ContactIdentity.objects.filter(query).delete()
    if new_identities:
        ContactIdentity.objects.bulk_create(
            [ContactIdentity(contact_id=c, channel=ch, value=v) for c, ch, v in new_identities]
        )
    # tags (added, never removed, by an upsert)
    tags = _tags_for({name for i in writing for name in rows[i].tags})
    links = [(targets[i], name) for i in writing for name in rows[i].tags if name not in tags_of.get(targets[i], ())]
    Contact.tags.through.objects.bulk_create(
        [Contact.tags.through(contact_id=contact_id, tag_id=tags[name].pk) for contact_id, name in links],
        ignore_conflicts=True,
    )
    _consents_apply(
        {(targets[i], ch): st for i in writing for ch, st in rows[i].consents.items()}, source, now, created_ids
    )
    return results


def identity_conflicts_of(
    row: ContactInput,
    contact: Contact,
    stored: dict[tuple[int, str], str],
    owners: dict[tuple[str, str], int],
    external: dict[str, int],
) -> list[str]:
    """Why a row matched to `contact` by an identity may not overwrite the identities it already has
    (empty when it may: nothing differs, or the row matched by its external_id)."""
    external_id = row.fields.get("external_id")
    if external_id is not None and external.get(external_id) == contact.pk:
        return []  # the caller's own key for this person: its identities are the caller's to change
    differing = [("external_id", contact.external_id, external_id)] if external_id and contact.external_id else []
    differing += [(ch, stored.get((contact.pk, ch)), v) for ch, v in row.identities.items()]
    differing = [(name, old, new) for name, old, new in differing if old is not None and old != new]
    if not differing:
        return []
    by = ", ".join(ch for ch in CHANNELS if owners.get((ch, row.identities.get(ch))) == contact.pk)
    return [
        f"{name}: this row matches contact #{contact.pk} by {by}, whose {name} is '{old}', not '{new}'; "
        "the row was not imported."
        for name, old, new in differing
    ]


def _stored_identities(contacts: dict[int, Contact]) -> dict[tuple[int, str], str]:
    if not contacts:
        return {}
    rows = ContactIdentity.objects.filter(contact_id__in=contacts).values_list("contact_id", "channel", "value")
    return {(contact_id, channel): value for contact_id, channel, value in rows}


def _tag_names_of(contacts: dict[int, Contact]) -> dict[int, set[str]]:
    names: dict[int, set[str]] = {}
    if contacts:
        links = Contact.tags.through.objects.filter(contact_id__in=contacts).values_list("contact_id", "tag__name")
        for contact_id, name in links:
            names.setdefault(contact_id, set()).add(name)
    return names


def _consents_of(contacts: dict[int, Contact]) -> dict[tuple[int, str], str]:
    if not contacts:
        return {}
    rows = ContactConsent.objects.filter(contact_id__in=contacts).values_list("contact_id", "channel", "status")
    return {(contact_id, channel): status for contact_id, channel, status in rows}


def identities_stored(*, pairs: set[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """The (channel, value) pairs among `pairs` that some contact has as an identity."""
    by_channel: dict[str, set[str]] = {}
    for channel, value in pairs:
        by_channel.setdefault(channel, set()).add(value)
    query = Q()
    for channel, values in by_channel.items():
        query |= Q(channel=channel, value__in=values)
    if not query:
        return frozenset()
    return frozenset(ContactIdentity.objects.filter(query).values_list("channel", "value"))


def _identity_owners(rows: list[ContactInput]) -> dict[tuple[str, str], int]:
    by_channel: dict[str, set[str]] = {}
    for row in rows:
        for channel, value in row.identities.items():
            by_channel.setdefault(channel, set()).add(value)
    if not by_channel:
        return {}
    query = Q()
    for channel, values in by_channel.items():
        query |= Q(channel=channel, value__in=values)
    return {
        (ch, v): c for ch, v, c in ContactIdentity.objects.filter(query).values_list("channel", "value", "contact_id")
    }


def _consents_apply(wanted: dict[tuple[int, str], str], source: str, now, new_contacts: set[int]) -> None:
    """Set many consents at once, appending history only for real changes (new contacts have none yet)."""
    if not wanted:
        return
    existing = {c for c, _ in wanted} - new_contacts
    current = {
        (c.contact_id, c.channel): c
        for c in ContactConsent.objects.filter(contact_id__in=existing, channel__in={ch for _, ch in wanted})
    }
    to_create, to_update, events = [], [], []
    for (contact_id, channel), status in wanted.items():
        consent = current.get((contact_id, channel))
        if consent is None:
            to_create.append(
                ContactConsent(contact_id=contact_id, channel=channel, status=status, source=source, updated_at=now)
            )
        elif consent.status != status:
            consent.status, consent.source, consent.updated_at = status, source, now
            to_update.append(consent)
        else:
            continue
        events.append(
            ConsentEvent(contact_id=contact_id, channel=channel, status=status, source=source, occurred_at=now)
        )
    ContactConsent.objects.bulk_create(to_create)
    ContactConsent.objects.bulk_update(to_update, ["status", "source", "updated_at"])
    ConsentEvent.objects.bulk_create(events)


# --- merge & erase -------------------------------------------------------------------------


@transaction.atomic
def contact_merge(*, survivor: Contact, loser: Contact, actor=None) -> Contact:
    """Move everything of `loser` to `survivor` and mark the loser merged.

    Every relation pointing at Contact (from any app) moves; where a unique constraint would
    clash, the survivor's row wins and the loser's stays on the (inactive) loser. Consent is the
    exception: an unsubscribe on the loser is carried over, because an opt-out must survive.
    """
    if survivor.pk == loser.pk:
        raise ValidationError("A contact cannot be merged into itself.")
    survivor, loser = (Contact.objects.select_for_update().get(pk=c.pk) for c in (survivor, loser))
    if not survivor.is_active or not loser.is_active:
        raise ValidationError("Only active contacts (not erased or merged) can be merged.")
    for channel in loser.consents.filter(status=ConsentStatus.UNSUBSCRIBED).values_list("channel", flat=True):
        consent_set(
            contact=survivor,
            channel=channel,
            status=ConsentStatus.UNSUBSCRIBED,
            source="merge",
            note=f"unsubscribed on merged contact #{loser.pk}",
        )
    moved = {}
    for relation in _relations_to_contact():
        moved[relation.label] = _move_related(relation, survivor=survivor, loser=loser)
    for m2m in Contact._meta.many_to_many:
        getattr(survivor, m2m.name).add(*getattr(loser, m2m.name).all())
    external_id = loser.external_id
    loser.external_id = None
    loser.merged_into = survivor
    loser.save(update_fields=["external_id", "merged_into", "updated_at"])
    survivor.name = survivor.name or loser.name
    survivor.external_id = survivor.external_id or external_id
    survivor.attributes = {**loser.attributes, **survivor.attributes}
    survivor.engagement_score = max(survivor.engagement_score, loser.engagement_score)
    survivor.save()
    contact_merged.send(sender=Contact, survivor=survivor, loser=loser)
    audit_record(actor=actor, action="contact.merge", target=survivor, data={"loser": loser.pk, "moved": moved})
    logger.info("contacts merged", extra={"survivor": survivor.pk, "loser": loser.pk})
    return survivor


@dataclass(frozen=True)
class _Relation:
    model: type[models.Model]
    field_name: str  # the FK on `model` pointing at Contact

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field_name}"


def _relations_to_contact() -> list[_Relation]:
    """Every FK to Contact, including hidden ones and the through tables of M2Ms to Contact."""
    found = []
    for rel in Contact._meta.get_fields(include_hidden=True):
        if not rel.is_relation or not rel.auto_created or rel.concrete:
            continue
        if rel.many_to_many:
            through = rel.through if hasattr(rel, "through") else rel.field.remote_field.through
            for f in through._meta.get_fields():
                if getattr(f, "many_to_one", False) and f.related_model is Contact:
                    found.append(_Relation(through, f.name))
        elif rel.one_to_many or rel.one_to_one:
            found.append(_Relation(rel.related_model, rel.field.name))
    # forward M2Ms of Contact (tags) are merged separately; their through rows point at Contact too
    own_through = {m2m.remote_field.through for m2m in Contact._meta.many_to_many}
    return [r for r in dict.fromkeys(found) if r.model not in own_through]


def _unique_sets(model, field_name: str) -> list[list[str]]:
    """The other fields of each unique constraint that includes `field_name`."""
    opts = model._meta
    sets = [list(fields) for fields in opts.unique_together]
    sets += [list(c.fields) for c in opts.constraints if isinstance(c, models.UniqueConstraint) and c.fields]
    field = opts.get_field(field_name)
    if field.unique:
        sets.append([field_name])
    return [[f for f in fields if f != field_name] for fields in sets if field_name in fields]


def _move_related(relation: _Relation, *, survivor: Contact, loser: Contact) -> int:
    manager = relation.model._base_manager
    rows = manager.filter(**{relation.field_name: loser})
    if relation.model is Contact:
        rows = rows.exclude(pk=survivor.pk)
    for others in _unique_sets(relation.model, relation.field_name):
        clash = manager.filter(**{relation.field_name: survivor}, **{f: OuterRef(f) for f in others})
        rows = rows.exclude(Exists(clash))
    return rows.update(**{relation.field_name: survivor})


@transaction.atomic
def contact_erase(*, contact: Contact, actor=None) -> Contact:
    """GDPR erasure: personal data removed, the rows that feed aggregates stay (anonymised).

    Other apps blank their own copies in receivers of `contact_erased` (same transaction).
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    contact.identities.all().delete()
    contact.tags.clear()
    contact.consent_events.update(note="")
    contact.name, contact.external_id, contact.attributes = "", None, {}
    contact.timezone, contact.locale = "UTC", ""
    contact.erased_at = timezone.now()
    contact.save()
    contact_erased.send(sender=Contact, contact=contact)
    audit_record(actor=actor, action="contact.erase", target=contact)
    logger.info("contact erased", extra={"contact": contact.pk})
    return contact
