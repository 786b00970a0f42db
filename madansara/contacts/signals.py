"""What the contact services announce; each app connects its own receivers in its AppConfig.ready.

Both are sent inside the service's transaction, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

contact_merged = Signal()  # kwargs: survivor, loser (Contact): move or merge your rows of the loser
contact_erased = Signal()  # kwargs: contact (Contact, already blanked): blank your copies of its data
