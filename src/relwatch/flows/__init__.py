"""Flows: the jobs relwatch runs, composed from the stages, and the Celery app behind them.

``retrain`` (train → log → export → register), batch prediction, the job ledger, the
job parameters and handlers, and the beat schedule. Faces (CLI, API, worker) call these;
stages never do. The Celery app itself is :mod:`relwatch.flows.worker` (imported on demand,
since building it reads the global settings).
"""

from relwatch.flows.jobs import HANDLERS, job_kinds
from relwatch.flows.ledger import get_job, job_dict, list_jobs
from relwatch.flows.params import JOB_PARAMS, JobParams, parse_params
from relwatch.flows.predict import predict_jsonl
from relwatch.flows.retrain import retrain

__all__ = [
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
]
