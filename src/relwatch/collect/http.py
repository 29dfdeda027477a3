"""A polite async HTTP fetcher: the only way relwatch talks to other people's servers.

Politeness and safety live here so every caller gets them: robots.txt (per host, cached,
Crawl-delay honoured), a per-host minimum interval between requests, per-host and global
concurrency caps, timeouts, retries with exponential backoff on 5xx/timeouts/connection
errors (never on 4xx), conditional GET, a body-size cap enforced while streaming, a
content-type check before the body is read, and redirects followed by hand so that each
hop is checked against robots.txt and a redirect loop ends as a clean failure.
Failures come back as a ``FetchResult`` with an error kind, never as an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from relwatch.core.config import Settings
from relwatch.core.logging import get_logger

log = get_logger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/x-gzip",
    "application/gzip",
    "application/octet-stream",
    "text/plain",
    "text/html",  # many servers send feeds and sitemaps as text/html; the parser decides
)

# Error kinds a FetchResult may carry; the retryable ones are worth another try next run.
RETRYABLE_ERRORS = frozenset({"timeout", "connection", "http_5xx", "unreachable"})


@dataclass
class FetchResult:
    """What came back from one URL (after redirects), or why nothing usable did."""

    url: str
    final_url: str
    status: int | None = None
    content: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None  # kind: robots|timeout|connection|http_4xx|http_5xx|too_large|...
    detail: str | None = None
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def retryable(self) -> bool:
        return self.error in RETRYABLE_ERRORS

    def text(self) -> str:
        """The body decoded with the charset the server declared (UTF-8 otherwise)."""
        charset = "utf-8"
        if self.content_type and "charset=" in self.content_type:
            charset = self.content_type.split("charset=", 1)[1].split(";")[0].strip(" \"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def describe(self) -> str:
        return f"{self.error}: {self.detail}" if self.error else f"HTTP {self.status}"


class _Retryable(Exception):
    """Raised inside one attempt to make tenacity try again (5xx, timeout, connection)."""

    def __init__(self, kind: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.status = kind, detail, status


class _Host:
    """Per-host politeness state: a concurrency cap and the earliest time of the next request."""

    def __init__(self, per_host_concurrency: int, min_interval: float) -> None:
        self.semaphore = asyncio.Semaphore(per_host_concurrency)
        self.min_interval = min_interval
        self.next_at = 0.0
        self.lock = asyncio.Lock()
        self.robots: Protego | None = None
        self.robots_error: str | None = None
        self.robots_lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        """Reserve the next slot so requests to a host are at least min_interval apart."""
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.min_interval
        delay = start - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


def host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Fetcher:
    """Fetch URLs politely; use as ``async with Fetcher() as f: await f.fetch(url)``.

    ``rates`` maps a host (``scheme://netloc``) to its requests per second; hosts not
    listed use ``default_rate``. ``transport`` lets tests plug in an httpx transport.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        default_rate: float = 1.0,
        timeout: float | None = None,
        retries: int | None = None,
        max_bytes: int | None = None,
        concurrency: int | None = None,
        per_host_concurrency: int | None = None,
        max_redirects: int | None = None,
        user_agent: str | None = None,
        backoff_s: float = 0.5,
        respect_robots: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        s = settings if settings is not None else Settings.model_construct()
        self.user_agent = user_agent or s.user_agent
        self.timeout = timeout if timeout is not None else s.crawl_timeout_s
        self.retries = retries if retries is not None else s.crawl_retries
        self.max_bytes = max_bytes if max_bytes is not None else s.crawl_max_bytes
        self.max_redirects = max_redirects if max_redirects is not None else s.crawl_max_redirects
        self.per_host_concurrency = per_host_concurrency or s.crawl_per_host_concurrency
        self.default_rate = default_rate
        self.backoff_s = backoff_s
        self.respect_robots = respect_robots
        self._global = asyncio.Semaphore(concurrency or s.crawl_concurrency)
        self._hosts: dict[str, _Host] = {}
        self._rates: dict[str, float] = {}
        self._client = httpx.AsyncClient(
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=(concurrency or s.crawl_concurrency) * 2),
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def set_rate(self, url_or_host: str, per_sec: float) -> None:
        """Limit requests to the host of ``url_or_host`` (the slowest setting wins)."""
        key = host_key(url_or_host)
        self._rates[key] = min(per_sec, self._rates.get(key, per_sec))
        if key in self._hosts:
            self._hosts[key].min_interval = max(self._hosts[key].min_interval, 1.0 / per_sec)

    def _host(self, url: str) -> _Host:
        key = host_key(url)
        host = self._hosts.get(key)
        if host is None:
            rate = self._rates.get(key, self.default_rate)
            host = _Host(self.per_host_concurrency, 1.0 / rate)
            self._hosts[key] = host
        return host

    # -- robots.txt -------------------------------------------------------------------

    async def _robots(self, url: str) -> tuple[Protego | None, str | None]:
        """The host's parsed robots.txt (fetched once), or the reason it is unknown."""
        host = self._host(url)
        async with host.robots_lock:
            if host.robots is not None or host.robots_error is not None:
                return host.robots, host.robots_error
            robots_url = host_key(url) + "/robots.txt"
            result = await self._get(robots_url, accept=None, conditional={}, max_bytes=500_000)
            for _ in range(5):  # RFC 9309: follow at least five redirects
                if result.error or result.status not in (301, 302, 303, 307, 308):
                    break
                robots_url = urljoin(robots_url, result.detail or "")
                result = await self._get(robots_url, accept=None, conditional={}, max_bytes=500_000)
            if result.ok and result.status == 200:
                host.robots = Protego.parse(result.text())
                delay = host.robots.crawl_delay(self.user_agent)
                if delay:
                    host.min_interval = max(host.min_interval, float(delay))
            elif result.error == "http_4xx" or (result.ok and result.status != 200):
                host.robots = Protego.parse("")  # RFC 9309: 4xx = no restrictions
            else:
                # RFC 9309: unreachable robots.txt (5xx, network) means "assume disallowed".
                host.robots_error = f"{result.error}: {result.detail}"
            return host.robots, host.robots_error

    async def allowed(self, url: str) -> tuple[bool, str | None]:
        """Whether robots.txt lets our User-Agent fetch ``url`` (and why not)."""
        if not self.respect_robots:
            return True, None
        robots, error = await self._robots(url)
        if robots is None:
            return False, f"robots.txt unavailable ({error})"
        if not robots.can_fetch(url, self.user_agent):
            return False, "disallowed by robots.txt"
        return True, None

    # -- fetching ---------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: Iterable[str] | None = HTML_TYPES,
    ) -> FetchResult:
        """GET ``url`` politely, following redirects by hand; never raises for HTTP trouble."""
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        seen = [url]
        current = url
        for _hop in range(self.max_redirects + 1):
            ok, why = await self.allowed(current)
            if not ok:
                kind = "unreachable" if why and "robots.txt unavailable" in why else "robots"
                if kind == "unreachable" and "http_5xx" in (why or ""):
                    kind = "robots"
                return FetchResult(url, current, error=kind, detail=why, redirects=seen[1:])
            result = await self._get(current, accept=accept, conditional=conditional)
            result.url = url
            result.redirects = seen[1:]
            if result.status not in (301, 302, 303, 307, 308) or result.error:
                return result
            location = result.detail or ""
            nxt = urljoin(current, location)
            if not nxt.startswith(("http://", "https://")):
                return FetchResult(
                    url,
                    current,
                    result.status,
                    error="redirect",
                    detail=f"redirect to unsupported URL {location!r}",
                )
            if nxt in seen:
                return FetchResult(
                    url,
                    current,
                    result.status,
                    error="redirect",
                    detail=f"redirect loop: {' -> '.join([*seen, nxt])}",
                    redirects=seen[1:],
                )
            seen.append(nxt)
            current = nxt
            conditional = {}  # validators belong to the first URL only
        return FetchResult(
            url,
            current,
            error="redirect",
            detail=f"more than {self.max_redirects} redirects",
            redirects=seen[1:],
        )

    async def _get(
        self,
        url: str,
        *,
        accept: Iterable[str] | None,
        conditional: dict[str, str],
        max_bytes: int | None = None,
    ) -> FetchResult:
        """One URL, no redirect following, with retries on transient failures."""
        attempts = 0

        async def attempt() -> FetchResult:
            nonlocal attempts
            attempts += 1
            return await self._attempt(url, accept, conditional, max_bytes or self.max_bytes)

        try:
            async for try_ in AsyncRetrying(
                stop=stop_after_attempt(self.retries + 1),
                wait=wait_exponential(multiplier=self.backoff_s, max=30),
                retry=retry_if_exception_type(_Retryable),
                reraise=False,
            ):
                with try_:
                    result = await attempt()
        except RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, _Retryable)
            log.debug(
                "fetch failed", url=url, error=last.kind, detail=last.detail, attempts=attempts
            )
            return FetchResult(
                url, url, last.status, error=last.kind, detail=last.detail, attempts=attempts
            )
        result.attempts = attempts
        return result

    async def _attempt(
        self, url: str, accept: Iterable[str] | None, conditional: dict[str, str], max_bytes: int
    ) -> FetchResult:
        host = self._host(url)
        async with self._global, host.semaphore:
            await host.wait_turn()
            try:
                async with asyncio.timeout(self.timeout * 2):
                    return await self._stream(url, accept, conditional, max_bytes)
            except (httpx.TimeoutException, TimeoutError) as exc:
                raise _Retryable("timeout", f"no complete answer within {self.timeout:g}s") from exc
            except httpx.TransportError as exc:
                raise _Retryable("connection", f"{type(exc).__name__}: {exc}") from exc

    async def _stream(
        self, url: str, accept: Iterable[str] | None, conditional: dict[str, str], max_bytes: int
    ) -> FetchResult:
        async with self._client.stream("GET", url, headers=conditional) as resp:
            status = resp.status_code
            headers = resp.headers
            result = FetchResult(
                url,
                url,
                status,
                content_type=headers.get("content-type"),
                etag=headers.get("etag"),
                last_modified=headers.get("last-modified"),
            )
            if status in (301, 302, 303, 307, 308):
                result.detail = headers.get("location")
                if not result.detail:
                    result.error = "redirect"
                    result.detail = f"HTTP {status} without Location"
                return result
            if status == 304:
                result.not_modified = True
                return result
            if status >= 500:
                raise _Retryable("http_5xx", f"HTTP {status}", status)
            if status >= 400:
                result.error, result.detail = "http_4xx", f"HTTP {status}"
                return result
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                result.error = "too_large"
                result.detail = f"Content-Length {declared} > limit {max_bytes}"
                return result
            if accept is not None and result.content_type:
                mime = result.content_type.split(";")[0].strip().lower()
                if mime not in tuple(accept):
                    result.error = "content_type"
                    result.detail = f"unexpected content type {mime!r}"
                    return result
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    result.error = "too_large"
                    result.detail = f"body over the limit of {max_bytes} bytes"
                    return result
                chunks.append(chunk)
            result.content = b"".join(chunks)
            return result
