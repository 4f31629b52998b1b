"""Jobs: persisted state, the context handlers get, parameters and kinds, the handler
registry, and ``run_job``.

Nothing here imports dramatiq: the broker side is ``training_worker.broker``.
"""

from .context import JobCancelled, JobContext, JobInterrupted, JobLost, JobStopped, ProgressObserver
from .queue import JobQueue
from .registry import Handler, HandlerRegistry, UnknownJobKind
from .runner import run_job
from .store import (
    CANCELLED,
    FAILED,
    FINISHED,
    INTERRUPTED,
    PENDING,
    QUEUED,
    RUNNING,
    STATES,
    SUCCEEDED,
    JobError,
    JobNotFound,
    JobRecord,
    JobStore,
)

__all__ = [
    "CANCELLED", "FAILED", "FINISHED", "INTERRUPTED", "PENDING", "QUEUED", "RUNNING", "STATES", "SUCCEEDED",
    "Handler", "HandlerRegistry", "JobCancelled", "JobContext", "JobError", "JobInterrupted",
    "JobLost", "JobNotFound", "JobQueue", "JobRecord", "JobStopped", "JobStore", "ProgressObserver",
    "UnknownJobKind", "run_job",
]
