"""The one error tree of relwatch.

Every error a user can act on is a :class:`RelwatchError`; its message is one line that
says what is wrong and what to do. Library code raises these and never a CLI or HTTP
error: the faces translate them in one place each (the CLI: one line, exit code 2; the
API: a 4xx with the message). Anything else that escapes is a bug.
"""

from __future__ import annotations

__all__ = [
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
]


class RelwatchError(Exception):
    """Base of every user-facing error; ``str(exc)`` is the one line shown to the user."""

    #: HTTP status a face answers with; the CLI always exits 2.
    http_status: int = 400


class ConfigError(RelwatchError):
    """A setting that cannot work (bad URL, missing data directory)."""

    http_status = 500


class InputError(RelwatchError):
    """Bad input from the user: a path, a parameter, a file that cannot be read."""

    http_status = 422


class DataError(InputError):
    """A data file or corpus whose content is malformed (bad rows, wrong encoding)."""


class NotFoundError(RelwatchError):
    """Something asked for by name or id does not exist (job, model version, source)."""

    http_status = 404


class StateError(RelwatchError):
    """The system is not in a state to do this yet (database not migrated, no champion)."""

    http_status = 409


class ModelError(RelwatchError):
    """A model that cannot be loaded, exported or registered as asked."""

    http_status = 422


class ServiceUnavailable(RelwatchError):
    """A backing service (database, broker, Redis, MLflow server) cannot be reached."""

    http_status = 503


class SettingsError(ConfigError):
    """Settings that do not validate; the message names the ``RELWATCH_*`` variable."""


class SourceRegistryError(ConfigError):
    """A source registry file (YAML) that is malformed; names the file, entry and field."""


class NerModelMissing(ConfigError):
    """The spaCy model package is not installed; the message says which one to install."""


class FeedError(DataError):
    """A feed, sitemap or listing page that cannot be parsed, or a bad selector."""


class ArticleExtractionError(DataError):
    """An HTML page from which no article text can be extracted."""


class ReutersError(DataError):
    """A Reuters-21578 file that is missing, truncated or not SGML."""


class GoldError(DataError):
    """A gold file for the extraction benchmark that is malformed."""


class ModelLoadError(ModelError):
    """A model folder that is not a loadable relwatch serving package or model dir."""


class ExportError(ModelError):
    """A trained model that cannot be exported to ONNX as asked."""


class ModelRegistryError(ModelError):
    """A registry request that cannot be done as asked (unknown version, no champion)."""


class PromotionRefused(ModelRegistryError):
    """The gate said no: the candidate trails the champion by more than the margin.

    ``result`` is the registry's ``PromotionResult`` with both figures. A decision, not
    bad input: the API answers 409 (the CLI exits 1).
    """

    http_status = 409

    def __init__(self, message: str, result: object) -> None:
        self.result = result
        super().__init__(message)


class UnknownJobKind(InputError):
    """Asked for a job kind no handler is registered for."""


class JobNotFound(NotFoundError):
    """No job with this id (or id prefix)."""
