"""The public names of every sub-package, pinned: a change to them is a deliberate act.

Each sub-package declares ``__all__``; every listed name must exist, and the list must
match this one. Adding or removing a public name means updating this test, and so the
change shows in review.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "relwatch.core": [
        "ConfigError",
        "DataError",
        "InputError",
        "LABELS",
        "ModelError",
        "NotFoundError",
        "RelwatchError",
        "ServiceUnavailable",
        "Settings",
        "StateError",
        "get_settings",
        "require_schema",
        "session_scope",
    ],
    "relwatch.core.errors": [
        "ArticleExtractionError",
        "ConfigError",
        "DataError",
        "ExportError",
        "FeedError",
        "GoldError",
        "InputError",
        "JobNotFound",
        "ModelError",
        "ModelLoadError",
        "ModelRegistryError",
        "NerModelMissing",
        "NotFoundError",
        "PromotionRefused",
        "RelwatchError",
        "ReutersError",
        "ServiceUnavailable",
        "SettingsError",
        "SourceRegistryError",
        "StateError",
        "UnknownJobKind",
    ],
    "relwatch.collect": [
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
    ],
    "relwatch.extract": [
        "CountryPair",
        "ExtractFileStats",
        "ExtractStats",
        "Extractor",
        "Gazetteer",
        "Mention",
        "MentionFinder",
        "SentenceSpan",
        "SentenceUnit",
        "annotate_rows",
        "country_pairs",
        "extract_batch",
        "extract_file",
        "extract_pending",
        "find_mentions",
        "load_gazetteer",
        "split_sentences",
        "textrank",
    ],
    "relwatch.classify": [
        "Dataset",
        "Example",
        "ExportResult",
        "ModelMeta",
        "PredictStats",
        "RelationModel",
        "RunResult",
        "TrainingArguments",
        "export_onnx",
        "format_input",
        "load_any",
        "predict_file",
        "read_meta",
        "run_training",
        "write_meta",
    ],
    "relwatch.index": [
        "AlertRecord",
        "BuildReport",
        "DEFAULT_WEIGHTING",
        "EXPORT_COLUMNS",
        "EvidenceItem",
        "GRAINS",
        "Hyper",
        "IndexParams",
        "SERIES_COLUMNS",
        "build_index",
        "current_params",
        "evidence",
        "export_index",
        "latest_prediction_model",
        "list_alerts",
        "matrix",
        "parse_country",
        "parse_pair",
        "query_series",
        "resolve_model",
        "top_shifts",
    ],
    "relwatch.track": [
        "CHALLENGER",
        "CHAMPION",
        "GATE_METRIC",
        "PromotionResult",
        "RollbackResult",
        "VersionInfo",
        "alias_version",
        "configure_mlflow",
        "describe",
        "get_client",
        "list_models",
        "log_relation_model",
        "promote",
        "resolve_model",
        "rollback",
    ],
    "relwatch.serve": [
        "AddressPolicy",
        "BatchFailed",
        "LoadedModel",
        "MemoryCache",
        "MicroBatcher",
        "ModelPool",
        "RedisCache",
        "ReloadResult",
        "ServeMetrics",
        "ServeRuntime",
        "TextItem",
        "UrlFetchFailed",
        "UrlRefused",
        "cache_key",
        "default_model_spec",
        "explain",
        "fetch_article",
        "length_groups",
        "load_model",
        "make_cache",
        "parse_request_model",
        "predict_items_sync",
    ],
    "relwatch.flows": [
        "HANDLERS",
        "JOB_PARAMS",
        "JobParams",
        "get_job",
        "job_dict",
        "job_kinds",
        "list_jobs",
        "parse_params",
        "predict_jsonl",
        "retrain",
    ],
    "relwatch.api": ["create_app"],
    "relwatch.cli": ["app", "main"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_are_pinned_and_exist(module: str):
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == PUBLIC[module]
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert missing == []


def test_every_sub_package_declares_its_public_names():
    import pkgutil

    import relwatch

    packages = {
        f"relwatch.{info.name}"
        for info in pkgutil.iter_modules(relwatch.__path__)
        if info.ispkg and info.name != "migrations"
    }
    assert packages <= set(PUBLIC)
