"""The worker's theming job: every pending open answer is themed within a tick of arriving.

Open text reaches ``open_text`` already redacted (``register_open_text``) from every channel —
SMS answers, phone-call notes, panel reflections — in status ``pending``. Each tick this job:

0. carries out a manager's retraining request (``feedback.themes.retraining``), if one is open:
   trains in the pool, re-queues every stored answer, and once the queue is empty re-applies the
   manager's rules and marks the request done (or failed, with a Swedish reason). This is the
   only place retraining happens; the themes page only records the request;
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
After a full batch ``more`` is set, and the worker runs the job again on its next pass instead
of waiting a whole interval, so a re-theming of a large year moves at the speed of the work.
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
from feedback.themes import pool, retraining
from feedback.themes.decisions import current_codebook, manager_labels, reapply_rules
from feedback.themes.models import RetrainRequest, RetrainStatus
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
        self.more = False  # the last tick filled a whole batch: more answers are waiting now

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
        """The model fitting the stored codebook and labels, trained in the pool if needed.

        A retrain caused by a changed codebook or new labels (not the first start) re-queues
        the themed answers so they get the new model's suggestions.
        """
        codebook = await current_codebook(session)
        labels = await manager_labels(session)
        fits = (codebook.version, labels_digest(labels))
        if force or fits != self._fits or self.model_info is None:
            first = self._fits is None
            info = await self._call(pool.ensure_model, codebook.to_dict(), labels, force)
            if info["trained"]:
                self._log_trained(info, labels)
                if not first or force:
                    await self._requeue(session, only_themed=True)
                    await session.commit()
            self.model_info, self._fits = info, fits
        return self.model_info

    @staticmethod
    def _log_trained(info: dict[str, Any], labels: list[Any]) -> None:
        log.info(
            "theme model %s trained (codebook %s, %d manager labels)",
            info["model_version"],
            info["codebook_version"],
            len(labels),
        )

    async def _requeue(self, session: Any, *, only_themed: bool) -> int:
        """Put answers back in the pending queue (fresh attempts); returns how many."""
        stmt = sa.update(OpenText).values(status=ThemingStatus.PENDING, attempts=0)
        if only_themed:
            stmt = stmt.where(OpenText.status == ThemingStatus.THEMED)
        result = await session.execute(stmt)
        return int(result.rowcount or 0)

    async def _train_for_request(self, session: Any, request: RetrainRequest) -> dict[str, Any] | None:
        """Carry out the training step of a manager's request; None if the request failed.

        The "training" state is committed before the pool starts, so a worker killed while
        training finds the request still open and trains again (``retraining.MAX_ATTEMPTS``).
        The re-queue of every answer and the switch to "theming" commit together: a crash
        after that resumes with the saved model and the answers still pending.
        """
        now = self._now()
        if not retraining.start_training(request, now=now):
            await session.commit()
            log.error("retrain request %s given up after %d attempts", request.id, request.attempts)
            return None
        await session.commit()
        codebook = await current_codebook(session)
        labels = await manager_labels(session)
        try:
            info = await self._call(pool.ensure_model, codebook.to_dict(), labels, True)
        except BrokenProcessPool:
            raise  # the pool died (killed, out of memory): the request stays open and is retried
        except Exception:
            log.exception("retrain request %s: training failed", request.id)
            retraining.fail(request, retraining.FAILED_TRAINING_SV, now=self._now())
            await session.commit()
            return None
        self._log_trained(info, labels)
        total = await self._requeue(session, only_themed=False)
        retraining.start_theming(request, model_version=info["model_version"], total=total)
        await session.commit()
        self.model_info, self._fits = info, (codebook.version, labels_digest(labels))
        return info

    async def _advance_request(self, session: Any, request: RetrainRequest) -> None:
        """Record how far the re-theming is; when nothing waits, re-apply the rules and finish.

        Manager labels already win per answer while theming (``store_assignments``); the final
        ``reapply_rules`` makes merges, splits and retirements hold for every stored theme.
        """
        pending = await session.scalar(
            sa.select(sa.func.count()).select_from(OpenText).where(OpenText.status == ThemingStatus.PENDING)
        )
        if pending:
            retraining.record_progress(request, pending=int(pending))
        else:
            await reapply_rules(session, await current_codebook(session))
            retraining.finish(request, now=self._now())
            log.info("retrain request %s done: %d answers re-themed", request.id, request.total)
        await session.commit()

    async def tick(self) -> int:
        """One bounded batch; returns the number of answers themed.

        An open retraining request goes first: a pending one (or one a killed worker left in
        "training") is trained here, in this job's pool, and its answers then flow through the
        same pending queue as new answers, one batch per tick.
        """
        self.more = False  # a tick that raises must not make the worker retry it in a tight loop
        async with self.sessionmaker() as session:
            request = await retraining.open_request(session)
            info: dict[str, Any] | None
            if request is not None and request.status != RetrainStatus.THEMING:
                info = await self._train_for_request(session, request)
                if info is None:
                    request = None
                    info = await self.ensure_model(session)
            else:
                info = await self.ensure_model(session)
            rows = list(
                await session.scalars(
                    sa.select(OpenText)
                    .where(OpenText.status == ThemingStatus.PENDING)
                    .order_by(OpenText.received_at, OpenText.id)
                    .limit(self.batch)
                )
            )
            n = 0
            if rows:
                results = await self._call(
                    pool.assign_batch, [r.text_redacted for r in rows], info["model_version"]
                )
                n = await store_assignments(session, rows, results, now=self._now())
                await session.commit()
                if n:
                    log.info("themed %d open answers with model %s", n, info["model_version"])
            if request is not None and request.status == RetrainStatus.THEMING:
                await self._advance_request(session, request)
            self.more = len(rows) >= self.batch
            return n

    def close(self) -> None:
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
