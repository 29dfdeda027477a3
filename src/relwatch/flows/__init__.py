"""Flows: the jobs relwatch runs, composed from the stages, and the Celery app behind them.

``retrain`` (train → log → export → register), batch prediction, the job ledger and
handlers, and the beat schedule. Faces (CLI, API, worker) call these; stages never do.
"""

__all__: list[str] = []
