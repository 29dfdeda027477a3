"""Crawler throughput: fetch + extract + dedup + store, against trafilatura alone.

Serves N generated news pages (article text plus realistic boilerplate: navigation,
related links, footer) from a local HTTP server on 127.0.0.1, announces them in a news
sitemap, and runs one full crawl into a fresh SQLite database. The peer figure is
trafilatura's bare extraction of the very same pages in the same process, so the ratio
is the crawler's overhead (HTTP, politeness, dedup, database). Target: ≥ 20 articles/s.

    .venv/bin/python bench/crawl.py [--pages 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.collect.server import WORDS as FIXTURE_WORDS

# The crawler tests' vocabulary, plus the filler words of wire copy.
WORDS = [*FIXTURE_WORDS, "officials", "said", "on", "tuesday", "that", "the", "government", "would"]
COUNTRIES = ["South Korea", "Japan", "China", "the United States", "India", "Russia"]


def page(n: int, words: int = 550) -> str:
    """One news page: ~550 words of story inside ~12 KB of typical boilerplate."""
    rng = random.Random(n)
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        a, b = rng.sample(COUNTRIES, 2)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 20)))
        sentences.append(f"{a} and {b} {body} in round {n}.")
    paras = "".join(f"<p>{' '.join(sentences[i : i + 4])}</p>" for i in range(0, len(sentences), 4))
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(40))
    related = "".join(
        f'<li><a href="/story/{rng.randint(0, 10_000)}">Related headline number {i}</a></li>'
        for i in range(25)
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Story {n} | Bench News</title>"
        f'<meta property="article:published_time" content="2025-03-04T08:{n % 60:02d}:00Z">'
        f'<meta name="author" content="Bench Desk"><script>var x={n};</script></head>'
        f"<body><header><ul class='nav'>{nav}</ul></header><main><article>"
        f"<h1>Story {n}: regional talks continue</h1>{paras}</article>"
        f"<aside><h3>Related</h3><ul>{related}</ul></aside></main>"
        f"<footer><p>Bench News. All rights reserved. Terms. Privacy. Contact.</p></footer>"
        f"</body></html>"
    )


class Site:
    """Static pages on 127.0.0.1, served from a child process (so that serving does not
    share the crawler's interpreter lock and inflate its overhead)."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = site.pages.get(self.path)
                status = 200 if body is not None else 404
                body = body if body is not None else b"not found"
                ctype = "application/xml" if self.path.endswith(".xml") else "text/html"
                if self.path == "/robots.txt":
                    ctype = "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype + "; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.pages = pages
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.process: multiprocessing.Process | None = None

    def start(self) -> None:
        """Fork the server once every page (sitemap included) is in ``pages``."""
        self.process = multiprocessing.get_context("fork").Process(
            target=self.httpd.serve_forever, daemon=True
        )
        self.process.start()
        self.httpd.server_close()  # the child owns the listening socket now

    def close(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="relwatch-bench-"))
    os.environ["RELWATCH_HOME"] = str(tmp / "home")
    os.environ["RELWATCH_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["RELWATCH_LOG_LEVEL"] = "WARNING"

    import trafilatura
    from sqlalchemy import func, select
    from sqlalchemy.orm import sessionmaker

    from relwatch.collect.article_text import _DATE_PARAMS
    from relwatch.collect.crawler import crawl
    from relwatch.collect.sources import SourceSpec
    from relwatch.core import db
    from relwatch.core.config import get_settings
    from relwatch.core.logging import configure_logging
    from relwatch.core.models import Article

    configure_logging()
    settings = get_settings()
    html_pages = {f"/story/{i}": page(i) for i in range(args.pages)}
    pages = {k: v.encode() for k, v in html_pages.items()}
    pages["/robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
    site = Site(pages)
    urls = "".join(f"<url><loc>{site.base}{p}</loc></url>" for p in html_pages)
    pages["/sitemap.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()
    site.start()
    avg_kb = sum(len(v) for v in html_pages.values()) / len(html_pages) / 1024

    # Peer: trafilatura alone on the same pages, same options as the crawler uses.
    started = time.perf_counter()
    for i, html in enumerate(html_pages.values()):
        trafilatura.bare_extraction(
            html,
            url=f"{site.base}/story/{i}",
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params=_DATE_PARAMS,
        )
    bare_s = time.perf_counter() - started

    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    spec = SourceSpec(
        name="Bench News",
        country="KOR",
        kind="sitemap",
        url=f"{site.base}/sitemap.xml",
        language="en",
        rate_limit_per_sec=1000,
    )
    started = time.perf_counter()
    report = crawl(sessions, [spec], settings=settings, default_rate=1000)
    crawl_s = time.perf_counter() - started
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Article))
    engine.dispose()
    site.close()

    stats = report.sources[0]
    assert stored == args.pages == stats.new, (stored, stats)
    bare_rate = args.pages / bare_s
    crawl_rate = stored / crawl_s
    load = os.getloadavg()
    print(
        f"pages: {args.pages} (avg {avg_kb:.1f} KB), per-host concurrency "
        f"{settings.crawl_per_host_concurrency}, global {settings.crawl_concurrency}"
    )
    print(f"{'stage':<44}{'seconds':>9}{'articles/s':>12}")
    print(f"{'trafilatura bare_extraction (peer)':<44}{bare_s:>9.2f}{bare_rate:>12.1f}")
    print(f"{'crawl: fetch + extract + dedup + store':<44}{crawl_s:>9.2f}{crawl_rate:>12.1f}")
    print(f"ratio crawl/bare: {crawl_rate / bare_rate:.2f}  (1.0 = no crawler overhead)")
    print(f"target >= 20 articles/s end to end: {'met' if crawl_rate >= 20 else 'NOT met'}")
    print(
        f"load average (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
