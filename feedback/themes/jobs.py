"""The worker's theming job: every pending open answer is themed within a tick of arriving.

Open text reaches ``open_text`` already redacted (``register_open_text``) from every channel —
SMS answers, phone-call notes, panel reflections — in status ``pending``. Each tick this job:

0. carries out a manager's retraining request (``feedback.themes.retraining``), if one is open:
   a new one is trained in the pool as a candidate and compared with the stored themes
   (``feedback.themes.preview``) — nothing changes yet; once a manager confirms the preview, the
   candidate becomes current, every stored answer is re-queued, and once the queue is empty the
   manager's rules are re-applied, the request is done and the model change is recorded for
   the report. This is the only place retraining happens; the themes page only records requests;
1. makes sure there is a current model (``pool.load_or_train``): only on first start does the
   pool process train one from the shipped data plus the manager labels and persist it under
   ``settings.model_dir`` (manifest JSON + numpy arrays, no pickles). A manager's edit never
   retrains and never re-themes answers it does not name;
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
from feedback.themes import pool, preview, retraining
from feedback.themes.decisions import current_codebook, manager_labels, reapply_rules
from feedback.themes.models import RetrainRequest, RetrainStatus
from feedback.themes.theming import store_assignments
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
                self.model_info = None
            raise

    async def ensure_model(self, session: Any) -> dict[str, Any]:
        """The current model; trained in the pool only when there is none yet (first start).

        A manager's edit or label never retrains and never re-queues stored answers: it changes
        only the answers it names. New answers are themed with the current model and resolved
        through today's codebook (a merged key lands on its target). Retraining happens only on
        a manager's confirmed request (``_preview`` → ``_apply``).
        """
        if self.model_info is None:
            codebook = await current_codebook(session)
            labels = await manager_labels(session)
            info = await self._call(pool.load_or_train, codebook.to_dict(), labels)
            if info["trained"]:
                self._log_trained(info, labels)
            await retraining.note_model(session, model_version=info["model_version"], now=self._now())
            await session.commit()
            self.model_info = info
        return self.model_info

    @staticmethod
    def _log_trained(info: dict[str, Any], labels: list[Any]) -> None:
        log.info(
            "theme model %s trained (codebook %s, %d manager labels)",
            info["model_version"],
            info["codebook_version"],
            len(labels),
        )

    async def _requeue(self, session: Any) -> int:
        """Put every answer back in the pending queue (fresh attempts); returns how many."""
        result = await session.execute(sa.update(OpenText).values(status=ThemingStatus.PENDING, attempts=0))
        return int(result.rowcount or 0)

    async def _preview(self, session: Any, request: RetrainRequest) -> None:
        """Train a candidate beside the current model and store what it would change.

        The "training" state is committed before the pool starts, so a worker killed while
        training finds the request still open and starts again (``retraining.MAX_ATTEMPTS``).
        Nothing the managers see changes here: the candidate is not current and no answer is
        written until a manager confirms.
        """
        if not retraining.start_training(request, now=self._now()):
            await session.commit()
            log.error("retrain request %s given up after %d attempts", request.id, request.attempts)
            return
        await session.commit()
        codebook = await current_codebook(session)
        labels = await manager_labels(session)
        try:
            info = await self._call(pool.train_candidate, codebook.to_dict(), labels)
            version = info["model_version"]

            async def assign(texts: list[str]) -> list[dict[str, Any]]:
                return list(await self._call(pool.assign_batch, texts, version))

            result = await preview.compare(session, codebook, assign, batch=self.batch)
        except BrokenProcessPool:
            raise  # the pool died (killed, out of memory): the request stays open and is retried
        except Exception:
            log.exception("retrain request %s: training failed", request.id)
            retraining.fail(request, retraining.FAILED_TRAINING_SV, now=self._now())
            await session.commit()
            return
        self._log_trained(info, labels)
        retraining.ready(request, model_version=version, codebook_version=codebook.version, preview=result)
        await session.commit()
        log.info("retrain request %s: preview ready, %d answers would change", request.id, result["changed"])

    async def _apply(self, session: Any, request: RetrainRequest) -> None:
        """The manager confirmed: make the candidate current and queue every answer again."""
        info = await self._call(pool.make_current, request.model_version)
        total = await self._requeue(session)
        retraining.start_theming(request, model_version=info["model_version"], total=total)
        await session.commit()
        self.model_info = info

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
            change = retraining.finish(request, now=self._now())
            latest = await retraining.current_model(session)
            if (
                latest is not None
                and latest.request_id is None
                and latest.model_version == change.model_version
            ):
                latest.request_id, latest.changed = change.request_id, change.changed  # noted at a restart
            else:
                session.add(change)
            log.info("retrain request %s done: %d answers re-themed", request.id, request.total)
        await session.commit()

    async def tick(self) -> int:
        """One bounded batch; returns the number of answers themed.

        An open retraining request goes first: a pending one (or one a killed worker left in
        "training") is trained and previewed here, in this job's pool; a ready one waits for the
        manager; a confirmed one is applied, and its answers then flow through the same pending
        queue as new answers, one batch per tick.
        """
        self.more = False  # a tick that raises must not make the worker retry it in a tight loop
        async with self.sessionmaker() as session:
            request = await retraining.open_request(session)
            if request is not None and request.status in (RetrainStatus.PENDING, RetrainStatus.TRAINING):
                await self._preview(session, request)
            elif request is not None and request.status == RetrainStatus.CONFIRMED:
                await self._apply(session, request)
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
