"""The Ray engine: the local engine's shard functions, run as Ray Data tasks.

`RayEngine(address)` joins a Ray cluster (`ray.init(address=...)`), or starts Ray on this
machine when no address is given. `run_shards(fn, shards, *args)` makes a Dataset with one
row per shard (one block each) and runs `fn(shard, *args)` over it with `map_batches`, a
task per shard. Inside, `fn` reads the shard's raw batches and calls the same per-batch
function as the local engine (`profile_batch`, `sketch_batch`), unchanged, and writes its
part into the workspace (`shards.Parts`); only the part's small JSON summary travels back,
in the order the shards finish. The driver then combines the parts in shard order, exactly
as after a local run, so the outputs are the same.

Workers therefore read the sources and write the workspace at the same paths as the driver:
on a cluster, both live on a file system every node mounts (NFS, Lustre, a mounted bucket),
and mixlens is installed on every node (`pip install "mixlens[ray]"`).

Ray is imported lazily: without the `ray` extra, everything else works, and asking for this
engine says how to install it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from typing import Callable, Iterator

import numpy as np

from .readers import one_line
from .shards import SHARD_BYTES
from .sources import SourceError

INSTALL = 'the Ray engine needs Ray: pip install "mixlens[ray]"'


def ray_module():
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data ships in the "data" extra of ray
    except ImportError:
        raise SourceError(INSTALL) from None
    return ray


class RayEngine:
    """Shards as Ray Data tasks, on a cluster or a local Ray."""

    distributed = True

    def __init__(self, address: str | None = None, num_cpus: int | None = None, shard_bytes: int | None = None):
        ray = ray_module()
        self.shard_bytes = shard_bytes or SHARD_BYTES
        self._own = not ray.is_initialized()
        if self._own:
            joining = address or os.environ.get("RAY_ADDRESS")
            _check_reachable(joining)
            try:  # a cluster has its own CPUs: `--workers` sizes only a Ray started here
                ray.init(address=address, num_cpus=None if joining else num_cpus, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise SourceError(f"cannot start or join Ray{f' at {joining}' if joining else ''}: {one_line(exc)}") from None
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # per-dataset INFO lines; the caller shows progress
        ray.data.DataContext.get_current().enable_progress_bars = False
        resources = ray.cluster_resources()
        self.workers = max(1, int(resources.get("CPU", 1)))
        self.gpus = int(resources.get("GPU", 0))

    def run_shards(self, fn: Callable, shards: list, *args, inline: bool = False, on_batch=None) -> Iterator:
        """Yield (shard, summary) as each shard's task finishes (`inline`, `on_batch`: ignored)."""
        ray = ray_module()
        if not shards:
            return
        ds = ray.data.from_items([{"shard": i} for i in range(len(shards))], override_num_blocks=len(shards))
        ds = ds.map_batches(_shard_task, fn_kwargs={"fn": fn, "shards": shards, "args": args}, batch_size=1,
                            batch_format="numpy")
        for row in _errors_unwrapped(ds.iter_rows()):
            yield shards[int(row["shard"])], json.loads(row["summary"])

    def close(self) -> None:
        if self._own:
            ray_module().shutdown()
            self._own = False

    def __enter__(self) -> "RayEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _shard_task(batch: dict, fn: Callable, shards: list, args: tuple) -> dict:
    """The shards of one Ray batch (one, with batch size 1): `fn(shard, *args)`, as JSON."""
    out = [json.dumps(fn(shards[i], *args), default=str) for i in batch["shard"].tolist()]
    return {"shard": batch["shard"], "summary": np.array(out, dtype=object)}


def _check_reachable(address: str | None) -> None:
    """Fail in seconds, not minutes of Ray's retries, when nothing listens at HOST:PORT."""
    if not address or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # a form Ray itself resolves
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise SourceError(f"cannot join Ray at {address}: {exc.strerror or exc}") from None


def _errors_unwrapped(rows) -> Iterator:
    """Re-raise a task's SourceError as itself (Ray wraps a task's exception twice)."""
    try:
        yield from rows
    except Exception as exc:  # noqa: BLE001 - inspected, then re-raised
        cause = exc
        while cause is not None:
            if isinstance(cause, SourceError):
                raise SourceError(str(cause)) from None
            cause = cause.__cause__ or getattr(cause, "cause", None)
        raise
