"""A real HTTP server on 127.0.0.1 for crawler tests, with a request log.

Routes map a path (with query) to a ``Route``: a fixed answer, optionally delayed,
guarded by an ETag, failing its first N requests with 503, or computed by a function.
Nothing here ever talks to anything but the loopback interface.

Timing tests read the server's own log and assert lower bounds that follow from cause and
effect (see ``too_early``), never the speed of this machine: under load a request can only
arrive later, so such bounds hold on a busy two-core runner and fail when a limiter is gone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    fail_first: int = 0  # answer 503 to this many requests first
    send_length: bool = True
    handler: Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]] | None = None
    hits: int = 0


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it; ``at`` is ``time.monotonic()`` on its arrival."""

    at: float  # taken before any route delay, so the server's own work never shifts it
    path: str
    headers: dict[str, str]
    status: int


class FixtureServer:
    """Start with ``with FixtureServer() as srv``; add routes with ``srv.route(path, ...)``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Hit] = []  # answered requests, in the order the answers left
        self.arrivals: list[tuple[float, str]] = []  # every request, also unanswered ones
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                server._serve(self, time.monotonic())

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients hanging up on slow/huge pages is what the tests provoke

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, body: bytes | str = b"", **kwargs: object) -> Route:
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, **kwargs)  # type: ignore[arg-type]
        self.routes[path] = route
        return route

    def paths(self) -> list[str]:
        with self._lock:
            return [h.path for h in self.log]

    def hits(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.log if h.path == path]

    def arrival(self, path: str) -> float:
        """Arrival time of the only request for ``path``, answered yet or not (an error if
        there were several or none)."""
        with self._lock:
            (at,) = [at for at, p in self.arrivals if p == path]
        return at

    def _record(self, req: BaseHTTPRequestHandler, status: int, at: float) -> None:
        with self._lock:
            self.log.append(Hit(at, req.path, dict(req.headers.items()), status))

    def _serve(self, req: BaseHTTPRequestHandler, at: float) -> None:
        with self._lock:
            self.arrivals.append((at, req.path))
        route = self.routes.get(req.path)
        if route is None:
            self._send(req, at, 404, {"Content-Type": "text/plain"}, b"not found")
            return
        with self._lock:
            route.hits += 1
            hit_no = route.hits
        if route.delay_s:
            time.sleep(route.delay_s)
        if hit_no <= route.fail_first:
            self._send(req, at, 503, {"Content-Type": "text/plain"}, b"busy")
            return
        if route.handler is not None:
            status, headers, body = route.handler(req)
            self._send(req, at, status, headers, body)
            return
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        inm = req.headers.get("If-None-Match")
        ims = req.headers.get("If-Modified-Since")
        if (route.etag and inm == route.etag) or (
            route.last_modified and not route.etag and ims == route.last_modified
        ):
            headers = {k: v for k, v in headers.items() if k != "Content-Type"}
            self._send(req, at, 304, headers, b"")
            return
        self._send(req, at, route.status, headers, route.body, send_length=route.send_length)

    def _send(
        self,
        req: BaseHTTPRequestHandler,
        at: float,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        send_length: bool = True,
    ) -> None:
        self._record(req, status, at)  # before the answer leaves: a client reacts only after
        try:
            req.send_response(status)
            for key, value in headers.items():
                req.send_header(key, value)
            if send_length:
                req.send_header("Content-Length", str(len(body)))
            else:
                req.send_header("Connection", "close")
                req.close_connection = True
            req.end_headers()
            if status != 304 and body:
                req.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def too_early(
    anchor: float, arrivals: Iterable[float], interval: float, slack: float = 1e-3
) -> list[tuple[int, float]]:
    """Arrivals earlier than a per-host limiter with this ``interval`` allows: (rank, seconds).

    The limiter gives requests slots ``interval`` apart and sends none before its slot, and
    these requests were all scheduled after ``anchor`` (say, the arrival of the robots.txt or
    feed request whose answer they wait for). So the k-th arrival, in order, cannot come
    before ``anchor + k * interval`` however loaded the machine is: load only delays. Gaps
    between neighbours give no such guarantee (a stalled client sends two due slots back to
    back), which is why tests check this instead. ``slack`` absorbs clock rounding only.
    """
    ordered = sorted(arrivals)
    return [(k, t - anchor) for k, t in enumerate(ordered) if t < anchor + k * interval - slack]


# -- content helpers ----------------------------------------------------------------------

# Fixture vocabulary; bench/crawl.py builds its pages from it too.
WORDS = (
    "minister",
    "talks",
    "summit",
    "trade",
    "tariff",
    "border",
    "missile",
    "alliance",
    "envoy",
    "sanctions",
    "treaty",
    "delegation",
    "cooperation",
    "dispute",
    "navy",
    "exercise",
    "statement",
    "ceasefire",
    "investment",
    "visit",
    "energy",
    "pipeline",
    "agreement",
    "protest",
    "spokesman",
    "parliament",
    "election",
    "embassy",
    "port",
    "grain",
    "shipping",
    "satellite",
    "security",
    "dialogue",
    "reactor",
    "currency",
    "market",
    "bilateral",
    "regional",
)


def article_html(
    title: str,
    paragraphs: list[str],
    *,
    date: str | None = "2025-03-04T08:00:00+00:00",
    author: str | None = "Relwatch Fixture Desk",
    lang: str = "en",
    nav: str = "Home | World | Politics | Business",
) -> str:
    """A news page with boilerplate around the story, like real outlets serve."""
    meta = []
    if date:
        meta.append(f'<meta property="article:published_time" content="{date}">')
    if author:
        meta.append(f'<meta name="author" content="{author}">')
    paras = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title} | Fixture News</title>{''.join(meta)}</head>"
        f"<body><header><nav>{nav}</nav></header>"
        f"<main><article><h1>{title}</h1>{paras}</article></main>"
        "<footer>Fixture News. All rights reserved. Contact the newsroom.</footer></body></html>"
    )


def generated_article(n: int, words: int = 220) -> str:
    """Article ``n``: distinct pseudo-news text (deterministic), long enough to extract."""
    import random

    rng = random.Random(n)
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        length = rng.randint(9, 18)
        body = " ".join(rng.choice(WORDS) for _ in range(length))
        sentences.append(f"Officials in city {n} discussed {body}.")
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return article_html(f"Story number {n} on regional affairs", paragraphs)


def rss(items: list[tuple[str, str, str | None]], title: str = "Fixture feed") -> str:
    """RSS 2.0 with (link, title, RFC 822 date) items."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link>"
        + (f"<pubDate>{d}</pubDate>" if d else "")
        + "</item>"
        for link, t, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://127.0.0.1/</link><description>d</description>"
        f"{entries}</channel></rss>"
    )


def sitemap(urls: list[str], news_dates: list[str] | None = None) -> str:
    rows = []
    for i, u in enumerate(urls):
        news = ""
        if news_dates:
            news = (
                "<news:news><news:publication><news:name>Fixture</news:name>"
                "<news:language>en</news:language></news:publication>"
                f"<news:publication_date>{news_dates[i]}</news:publication_date>"
                f"<news:title>Title {i}</news:title></news:news>"
            )
        rows.append(f"<url><loc>{u}</loc>{news}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(rows) + "</urlset>"
    )


def sitemap_index(urls: list[str]) -> str:
    rows = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    )
