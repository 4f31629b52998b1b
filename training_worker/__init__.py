"""Heavy and long work as dramatiq jobs: indexing, tagging, and the training and evaluation
kinds that follow.

- ``training_worker.jobs``: the framework: persisted job state (``JobStore``), the context
  handed to handlers, parameters (``JobParams``) and kinds (``JobKind``), ``run_job``.
- one folder per job kind (``indexing``, ``tagging``, ...): its parameters, checks and handler;
- ``training_worker.kinds``: every kind by name (one line per kind);
- ``training_worker.broker``: ``make_broker(settings)`` (Redis when ``redis_url`` is set,
  otherwise an in-process broker) and ``EmbeddedWorker`` (worker threads inside the server).

Importing this package imports neither dramatiq nor torch.
"""
