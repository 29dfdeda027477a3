"""Collect: real news and government sources → deduplicated, dated articles.

Public API (everything else is internal):

- :func:`load_registry` / :class:`SourceSpec` — the declarative source registry (YAML).
- :func:`crawl` → :class:`CrawlReport` — one polite, incremental, resumable crawl.
- :func:`import_reuters` → :class:`ImportReport` — the Reuters-21578 corpus as articles.
- :class:`Fetcher` — the polite HTTP client, for callers that need a single fetch.
"""

from relwatch.collect.crawler import CrawlEvent, CrawlReport, SourceStats, crawl, crawl_async
from relwatch.collect.http import Fetcher, FetchResult
from relwatch.collect.reuters import ImportReport, ReutersError, import_reuters
from relwatch.collect.sources import Registry, SourceRegistryError, SourceSpec, load_registry

__all__ = [
    "CrawlEvent",
    "CrawlReport",
    "FetchResult",
    "Fetcher",
    "ImportReport",
    "Registry",
    "ReutersError",
    "SourceRegistryError",
    "SourceSpec",
    "SourceStats",
    "crawl",
    "crawl_async",
    "import_reuters",
    "load_registry",
]
