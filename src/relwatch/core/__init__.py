"""Cross-cutting pieces every stage uses: settings, database, errors, logging, JSON lines.

Public API (everything else is internal)::

    from relwatch.core import Settings, get_settings, session_scope, RelwatchError
"""

from relwatch.core.config import Settings, get_settings
from relwatch.core.db import require_schema, session_scope
from relwatch.core.errors import (
    ConfigError,
    DataError,
    InputError,
    ModelError,
    NotFoundError,
    RelwatchError,
    ServiceUnavailable,
    StateError,
)
from relwatch.core.models import LABELS

__all__ = [
    "LABELS",
    "ConfigError",
    "DataError",
    "InputError",
    "ModelError",
    "NotFoundError",
    "RelwatchError",
    "ServiceUnavailable",
    "Settings",
    "StateError",
    "get_settings",
    "require_schema",
    "session_scope",
]
