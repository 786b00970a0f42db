"""What the contact services announce; each app connects its own receivers in its AppConfig.ready.

Both are sent inside the service's transaction, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

contact_merged = Signal()  # kwargs: survivor, loser (Contact): move or merge your rows of the loser
# kwargs: contact (Contact, still holding its data), values (its name, external id and identity
# values: find copies not linked by contact id with madansara.erasure). Blank your copies, keep the
# rows that feed aggregates; return {"<app_label>.<model>": rows changed} for the audit event (counts).
contact_erased = Signal()
