"""The local engine: map a pure batch function over a stream of batches, on every core.

Batches are submitted to a process pool with a bounded number in flight (two per worker),
and results come back in submission order. Memory therefore stays flat whatever the corpus
size: at most `2 * workers` raw batches exist at once. Processes, not threads, because the
per-document Python work holds the GIL; see `_context` for
how workers start.

`run_shards` runs shard by shard (`shards.py`), each shard's batches mapped over the pool,
so that a killed run resumes from its finished shards; `ray_engine.RayEngine` has the same
method and runs the shards as Ray tasks.

Small inputs skip the pool: starting workers costs about a second, more than profiling a
few thousand documents takes.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import sys
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator


def _context():
    """`fork` on Linux: workers start in milliseconds and inherit the loaded tokenizer,
    and nothing is re-imported (spawn and forkserver re-run the parent's `__main__`, which
    is Streamlit's or pytest's). Children run only the pure batch code (orjson, tiktoken,
    plain Python) and never touch the parent's other threads (polars, the web server).
    Elsewhere, `spawn`."""
    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context("spawn")


@contextmanager
def using(engine: "LocalEngine | None") -> Iterator["LocalEngine"]:
    """The engine given, or a new one that is closed on leaving."""
    if engine is not None:
        yield engine
        return
    with LocalEngine() as own:
        yield own


def create(name: str = "local", workers: int | None = None, address: str | None = None, shard_mb: float | None = None):
    """The engine a command asked for: `local` (this machine's cores) or `ray`."""
    shard_bytes = int(shard_mb * (1 << 20)) if shard_mb else None
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(address, workers, shard_bytes)
    if address:
        from .sources import SourceError

        raise SourceError("--ray-address needs --engine ray")
    return LocalEngine(workers, shard_bytes)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LocalEngine:
    """Ordered, bounded-memory parallel map over batches."""

    distributed = False  # Ray's engine is: embeddings and duplicate groups then run on it

    def __init__(self, workers: int | None = None, shard_bytes: int | None = None):
        from .shards import SHARD_BYTES

        self.workers = workers or default_workers()
        self.shard_bytes = shard_bytes or SHARD_BYTES
        self._pool: ProcessPoolExecutor | None = None

    def run_shards(self, fn: Callable, shards: list, *args, inline: bool = False, on_batch=None) -> Iterator:
        """Yield (shard, `fn(shard, *args, mapper=..., on_batch=...)`) for each shard in order:
        one shard at a time, its batches spread over the pool by `mapper` (this `map`)."""
        def mapper(batch_fn, batches, *batch_args):
            return self.map(batch_fn, batches, *batch_args, inline_first=10**9 if inline else 0)

        for shard in shards:
            yield shard, fn(shard, *args, mapper=mapper, on_batch=on_batch)

    def map(self, fn: Callable, batches: Iterable, *args, inline_first: int = 0) -> Iterator:
        """Yield `fn(batch, *args)` for each batch, in order.

        The first `inline_first` batches run in this process: if the stream ends before
        then, no pool is started at all.
        """
        it = iter(batches)
        for _ in range(inline_first):
            try:
                batch = next(it)
            except StopIteration:
                return
            yield fn(batch, *args)
        if self.workers <= 1:
            for batch in it:
                yield fn(batch, *args)
            return
        pending: deque = deque()
        pool = self._get_pool()
        for batch in it:
            pending.append(pool.submit(fn, batch, *args))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Freeze the parent's objects while the workers fork, so that the children's
            # garbage collector never writes to (and so copies) the parent's pages.
            gc.freeze()
            try:
                with warnings.catch_warnings():  # Python >= 3.12 warns on fork with threads
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self._pool = ProcessPoolExecutor(self.workers, mp_context=_context())
                    self._pool.submit(int).result()  # start every worker now
            finally:
                gc.unfreeze()
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
