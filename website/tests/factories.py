from datetime import UTC, datetime, timedelta

from website.models import WebsiteEvent

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RANGE = (T0, T0 + timedelta(days=7))


def add_event(site, visitor, name, at, *, path="/", props=None, contact=None, session=None, device="desktop"):
    return WebsiteEvent.objects.create(
        site=site,
        occurred_at=at,
        received_at=at,
        name=name,
        visitor_id=visitor,
        contact_id=contact,
        session_id=session or f"s-{visitor}",
        url=f"https://shop.example.com{path}",
        path=path,
        referrer="",
        props=props or {},
        device=device,
        browser="Chrome",
        os="Linux",
        ip="",
    )
