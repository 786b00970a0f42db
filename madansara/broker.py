"""Zero-config broker: kombu's filesystem transport with atomic message files.

kombu creates the `.msg` file and then writes it, so a polling worker can pick up an empty
file and die with a JSONDecodeError. Here a message is written under a temporary name and
renamed into place (atomic on POSIX), so readers only ever see complete messages.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel

    @property
    def default_connection_params(self):
        # a folder has no host: without this kombu warns "No hostname was supplied" on every connection
        return {}
