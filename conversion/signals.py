"""Signals other apps subscribe to.

conversion_recorded(sender, conversion: ConversionEvent) is sent once per new conversion, after commit
(outreach can end the journeys whose goal it is without waiting for its sweep).
"""

from django.dispatch import Signal

conversion_recorded = Signal()
