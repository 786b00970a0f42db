"""Website chat load: N open chats long-polling the ASGI process (`chat` in the Procfile: one
uvicorn process), agent replies sent through the chat channel (message_create + message_send →
ChatProvider → live event) at a steady rate, delivery latency measured from the send to the
visitor's poll answer; meanwhile gunicorn (the `web` process) answers the REST API, timed with
and without the chats open (the baseline, same run).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_chat REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/chat.py [--chats 2000] [--seconds 60] [--rate 20]

Prints: chats held open, replies sent/delivered, delivery p50/p95/max, API p50/p95 with and
without the chats, the ASGI process's threads and memory.
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
django.setup()

import httpx
import orjson
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from madansara.channels.models import ChatThread
from madansara.channels.services import message_create, message_send
from madansara.live import live_cursor
from madansara.models import APIKey
from madansara.roles import sync_roles
from website.chat import visitor_token
from website.models import ChatWidget, Site

ORIGIN = "https://shop.bench.example"
API_PATH = "/api/v1/inbox/conversations?limit=20"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share + 0.5) - 1)] if ordered else float("nan")


def seed(chats: int) -> tuple[list[tuple[str, str]], str]:
    """(thread key, visitor token) per chat, and an API key for the agent API."""
    call_command("migrate", verbosity=0)
    sync_roles()
    site, _ = Site.objects.get_or_create(name="Bench shop", defaults={"domain": "shop.bench.example"})
    site.allowed_origins = [ORIGIN]
    site.save()
    ChatWidget.objects.get_or_create(site=site)
    ChatThread.objects.filter(site_key=site.public_key).delete()
    threads = ChatThread.objects.bulk_create(
        ChatThread(site_key=site.public_key, visitor_id=f"bench-{i}") for i in range(chats)
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-chat-agent", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Agent"))
    raw, prefix, hashed = APIKey.generate()
    APIKey.objects.create(name="bench-chat", user=user, prefix=prefix, hashed_key=hashed, scopes=["inbox:read"])
    return [(thread.key, visitor_token(thread=thread, site=site)) for thread in threads], raw


def start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def wait_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_figures(pid: int) -> tuple[int, float]:
    """(threads, resident MiB) of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024


class Visitors:
    """N keep-alive connections, each re-polling at once: a browser tab with the chat open."""

    def __init__(self, port: int, chats: list[tuple[str, str]], cursor: int):
        self.port, self.chats, self.cursor = port, chats, cursor
        self.received: dict[str, float] = {}
        self.in_flight = 0
        self.errors: dict[str, int] = {}
        self.stopping = False

    async def _request(self, reader, writer, body: bytes) -> tuple[int, bytes]:
        writer.write(
            b"POST /chat/poll HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: " + ORIGIN.encode() + b"\r\n"
            b"Content-Type: text/plain\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await reader.readexactly(length)

    async def visitor(self, token: str) -> None:
        after = self.cursor
        while not self.stopping:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                while not self.stopping:
                    self.in_flight += 1
                    try:
                        status, raw = await self._request(
                            reader, writer, orjson.dumps({"token": token, "after": after})
                        )
                    finally:
                        self.in_flight -= 1
                    now = time.time()
                    if status != 200:
                        self.errors[str(status)] = self.errors.get(str(status), 0) + 1
                        await asyncio.sleep(1)
                        continue
                    body = orjson.loads(raw)
                    after = body["cursor"]
                    for event in body["events"]:
                        text = event["data"].get("text", "")
                        if text.startswith("bench "):
                            self.received[text] = now
                writer.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # counted and retried, like a browser would
                self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1
                await asyncio.sleep(1)

    async def run(self, ramp_per_second: int) -> list[asyncio.Task]:
        tasks = []
        for index, (_, token) in enumerate(self.chats):
            tasks.append(asyncio.create_task(self.visitor(token)))
            if index % ramp_per_second == ramp_per_second - 1:
                await asyncio.sleep(1)
        return tasks


def send_replies(
    keys: list[str], rate: float, seconds: float, sent: dict[str, float], published: dict[str, float]
) -> None:
    """Agent replies through the chat channel, `rate` per second, each to a random open chat."""
    deadline = time.monotonic() + seconds
    interval = 1 / rate
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        key = random.choice(keys)
        text = f"bench {len(sent)} {key}"
        message = message_create(channel="chat", to=key, text=text, source="bench", human_approved=True)
        sent[text] = time.time()
        message_send(message=message)
        published[text] = time.time()  # the provider call returned: the live event is stored
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


def api_timings(port: int, key: str, seconds: float, every: float = 0.2) -> list[float]:
    timings = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = http.get(API_PATH)
            assert response.status_code == 200, response.text[:300]
            timings.append((time.perf_counter() - started) * 1000)
            time.sleep(every)
    return timings


def visitors_process(port: int, chats: list[tuple[str, str]], cursor: int, ramp: int, pipe) -> None:
    """The browsers, in a process of their own (as on other machines): opens the chats, says
    when all are polling, samples the open polls each second, and on "stop" sends its figures."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * len(chats) + 500)), hard))

    async def run():
        visitors = Visitors(port, chats, cursor=cursor)
        started = time.monotonic()
        tasks = await visitors.run(ramp_per_second=ramp)
        while visitors.in_flight < len(chats) * 0.99 and time.monotonic() - started < 120:
            await asyncio.sleep(0.5)
        pipe.send(("ready", time.monotonic() - started))
        samples = []
        while not pipe.poll():
            samples.append(visitors.in_flight)
            await asyncio.sleep(1)
        pipe.recv()
        visitors.stopping = True
        for task in tasks:
            task.cancel()
        pipe.send((visitors.received, samples, visitors.errors))

    asyncio.run(run())


def run_bench(args, chats: list[tuple[str, str]], api_key: str, cursor: int) -> None:
    web_port, chat_port = free_port(), free_port()
    env = {**os.environ, "DEBUG": "1", "LOG_LEVEL": "WARNING", "CHAT_POLLS_PER_VISITOR_PER_MINUTE": "100000"}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * args.chats + 1000)), hard))  # uvicorn's
    web = start(
        [str(ROOT / ".venv/bin/gunicorn"), "madansara.wsgi", "-c", "deploy/gunicorn.conf.py",
         "-b", f"127.0.0.1:{web_port}"],
        env | {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"},
    )  # fmt: skip
    chat = start(
        [str(ROOT / ".venv/bin/uvicorn"), "madansara.asgi:application", "--port", str(chat_port), "--no-access-log",
         "--log-level", "warning", "--backlog", "4096"],
        env,
    )  # fmt: skip
    browsers = None
    try:
        wait_up(f"http://127.0.0.1:{web_port}/healthz")
        wait_up(f"http://127.0.0.1:{chat_port}/healthz")
        baseline = api_timings(web_port, api_key, 10)
        ours, theirs = multiprocessing.Pipe()
        browsers = multiprocessing.Process(target=visitors_process, args=(chat_port, chats, cursor, args.ramp, theirs))
        browsers.start()
        _, ramp = ours.recv()
        threads_before, rss_before = process_figures(chat.pid)
        cpu_before, wall_before = cpu_seconds(chat.pid), time.monotonic()
        sent: dict[str, float] = {}
        published: dict[str, float] = {}
        keys = [key for key, _ in chats]
        sender = threading.Thread(target=send_replies, args=(keys, args.rate, args.seconds, sent, published))
        sender.start()
        loaded = api_timings(web_port, api_key, args.seconds)
        sender.join()
        time.sleep(3)  # the last replies' delivery
        threads, rss = process_figures(chat.pid)
        cpu_share = (cpu_seconds(chat.pid) - cpu_before) / (time.monotonic() - wall_before)
        ours.send("stop")
        received, open_samples, errors = ours.recv()
        latencies = [(received[text] - at) * 1000 for text, at in sent.items() if text in received]
        print(f"visitor-side errors: {errors or 'none'}")
        if not latencies:
            raise SystemExit("no reply was delivered")
        print(f"chats opened: {args.chats} (all polling after {ramp:.1f} s ramp)")
        print(f"open long-polls during the run: min {min(open_samples)} / median {statistics.median(open_samples):.0f}")
        print(f"replies sent: {len(sent)} at {args.rate}/s over {args.seconds} s; delivered: {len(latencies)}")
        print(
            f"delivery latency ms: p50 {statistics.median(latencies):.0f}  p95 {percentile(latencies, 0.95):.0f}  "
            f"max {max(latencies):.0f}"
        )
        first = min(sent.values())
        slices: dict[int, list[float]] = {}
        for text, at in sent.items():
            if text in received:
                slices.setdefault(int((at - first) // 10), []).append((received[text] - at) * 1000)
        print(
            "  by 10 s of the run, p95 ms (n): "
            + "  ".join(f"{k * 10}s {percentile(v, 0.95):.0f} ({len(v)})" for k, v in sorted(slices.items()))
        )
        transport = [max(0.0, (received[text] - at) * 1000) for text, at in published.items() if text in received]
        print(
            f"  of which after the send returned (transport only) ms: p50 {statistics.median(transport):.0f}  "
            f"p95 {percentile(transport, 0.95):.0f}"
        )
        base50, base95 = statistics.median(baseline), percentile(baseline, 0.95)
        load50, load95 = statistics.median(loaded), percentile(loaded, 0.95)
        print(f"API {API_PATH} (gunicorn) ms without chats: p50 {base50:.1f}  p95 {base95:.1f}  (n={len(baseline)})")
        print(f"API {API_PATH} (gunicorn) ms with chats open: p50 {load50:.1f}  p95 {load95:.1f}  (n={len(loaded)})")
        print(f"API p95 ratio with/without: {load95 / base95:.2f}")
        print(
            f"ASGI process: {threads_before} threads / {rss_before:.0f} MiB after the ramp, "
            f"{threads} / {rss:.0f} MiB at the end; CPU {cpu_share:.0%} of one core during the run"
        )
        print(f"machine load average (1, 5, 15 min): {os.getloadavg()}")
    finally:
        if browsers is not None and browsers.is_alive():
            browsers.terminate()
        for process in (web, chat):
            process.terminate()
        for process in (web, chat):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # uvicorn waits for open long-polls to end: do not leave it behind
                process.kill()
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=20, help="agent replies per second")
    parser.add_argument("--ramp", type=int, default=200, help="chats opened per second")
    args = parser.parse_args()
    chats, api_key = seed(args.chats)
    run_bench(args, chats, api_key, live_cursor())


if __name__ == "__main__":
    main()
