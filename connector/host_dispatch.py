"""Host-aware dispatch of fetch tasks to a bounded thread pool.

With a per-host rate limit, a plain pool wastes its threads: a thread that picks a task for
a host whose next slot is a second away sleeps, although tasks for other hosts could run
now; when the work is listed host by host, every thread ends up waiting on the same host and
the harvest crawls at one host's rate. Here the tasks are queued per host, and a task is
handed to a thread only when its host has a free connection (``per_host``) and its next
start time has come (``ready_in``), taking hosts in turn. So hosts run in parallel, each at
its own polite rate, with few threads: a thread is busy only while a request is under way.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Generic, Hashable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

IDLE_WAIT_S = 0.5  # longest sleep before looking at the hosts again when nothing runs


class HostDispatcher(Generic[T, R]):
    """Run ``work(item)`` for every item on ``workers`` threads; ``host_of(item)`` groups them.

    ``ready_in(host)``: seconds until the host may be asked again (0 when it may now; the
    rate limiter's view). ``per_host``: tasks of one host running at once. ``queue_ahead``:
    tasks handed to the pool beyond ``workers`` (only useful without limits, to keep
    threads busy)."""

    def __init__(self, workers: int, *, host_of: Callable[[T], Hashable],
                 ready_in: Callable[[Hashable], float] = lambda host: 0.0,
                 per_host: int | None = None, queue_ahead: int = 0, thread_name: str = "fetch") -> None:
        self.workers = max(1, workers)
        self.host_of = host_of
        self.ready_in = ready_in
        self.per_host = per_host
        self.capacity = self.workers + max(0, queue_ahead)
        self.thread_name = thread_name

    def run(self, items: Iterable[T], work: Callable[[T], R]) -> Iterator[R]:
        """Yield ``work(item)`` results as they complete (not in item order)."""
        queues: dict[Hashable, deque[T]] = {}
        for item in items:
            queues.setdefault(self.host_of(item), deque()).append(item)
        running: dict[Future, Hashable] = {}
        busy: dict[Hashable, int] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.thread_name) as pool:
            while queues or running:
                soonest = self._dispatch(queues, running, busy, pool, work)
                if not running:
                    time.sleep(min(soonest, IDLE_WAIT_S))
                    continue
                done, _ = wait(running, timeout=min(soonest, IDLE_WAIT_S) if queues else None,
                               return_when=FIRST_COMPLETED)
                for fut in done:
                    host = running.pop(fut)
                    busy[host] -= 1
                    yield fut.result()

    def _dispatch(self, queues: dict, running: dict, busy: dict, pool: ThreadPoolExecutor,
                  work: Callable[[T], R]) -> float:
        """Hand out what may run now, hosts in turn; return the seconds until the next host
        that had to wait becomes ready."""
        soonest = IDLE_WAIT_S
        progressed = True
        while progressed and queues and len(running) < self.capacity:
            progressed = False
            for host in list(queues):
                if len(running) >= self.capacity:
                    break
                if self.per_host is not None and busy.get(host, 0) >= self.per_host:
                    continue
                delay = self.ready_in(host)
                if delay > 0:
                    soonest = min(soonest, delay)
                    continue
                queue = queues[host]
                running[pool.submit(work, queue.popleft())] = host
                busy[host] = busy.get(host, 0) + 1
                progressed = True
                if not queue:
                    del queues[host]
                else:  # to the back of the line: hosts take turns
                    queues[host] = queues.pop(host)
        return soonest
