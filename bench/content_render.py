"""Rendering cost of whole-message variants (issue #18): message_render of N outbox rows with the
template as written vs. with an approved whole-message variant (subject, preview, body → HTML,
call to action), in the same process. Prints both times and the ratio.

    .venv/bin/python bench/content_render.py --rows 2000
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from django.db import connection
from django.test.utils import setup_test_environment, teardown_test_environment

BODY = (
    "Hi{% if contact.first_name %} {{ contact.first_name }}{% endif %},\n\nSix new dishes arrive on March 1.\n\n"
    "New spring menu\nHerbs come from farms near the shop.\nRead more: {{ links.menu }}\n\nThank you for reading,"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0)
    try:
        run(args.rows)
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
        teardown_test_environment()


def run(rows: int) -> None:
    from outreach.models import OutboxMessage, TemplateVariant
    from outreach.services.content import content_cache, message_render
    from outreach.services.copy import copy_experiment_start, variant_approve
    from outreach.services.planning import campaign_plan
    from outreach.tests.campaign_helpers import NOON, campaign, contact

    people = [contact(name=f"Ana {i} Diaz") for i in range(rows)]
    plain = campaign(contacts=people, links={"menu": "https://shop.example.com/menu"})
    tested = campaign(contacts=people, links={"menu": "https://shop.example.com/menu"})
    rotated = campaign(contacts=people, links={"menu": "https://shop.example.com/menu"})
    template = tested.steps.get().templates.get()
    rotated.steps.get().templates.set([template])
    variant = TemplateVariant.objects.create(
        template=template, field="message", source="bench", subject="New spring menu", preview="Six new dishes",
        body=BODY, cta_label="See the menu", cta_link="menu",
    )  # fmt: skip
    variant_approve(variant=variant)
    test = copy_experiment_start(campaign=tested, arms=[[variant]], key="bench-copy")
    test.variants.filter(key="original").update(weight=0)  # every row renders the variant
    for camp in (plain, tested, rotated):
        campaign_plan(campaign=camp, now=NOON)

    def timed(camp) -> float:
        outbox = list(OutboxMessage.objects.filter(campaign=camp).select_related("campaign", "step", "contact"))
        started = time.perf_counter()
        with content_cache():
            keys = {message_render(row=row).variant_key for row in outbox}
        elapsed = time.perf_counter() - started
        print(
            f"  {camp.name}: {len(outbox)} rows, {elapsed:.3f} s, {1e3 * elapsed / len(outbox):.3f} ms/row, keys {keys}"
        )
        return elapsed

    print(f"message_render, {rows} rows ({connection.vendor})")
    timed(plain)  # warm-up: template compilation, URL prefixes
    base = timed(plain)
    first = timed(tested)  # exposures are written on first assignment
    again = timed(tested)  # assignments exist: the dispatcher's steady state on retries/later steps
    rotation = timed(rotated)  # no experiment: original and the approved variant by hash (no writes)
    print(
        f"ratio to the original: experiment, first assignment {first / base:.2f}; experiment, assigned "
        f"{again / base:.2f}; no experiment (half the rows get the variant) {rotation / base:.2f}"
    )


if __name__ == "__main__":
    main()
