"""The ASGI process: long-polls of the website chat (/chat/poll) and the live console
(/live/inbox/poll) wait here without holding a worker each (madansara/live.py).

    uvicorn madansara.asgi:application --host 0.0.0.0 --port $CHAT_PORT   (Procfile: `chat`)

Route /chat/ and /live/ to it; gunicorn (WSGI) keeps everything else. Static files are served
by gunicorn: WhiteNoise's middleware is sync-only and would put every request back on a thread.
The visitors' long-poll is answered before Django's handler (website/chat_asgi.py): a waiting
visitor costs a coroutine, not a thread.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
os.environ.setdefault("MADANSARA_ASGI", "1")
django_application = get_asgi_application()

from website.chat_asgi import with_chat_poll  # noqa: E402 - needs the apps loaded

application = with_chat_poll(django_application)
