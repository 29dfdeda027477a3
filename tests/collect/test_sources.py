from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from relwatch.collect.sources import SourceRegistryError, load_registry, parse_registry

FOCUS = ("KOR", "USA", "CHN", "JPN", "IND", "RUS")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_registry_covers_every_focus_country_with_media_and_government():
    registry = load_registry()
    assert len(registry) >= 24
    counts = Counter((s.country, s.category) for s in registry)
    for country in FOCUS:
        assert counts[(country, "media")] >= 2, country
        assert counts[(country, "government")] >= 1, country
    assert "PRK" in registry.countries()
    names = {s.name for s in registry}
    for expected in (
        "Yonhap News Agency",
        "TASS",
        "Global Times",
        "The Hindu international",
        "Kyodo News",
        "US State Department press releases",
        "Kremlin president news",
    ):
        assert expected in names
    for spec in registry:
        assert spec.url.startswith(("http://", "https://"))
        assert "127.0.0.1" not in spec.url and "example" not in spec.url
        if spec.kind == "listing":
            assert spec.selectors is not None


def test_select_is_case_insensitive_and_names_unknown_sources():
    registry = load_registry()
    assert [s.name for s in registry.select(["tass"])] == ["TASS"]
    with pytest.raises(SourceRegistryError, match=r"unknown source.*Nope"):
        registry.select(["Nope"])


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{name: Bad, country: XX, kind: rss, url: 'https://a.b/f'}",
            r"sources\[0\] \('Bad'\): country: .*ISO 3166-1 alpha-3.*'XX'",
        ),
        (
            "{name: Bad, country: KOR, kind: podcast, url: 'https://a.b/f'}",
            r"sources\[0\] \('Bad'\): kind: .*'rss'",
        ),
        ("{name: Bad, country: KOR, kind: rss}", r"sources\[0\] \('Bad'\): url: Field required"),
        (
            "{name: Bad, country: KOR, kind: rss, url: 'ftp://a.b/f'}",
            r"url: must be an absolute http\(s\) URL",
        ),
        (
            "{name: Bad, country: KOR, kind: rss, url: 'https://a.b', rate_limit_per_sec: 0}",
            r"rate_limit_per_sec: Input should be greater than 0",
        ),
        ("{name: Bad, country: KOR, kind: listing, url: 'https://a.b'}", r"needs selectors.links"),
        (
            "{name: Bad, country: KOR, kind: rss, url: 'https://a.b', schedule: 'often'}",
            r"schedule: must be a duration",
        ),
        (
            "{name: Bad, country: KOR, kind: rss, url: 'https://a.b', language: English}",
            r"language: must be an ISO 639",
        ),
        (
            "{name: Bad, country: KOR, kind: rss, url: 'https://a.b', feed: x}",
            r"sources\[0\] \('Bad'\): feed: unknown field \(allowed: name, country",
        ),
    ],
)
def test_bad_entries_get_messages_naming_entry_and_field(tmp_path: Path, entry: str, expected: str):
    path = write(tmp_path, f"sources:\n  - {entry}\n")
    with pytest.raises(SourceRegistryError, match=expected) as info:
        load_registry(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_second_entry_is_named_by_index(tmp_path: Path):
    path = write(
        tmp_path,
        """
sources:
  - {name: Good, country: kor, kind: rss, url: 'https://a.b/rss'}
  - {name: Other, country: KOR, kind: rss, url: 'nope'}
""",
    )
    with pytest.raises(SourceRegistryError, match=r"sources\[1\] \('Other'\): url"):
        load_registry(path)


def test_duplicate_names_invalid_yaml_and_wrong_shape(tmp_path: Path):
    dup = write(
        tmp_path,
        """
sources:
  - {name: A, country: KOR, kind: rss, url: 'https://a.b/1'}
  - {name: A, country: KOR, kind: rss, url: 'https://a.b/2'}
""",
    )
    with pytest.raises(SourceRegistryError, match="duplicate source name 'A'"):
        load_registry(dup)
    broken = write(tmp_path, "sources:\n  - name: [unclosed\n")
    with pytest.raises(SourceRegistryError, match=r"invalid YAML at line \d+"):
        load_registry(broken)
    with pytest.raises(SourceRegistryError, match="top-level 'sources:' list"):
        parse_registry(["a"])
    with pytest.raises(SourceRegistryError, match="'sources' must be a list"):
        parse_registry({"sources": "x"})
    with pytest.raises(SourceRegistryError, match="no such sources file"):
        load_registry(tmp_path / "missing.yaml")


def test_user_file_replaces_or_extends_the_default(tmp_path: Path):
    path = write(
        tmp_path,
        """
sources:
  - {name: TASS, country: RUS, kind: rss, url: 'https://tass.com/rss/v2.xml', enabled: false}
  - {name: Local paper, country: kor, kind: atom, url: 'https://paper.example/atom',
     language: ko, schedule: '*/30 * * * *'}
""",
    )
    only = load_registry(path)
    assert [s.name for s in only] == ["TASS", "Local paper"]
    assert only.sources[1].country == "KOR" and only.sources[1].schedule == "*/30 * * * *"
    merged = load_registry(path, extend_default=True)
    assert len(merged) == len(load_registry()) + 1
    tass = merged.select(["TASS"])[0]
    assert tass.enabled is False and tass not in merged.enabled()


def test_sources_file_setting_is_merged_over_the_builtin_registry(tmp_path: Path, monkeypatch):
    from relwatch.core.config import get_settings

    path = write(
        tmp_path,
        """
sources:
  - {name: Yonhap News Agency, country: KOR, kind: rss, url: 'https://en.yna.co.kr/RSS/news.xml',
     enabled: false}
  - {name: Arirang, country: KOR, kind: rss, url: 'https://www.arirang.com/rss'}
""",
    )
    monkeypatch.setenv("RELWATCH_SOURCES_FILE", str(path))
    get_settings.cache_clear()
    registry = load_registry(sources_file=get_settings().sources_file)
    assert "Arirang" in {s.name for s in registry}
    assert "Yonhap News Agency" not in {s.name for s in registry.enabled()}
    monkeypatch.setenv("RELWATCH_SOURCES_FILE", str(tmp_path / "gone.yaml"))
    get_settings.cache_clear()
    with pytest.raises(SourceRegistryError, match="no such sources file"):
        load_registry(sources_file=get_settings().sources_file)
