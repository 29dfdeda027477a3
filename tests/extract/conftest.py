"""Shared fixtures for the text pipeline tests: one finder per session (spaCy loads once)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def finder():
    from relwatch.extract.mentions import MentionFinder

    return MentionFinder()


@pytest.fixture(scope="session")
def extractor(finder):
    from relwatch.extract.pipeline import Extractor

    return Extractor(finder)
