"""A fake provider HTTP server that counts what it receives by our message id, and the provider
class that talks to it (registered by passing it to the dispatcher). Test-only."""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib import error, request

from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult


class CountingServer:
    """POST /send {"message_id", "to"} → 200 {"id"}; GET /messages/<id> → 200 or 404."""

    def __init__(self, delay: float = 0.0):
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.delay = delay
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.counts[body["message_id"]] += 1
                if server.delay:
                    time.sleep(server.delay)
                self._reply(200, {"id": f"fp-{body['message_id']}"})

            def do_GET(self):
                message_id = self.path.rsplit("/", 1)[-1]
                with server.lock:
                    seen = server.counts.get(message_id, 0)
                self._reply(200 if seen else 404, {"id": f"fp-{message_id}"} if seen else {"error": "not found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class CountingProvider(Provider):
    """Sends to a CountingServer; `lookup` lets a re-claimed ambiguous send be recognised."""

    name = "counting"

    def __init__(self, url: str, channel: str = "email"):
        self.url, self.channel = url, channel

    def send(self, payload: OutboundPayload) -> SendResult:
        data = json.dumps({"message_id": payload.message_id, "to": payload.to}).encode()
        req = request.Request(f"{self.url}/send", data=data, headers={"Content-Type": "application/json"})
        try:
            with request.urlopen(req, timeout=5) as response:
                return SendResult(provider_message_id=json.loads(response.read())["id"])
        except error.URLError as exc:
            raise ProviderError(str(exc), permanent=False, code="network") from exc

    def lookup(self, message_id: str) -> SendResult | None:
        try:
            with request.urlopen(f"{self.url}/messages/{message_id}", timeout=5) as response:
                return SendResult(provider_message_id=json.loads(response.read())["id"])
        except error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
