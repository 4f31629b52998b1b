"""Heavy and long work as dramatiq jobs: indexing, augmentation, training, evaluation.

- ``training_worker.jobs``: persisted job state (``JobStore``), the job context handed to
  handlers, the handler registry (kinds -> functions, as data), and ``run_job``.
- ``training_worker.broker``: ``make_broker(settings)`` (Redis when ``redis_url`` is set,
  otherwise an in-process broker) and ``EmbeddedWorker`` (worker threads inside the server).
- ``training_worker.indexing``: the ``index`` job (embed the catalog's images into the index).

Importing this package imports neither dramatiq nor torch.
"""
