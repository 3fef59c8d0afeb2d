"""Embeddings on Ray: an actor pool, one model per actor, on GPUs when the cluster has them.

`encoder(engine, model, workspace, max_tokens)` gives the function `embed.source_embeddings`
calls to turn chunks of texts into vectors. Each actor loads the model once (from the
shared workspace for the distilled `fast` model, from the installed package for MiniLM)
and then encodes chunk after chunk; with GPUs in the cluster each actor holds one, else a
CPU. The driver keeps at most `IN_FLIGHT` chunks per actor in flight and yields the vectors
in the order the chunks were given, so memory stays bounded whatever the corpus size.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Iterator

import numpy as np

from .ray_engine import ray_module

IN_FLIGHT = 2  # chunks per actor


class _Model:
    def __init__(self, model: str, workspace: str, max_tokens: int | None):
        from .embed import load_model
        from .workspace import Workspace

        self.embedder = load_model(model, Workspace(workspace))
        self.tokens = self.embedder.tokens(max_tokens)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts, self.tokens).astype(np.float16)

    def device(self) -> str:
        from .embed import _device

        return _device()


def encoder(engine, model: str, workspace, max_tokens: int | None) -> Callable[[Iterable], Iterator]:
    """`encode(chunks)`: (meta, texts) in, (meta, float16 vectors) out, in order."""
    ray = ray_module()
    size = max(1, engine.gpus or min(engine.workers, 4))
    options = {"num_gpus": 1} if engine.gpus else {"num_cpus": 1}
    actor = ray.remote(**options)(_Model)
    actors = [actor.remote(model, str(workspace.root), max_tokens) for _ in range(size)]

    def encode(chunks: Iterable) -> Iterator:
        pending: deque = deque()
        try:
            for k, (meta, texts) in enumerate(chunks):
                pending.append((meta, actors[k % size].encode.remote(list(texts))))
                if len(pending) >= IN_FLIGHT * size:
                    meta, ref = pending.popleft()
                    yield meta, ray.get(ref)
            while pending:
                meta, ref = pending.popleft()
                yield meta, ray.get(ref)
        finally:
            for a in actors:
                ray.kill(a)

    return encode
