"""The source registry: which outlets relwatch reads, declared as data (YAML).

A registry is a top-level ``sources:`` list. The package ships a default registry of
real media and government sources for every focus country; a user file can replace it
(``relwatch crawl --sources FILE``) or be merged over it by name (``--extend``). Every
entry is validated up front so a typo fails with a message naming the entry and field,
never halfway through a crawl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from relwatch.core.errors import InputError, SourceRegistryError
from relwatch.core.schedule import parse_schedule

SourceKind = Literal["rss", "atom", "sitemap", "listing"]
KINDS: tuple[str, ...] = ("rss", "atom", "sitemap", "listing")

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class Selectors(BaseModel):
    """Hints for listing pages: where the article links (and optionally titles/dates) are.

    Each value is XPath when it starts with ``/``, ``./`` or ``(``, otherwise a CSS
    selector (tag, ``.class``, ``#id``, ``[attr]``, ``[attr=value]``, descendant and
    ``>`` child combinators).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    links: str = Field(min_length=1, description="Selects <a> elements (or their href).")
    title: str | None = Field(None, description="Relative to the link: its title text.")
    date: str | None = Field(None, description="Relative to the link: its date text.")


class SourceSpec(BaseModel):
    """One outlet: where its feed lives, whose it is, and how politely to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    country: str = Field(description="ISO 3166-1 alpha-3 code of the outlet's country.")
    kind: SourceKind
    category: Literal["media", "government"] = Field(
        "media", description="Newsroom or official voice (ministry, presidency, agency)."
    )
    url: str
    language: str = Field("en", description="Main language, ISO 639 (e.g. en, ko, zh, ja).")
    rate_limit_per_sec: float = Field(
        1.0, gt=0, le=1000, description="Most requests per second to this source's hosts."
    )
    selectors: Selectors | None = None
    schedule: str | None = Field(
        None, description="How often to crawl: a duration (30m, 6h, 1d) or a 5-field cron."
    )
    enabled: bool = True
    notes: str | None = None

    @field_validator("country")
    @classmethod
    def _iso3(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or pycountry.countries.get(alpha_3=code) is None:
            raise ValueError(
                f"must be an ISO 3166-1 alpha-3 country code (e.g. KOR), got {value!r}"
            )
        return code

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value

    @field_validator("language")
    @classmethod
    def _lang(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError(
                f"must be an ISO 639 language code like 'en' or 'zh-Hans', got {value!r}"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_schedule(value)
        return value.strip()

    @model_validator(mode="after")
    def _listing_needs_selectors(self) -> SourceSpec:
        if self.kind == "listing" and self.selectors is None:
            raise ValueError("kind 'listing' needs selectors.links (CSS or XPath of article links)")
        return self


class Registry(BaseModel):
    """A validated list of sources with unique names."""

    model_config = ConfigDict(extra="forbid")

    sources: list[SourceSpec]

    @model_validator(mode="after")
    def _unique_names(self) -> Registry:
        seen: set[str] = set()
        for spec in self.sources:
            if spec.name in seen:
                raise ValueError(f"duplicate source name {spec.name!r}")
            seen.add(spec.name)
        return self

    def __iter__(self) -> Iterator[SourceSpec]:  # type: ignore[override]
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)

    def enabled(self) -> list[SourceSpec]:
        return [s for s in self.sources if s.enabled]

    def select(self, names: Iterable[str]) -> list[SourceSpec]:
        """The named sources (case-insensitive); unknown names are an error listing them."""
        wanted = list(names)
        by_name = {s.name.lower(): s for s in self.sources}
        missing = [n for n in wanted if n.lower() not in by_name]
        if missing:
            raise SourceRegistryError(
                f"unknown source(s): {', '.join(missing)} (see: relwatch sources list)"
            )
        return [by_name[n.lower()] for n in wanted]

    def countries(self) -> set[str]:
        return {s.country for s in self.sources}

    def choose(
        self,
        names: Iterable[str] | None = None,
        countries: Iterable[str] | None = None,
        *,
        enabled_only: bool = True,
    ) -> list[SourceSpec]:
        """The sources a crawl or a listing works on, with one set of checks for every face.

        Named sources are taken as asked (even when disabled); otherwise the enabled ones
        (or all, without ``enabled_only``). ``countries`` filters by ISO3 code; an unknown
        name or a country without sources is an :class:`InputError`, and so is an empty
        selection.
        """
        names = list(names or [])
        chosen = self.select(names) if names else (self.enabled() if enabled_only else list(self))
        wanted = {c.strip().upper() for c in countries or [] if c.strip()}
        if wanted:
            unknown = wanted - self.countries()
            if unknown:
                raise InputError(
                    f"no source for country {', '.join(sorted(unknown))} in the registry "
                    f"(have: {', '.join(sorted(self.countries()))})"
                )
            chosen = [s for s in chosen if s.country in wanted]
        if not chosen:
            raise InputError("no sources selected (all disabled?)")
        return chosen


def default_registry_path() -> Path:
    """The registry shipped inside the package."""
    return Path(str(resources.files("relwatch.collect") / "data" / "sources.yaml"))


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceRegistryError(f"{path}: no such sources file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceRegistryError(f"{path}: cannot read sources file ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceRegistryError(f"{path}: invalid YAML{where}: {problem}") from None


def _describe(exc: ValidationError, raw: Any, origin: str) -> str:
    """One line per problem: which entry (by index and name) and which field is wrong."""
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
            idx = loc[1]
            entry = raw["sources"][idx] if isinstance(raw, dict) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            label = f"sources[{idx}]" + (f" ({name!r})" if name else "")
            field = ".".join(str(p) for p in loc[2:] if not str(p).startswith("literal"))
            if err["type"] == "extra_forbidden":
                msg = "unknown field (allowed: " + ", ".join(SourceSpec.model_fields) + ")"
            lines.append(f"{label}: {field or 'entry'}: {msg}")
        else:
            field = ".".join(str(p) for p in loc) or "file"
            lines.append(f"{field}: {msg}")
    return f"{origin}: invalid sources file: " + "; ".join(lines)


def parse_registry(raw: Any, origin: str = "<sources>") -> Registry:
    """Validate already-parsed YAML; raise SourceRegistryError with a message naming the fields."""
    if not isinstance(raw, dict) or "sources" not in raw:
        raise SourceRegistryError(f"{origin}: expected a mapping with a top-level 'sources:' list")
    if not isinstance(raw["sources"], list):
        raise SourceRegistryError(f"{origin}: 'sources' must be a list of entries")
    try:
        return Registry.model_validate(raw)
    except ValidationError as exc:
        raise SourceRegistryError(_describe(exc, raw, origin)) from None


def _merge(base: Registry, over: Registry) -> Registry:
    merged = {s.name: s for s in base.sources}
    for spec in over.sources:
        merged[spec.name] = spec
    return Registry(sources=list(merged.values()))


def load_file(path: Path | str) -> Registry:
    path = Path(path)
    return parse_registry(_read_yaml(path), str(path))


def load_registry(
    path: Path | str | None = None,
    *,
    extend_default: bool = False,
    sources_file: Path | str | None = None,
) -> Registry:
    """The registry to crawl: built-in, a user file instead of it, or a file merged over it.

    The built-in registry is first merged with ``sources_file`` (the faces pass
    ``settings.sources_file``, ``RELWATCH_SOURCES_FILE``) when set. ``path`` then replaces
    that registry, or with ``extend_default`` is merged over it: entries replace those of
    the same name (so ``enabled: false`` switches a source off) and new names are appended.
    """
    base = load_file(default_registry_path())
    if sources_file is not None:
        base = _merge(base, load_file(sources_file))
    if path is None:
        return base
    user = load_file(path)
    return _merge(base, user) if extend_default else user
