"""The dashboard's files: shipped in the package, small, offline, every label in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from relwatch.api.routes.dashboard import STATIC_DIR, mount_static, router

LABEL_ATTRS = re.compile(r'data-i18n(?:-label|-title)?="([^"]+)"')


def _app() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    mount_static(app)
    return TestClient(app)


def _i18n_tables() -> dict[str, dict[str, str]]:
    """The en and ko label tables of i18n.js, read as JSON-ish key lists."""
    source = (STATIC_DIR / "js" / "i18n.js").read_text(encoding="utf-8")
    tables = {}
    for lang in ("en", "ko"):
        block = re.search(rf"\n  {lang}: \{{(.*?)\n  \}},", source, re.S)
        assert block, f"no {lang} table in i18n.js"
        keys = re.findall(r'^\s+"([\w.>\-]+)":', block.group(1), re.M)
        tables[lang] = dict.fromkeys(keys, "")
    return tables


def test_page_and_assets_are_served_from_the_package():
    client = _app()
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', page.text)
    assert "static/vendor/echarts/echarts.common.min.js" in assets
    for asset in assets:
        response = client.get(f"/{asset}")
        assert response.status_code == 200, asset
    script = client.get("/static/js/app.js")
    assert "javascript" in script.headers["content-type"]
    etag = script.headers["etag"]
    assert client.get("/static/js/app.js", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/static/nope.js").status_code == 404


def test_every_file_is_small_and_local():
    files = [p for p in STATIC_DIR.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.stat().st_size < 1_000_000, f"{path} is over 1 MB"
        if path.suffix in {".html", ".css", ".js"} and "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            # offline: no CDN, no remote font or script
            assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", text), path


def test_vendored_library_keeps_its_licences():
    vendor = STATIC_DIR / "vendor" / "echarts"
    for name in ("LICENSE", "NOTICE", "LICENSE-d3", "LICENSE-zrender", "LICENSE-tslib"):
        assert (vendor / name).is_file(), name
    assert "Apache License" in (vendor / "LICENSE").read_text(encoding="utf-8")
    head = (vendor / "echarts.common.min.js").read_text(encoding="utf-8")[:2000]
    assert "Apache Software Foundation" in head


def test_every_label_exists_in_english_and_korean():
    tables = _i18n_tables()
    assert set(tables["en"]) == set(tables["ko"])
    used = set(LABEL_ATTRS.findall((STATIC_DIR / "index.html").read_text(encoding="utf-8")))
    for path in (STATIC_DIR / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([\w.>\-]+)"', path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in tables["en"])
    assert missing == []
    # the words analysts look for
    source = (STATIC_DIR / "js" / "i18n.js").read_text(encoding="utf-8")
    for word in ("관계 지수", "갈등", "중립", "협력", "근거 문장", "경보", "한국", "북한", "미국"):
        assert word in source


def test_package_data_ships_the_dashboard():
    import tomllib

    pyproject = tomllib.loads(
        (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    )
    shipped = pyproject["tool"]["setuptools"]["package-data"]["relwatch"]
    for pattern in ("**/*.html", "**/*.css", "**/*.js", "**/LICENSE*", "**/NOTICE"):
        assert pattern in shipped
