"""Fetch an article URL for ``/v1/articles/analyze`` without becoming an SSRF proxy.

A URL from the internet must never make the server talk to itself, its network or the
cloud's metadata service. Rules: http(s) only, no credentials in the URL; the host is
resolved once per connection and *every* address it resolves to must be public (not
loopback, private, link-local, multicast, reserved, unspecified, shared/CGNAT), unless the
host name or the address is in ``RELWATCH_SERVE_URL_ALLOWLIST``; the cloud metadata
addresses are refused even then. The check runs inside the connection itself (a custom
httpcore network backend that connects to the very address it checked), so it holds for
every redirect hop and robots.txt fetch the polite :class:`~relwatch.collect.Fetcher`
makes, and a DNS answer that changes between a check and the connect (rebinding) cannot
slip through. Size, time and redirect limits and robots.txt are the crawler's own; the
text comes out through trafilatura (:mod:`relwatch.collect.article_text`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from relwatch.collect.article_text import extract_article
from relwatch.collect.http import HTML_TYPES, Fetcher
from relwatch.core.config import Settings
from relwatch.core.errors import InputError, RelwatchError

__all__ = [
    "METADATA_ADDRESSES",
    "AddressPolicy",
    "FetchedArticle",
    "UrlFetchFailed",
    "UrlRefused",
    "fetch_article",
    "guarded_transport",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

#: Instance metadata endpoints (AWS, GCP, Azure, OpenStack share the IPv4 one; AWS IPv6).
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
MAX_URL_CHARS = 2048


class UrlRefused(InputError):
    """A URL the server will not fetch (scheme, credentials, non-public address)."""


class UrlFetchFailed(RelwatchError):
    """The URL was allowed but its server did not give a usable page."""

    http_status = 502


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UrlRefused(f"cannot resolve host {host!r}: {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_public(ip: IPAddress) -> bool:
    return bool(
        ip.is_global
        and not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


@dataclass(frozen=True)
class AddressPolicy:
    """Which hosts and addresses may be fetched; see the module docstring."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        hosts, nets = set(), []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(nets))

    def check_url(self, url: str) -> tuple[str, str, int]:
        """(scheme, host, port) of a URL the rules allow to try; UrlRefused otherwise."""
        if len(url) > MAX_URL_CHARS:
            raise UrlRefused(f"URL longer than {MAX_URL_CHARS} characters")
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise UrlRefused(f"not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise UrlRefused(f"only http and https URLs are fetched, not {scheme or 'no'} scheme")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("URLs with credentials (user:password@) are not fetched")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise UrlRefused("the URL has no host")
        return scheme, host, port or (443 if scheme == "https" else 80)

    def check_address(self, host: str, address: str) -> None:
        """Refuse ``address`` (one of ``host``'s) unless public or allow-listed."""
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip in METADATA_ADDRESSES:
            raise UrlRefused(f"{host} resolves to the cloud metadata address {ip}; refused")
        if host.lower().rstrip(".") in self.allow_hosts:
            return
        if any(ip.version == net.version and ip in net for net in self.allow_networks):
            return
        if not _is_public(ip):
            raise UrlRefused(
                f"{host} resolves to the non-public address {ip}; refused (allow it with "
                "RELWATCH_SERVE_URL_ALLOWLIST if this server may read it)"
            )


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve once, check every address, connect to a checked address (never re-resolve)."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()
        #: Every (host, address) connected to, for logs and tests.
        self.connected: list[tuple[str, str]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await asyncio.to_thread(_resolve, self.resolver, host, port)
        for address in addresses:
            self.policy.check_address(host, address)
        error: Exception | None = None
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            self.connected.append((host, address))
            return stream
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UrlRefused("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _resolve(resolver: Resolver, host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return [host]  # a literal address: nothing to resolve
    except ValueError:
        pass
    addresses = resolver(host, port)
    if not addresses:
        raise UrlRefused(f"host {host!r} resolves to no address")
    return addresses


class _SchemeGuard(httpx.AsyncBaseTransport):
    """Checks each request's URL (every redirect hop) before the guarded pool connects."""

    def __init__(self, inner: httpx.AsyncHTTPTransport, policy: AddressPolicy) -> None:
        self.inner = inner
        self.policy = policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.policy.check_url(str(request.url))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def guarded_transport(
    policy: AddressPolicy, resolver: Resolver | None = None
) -> tuple[httpx.AsyncBaseTransport, GuardedBackend]:
    """An httpx transport whose every connection goes through :class:`GuardedBackend`.

    httpx has no public switch for the network backend, so the transport's connection pool
    is rebuilt with ours (httpx and httpcore are pinned; the SSRF tests cover this path).
    No proxy from the environment is used: a proxy would connect on our behalf, unchecked.
    """
    backend = GuardedBackend(policy, resolver or system_resolver)
    inner = httpx.AsyncHTTPTransport(trust_env=False, retries=0)
    inner._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=4,
        max_keepalive_connections=2,
        network_backend=backend,
    )
    return _SchemeGuard(inner, policy), backend


@dataclass(frozen=True)
class FetchedArticle:
    url: str
    final_url: str
    title: str | None
    text: str
    published_at: dt.datetime | None
    language: str | None
    redirects: list[str]


async def fetch_article(
    url: str,
    *,
    settings: Settings,
    resolver: Resolver | None = None,
) -> FetchedArticle:
    """Fetch ``url`` under the rules above and extract the article; one-line errors."""
    policy = AddressPolicy.from_entries(settings.serve_url_allowlist)
    _scheme, host, port = policy.check_url(url)
    resolve = resolver or system_resolver
    for address in await asyncio.to_thread(_resolve, resolve, host, port):
        policy.check_address(host, address)  # early, clear refusal; the connect checks again
    transport, _backend = guarded_transport(policy, resolve)
    fetcher = Fetcher(
        settings,
        default_rate=2.0,
        retries=0,  # someone is waiting for this answer: fail fast, never hammer
        concurrency=1,
        per_host_concurrency=1,
        transport=transport,
    )
    budget = settings.crawl_timeout_s * (settings.crawl_max_redirects + 3)
    try:
        async with fetcher:
            async with asyncio.timeout(budget):
                result = await fetcher.fetch(url.strip(), accept=HTML_TYPES)
    except TimeoutError:
        raise UrlFetchFailed(f"fetching {url} took longer than {budget:g}s") from None
    if not result.ok:
        kind = result.error or "error"
        message = f"could not fetch {result.final_url}: {kind}: {result.detail}"
        if kind in ("robots", "too_large", "content_type", "http_4xx", "redirect"):
            raise UrlRefused(message)
        raise UrlFetchFailed(message)
    if result.status != 200 or not result.content:
        raise UrlFetchFailed(f"could not fetch {result.final_url}: HTTP {result.status}, no page")
    article = await asyncio.to_thread(extract_article, result.content, result.final_url)
    return FetchedArticle(
        url=url,
        final_url=result.final_url,
        title=article.title,
        text=article.text,
        published_at=article.published_at,
        language=article.language,
        redirects=result.redirects,
    )
