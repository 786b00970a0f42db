"""Signals other apps subscribe to.

funnel_dm_sent(sender, run: FunnelRun) is sent inside the transaction when a funnel run sends its
first direct message: attribution records it as a touchpoint (conversion.receivers).
"""

from django.dispatch import Signal

funnel_dm_sent = Signal()
