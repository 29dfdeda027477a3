"""``celery -A relwatch.worker worker``: the Celery app lives in :mod:`relwatch.flows.worker`."""

from relwatch.flows.worker import app, celery_app

__all__ = ["app", "celery_app"]
