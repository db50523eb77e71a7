"""The worker's theming job: every pending open answer is themed within a tick of arriving.

Open text reaches ``open_text`` already redacted (``register_open_text``) from every channel —
SMS answers, phone-call notes, panel reflections — in status ``pending``. Each tick this job:

1. reads the current codebook (shipped seeds + the managers' stored decisions) and the manager
   labels, and makes sure the model fits both (``pool.ensure_model``): on first start, or after
   a codebook event or a relabel, the pool process trains from the shipped data plus the
   manager labels and persists the model under ``settings.model_dir`` (manifest JSON + numpy
   arrays, no pickles). A retrain after the first one re-queues the stored answers so they get
   the new model's suggestions;
2. themes up to ``batch`` pending rows in the pool process (``pool.assign_batch``) and stores
   scores, evidence terms, per-mention and per-answer sentiment, model and codebook versions
   (``theming.store_assignments``: manager labels win; a failing text is retried up to
   ``MAX_ATTEMPTS`` times and never blocks the rest).

CPU work never runs on the event loop: it runs in a one-process pool started with ``spawn``,
which loads the model once and keeps it. If the pool process dies it is restarted next tick.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from feedback.core.settings import Settings
from feedback.themes import pool
from feedback.themes.decisions import current_codebook, manager_labels
from feedback.themes.theming import store_assignments
from nlp.dataset import labels_digest
from surveys.answers.models import OpenText, ThemingStatus

log = logging.getLogger(__name__)

INTERVAL_S = 10.0
BATCH = 2000


def make_pool(settings: Settings) -> ProcessPoolExecutor:
    """One spawn-started process that loads the current model once (``pool.init``)."""
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=pool.init,
        initargs=(str(settings.model_dir),),
    )


class ThemingJob:
    """Theme pending open text; ``tick`` is the worker job, ``close`` stops the pool."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: Any,
        *,
        executor: Executor | None = None,
        now: Callable[[], datetime] | None = None,
        batch: int = BATCH,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self._executor = executor
        self._own_executor = executor is None
        self._now = now or (lambda: datetime.now(UTC))
        self.batch = batch
        self.model_info: dict[str, Any] | None = None
        self._fits: tuple[str, str] | None = None  # (codebook version, labels digest) of the model

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_pool(self.settings)
        return self._executor

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, fn, *args)
        except BrokenProcessPool:
            if self._own_executor:  # the process died (OOM, killed): start afresh next tick
                self._executor = None
                self._fits = None
            raise

    async def ensure_model(self, session: Any, *, force: bool = False) -> dict[str, Any]:
        """The model fitting the stored codebook and labels, trained in the pool if needed."""
        codebook = await current_codebook(session)
        labels = await manager_labels(session)
        fits = (codebook.version, labels_digest(labels))
        if force or fits != self._fits or self.model_info is None:
            first = self._fits is None
            info = await self._call(pool.ensure_model, codebook.to_dict(), labels, force)
            if info["trained"]:
                log.info(
                    "theme model %s trained (codebook %s, %d manager labels)",
                    info["model_version"],
                    info["codebook_version"],
                    len(labels),
                )
                if not first or force:
                    await self._requeue(session)
            self.model_info, self._fits = info, fits
        return self.model_info

    async def _requeue(self, session: Any) -> None:
        await session.execute(
            sa.update(OpenText)
            .where(OpenText.status == ThemingStatus.THEMED)
            .values(status=ThemingStatus.PENDING, attempts=0)
        )
        await session.commit()

    async def tick(self) -> int:
        """One bounded batch; returns the number of answers themed."""
        async with self.sessionmaker() as session:
            info = await self.ensure_model(session)
            rows = list(
                await session.scalars(
                    sa.select(OpenText)
                    .where(OpenText.status == ThemingStatus.PENDING)
                    .order_by(OpenText.received_at, OpenText.id)
                    .limit(self.batch)
                )
            )
            if not rows:
                return 0
            results = await self._call(
                pool.assign_batch, [r.text_redacted for r in rows], info["model_version"]
            )
            n = await store_assignments(session, rows, results, now=self._now())
            await session.commit()
            if n:
                log.info("themed %d open answers with model %s", n, info["model_version"])
            return n

    def close(self) -> None:
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
