"""The themes assigned to open answers, the codebook decisions and the report's copy (tables only).

The open text itself (``OpenText``) belongs to the answers it comes from
(``surveys.answers.models``); this layer adds what theming decides about it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.db import Base, str_enum, utcnow
from surveys.answers.models import OpenText


class OpenTextTheme(Base):
    """One theme on one open text, with its score, evidence and who decided it."""

    __tablename__ = "open_text_theme"
    __table_args__ = (sa.Index("ix_open_text_theme_key", "theme_key", "open_text_id"),)

    open_text_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("open_text.id", ondelete="CASCADE"), primary_key=True
    )
    theme_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    score: Mapped[float] = mapped_column(default=1.0)
    sentiment: Mapped[str | None] = mapped_column(sa.String(3))
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    origin: Mapped[str] = mapped_column(sa.String(16), default="model")  # model | manager | rule

    open_text: Mapped[OpenText] = relationship(back_populates="themes")


# ---------------------------------------------------------------- durable human decisions
class CodebookEventRow(Base):
    """One manager decision about the codebook (rename, merge, split, add, retire, add_seeds).

    The shipped seed codebook plus these rows in ``seq`` order *is* the current codebook
    (``nlp.codebook.Codebook``); nothing is ever overwritten, so a retrain or re-clustering
    replays every decision instead of losing it. An undone decision keeps its row with
    ``undone_at`` set and is left out of the replay (``ThemeEdit`` says who undid it and why).
    """

    __tablename__ = "theme_codebook_event"

    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column()


class ThemeEdit(Base):
    """One manager edit as the manager saw it: what, where (all units or only theirs), undo.

    Why beside the codebook events: an edit names the answers it changes (a move names one, a
    merge names the answers of the merged theme in its scope), and only those may change. The
    answers' themes and labels before the edit are kept in ``ThemeEditAnswer``, so an undo
    (itself an edit, ``kind`` "undo") puts exactly those answers back and touches nothing else.
    ``keys`` are the theme keys the edit touched: a later edit of the same keys must be undone
    first.
    """

    __tablename__ = "theme_edit"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # move | rename | merge | split | retire | undo
    scope: Mapped[str] = mapped_column(sa.String(8))  # all | mine
    unit_ids: Mapped[list[Any]] = mapped_column(default=list)  # the manager's units when "mine"
    keys: Mapped[list[Any]] = mapped_column(default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the page says about it
    event_seqs: Mapped[list[Any]] = mapped_column(default=list)  # theme_codebook_event rows written
    n_answers: Mapped[int] = mapped_column(default=0)
    by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    undo_of: Mapped[int | None] = mapped_column(sa.ForeignKey("theme_edit.id", ondelete="SET NULL"))
    undone_at: Mapped[datetime | None] = mapped_column()


class ThemeEditAnswer(Base):
    """One answer an edit changed, with its themes and manager label from before the edit."""

    __tablename__ = "theme_edit_answer"

    edit_id: Mapped[int] = mapped_column(sa.ForeignKey("theme_edit.id", ondelete="CASCADE"), primary_key=True)
    open_text_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("open_text.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    before_themes: Mapped[list[Any]] = mapped_column(default=list)  # open_text_theme rows as dicts
    before_label: Mapped[list[Any] | None] = mapped_column()  # None: the answer had no label


class AnswerLabel(Base):
    """A manager's theme labels for one answer: they win over the model, always.

    Keys are stored as given and resolved through the current codebook when applied, so a label
    given before a merge follows the merged theme.
    """

    __tablename__ = "theme_answer_label"

    open_text_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("open_text.id", ondelete="CASCADE"), primary_key=True
    )
    theme_keys: Mapped[list[Any]] = mapped_column(default=list)
    by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ThemeProposal(Base):
    """A theme proposed by discovery (``nlp.discover``), kept until a manager decides on it."""

    __tablename__ = "theme_proposal"

    proposal_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    label_sv: Mapped[str] = mapped_column(sa.String(200))
    label_terms: Mapped[list[Any]] = mapped_column(default=list)
    n_respondents: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    quotes: Mapped[list[Any]] = mapped_column(default=list)  # [{"id", "text"}] redacted
    member_ids: Mapped[list[Any]] = mapped_column(default=list)  # open_text ids
    # the units whose answers it was found in: only managers of all of them see it (quotes)
    unit_ids: Mapped[list[Any]] = mapped_column(default=list)
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProposalDecision(Base):
    """accept | merge | rename | reject on a proposal; fed back into every later discovery run."""

    __tablename__ = "theme_proposal_decision"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    proposal_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    action: Mapped[str] = mapped_column(sa.String(8))
    label_terms: Mapped[list[Any]] = mapped_column(default=list)
    key: Mapped[str | None] = mapped_column(sa.String(64))
    label_sv: Mapped[str | None] = mapped_column(sa.String(200))
    by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RetrainStatus(enum.StrEnum):
    """Where a retraining request is; ``pending``, ``training`` and ``theming`` are "open"."""

    PENDING = "pending"  # recorded by the page, no worker has started it
    TRAINING = "training"  # the worker trains a candidate model and compares (redone after a crash)
    READY = "ready"  # the preview is stored: the manager confirms or cancels; nothing changed yet
    CONFIRMED = "confirmed"  # the manager said yes: the worker makes the candidate current
    THEMING = "theming"  # the model is current; the answers are re-themed in the worker's batches
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # the manager said no (or the themes changed): nothing was applied


OPEN_RETRAIN_STATUSES = (
    RetrainStatus.PENDING,
    RetrainStatus.TRAINING,
    RetrainStatus.READY,
    RetrainStatus.CONFIRMED,
    RetrainStatus.THEMING,
)


class RetrainRequest(Base):
    """A manager's "Träna om": recorded by the page, carried out by the worker's theming job.

    Why a row and not a call: training and re-theming every answer takes seconds to minutes, far
    too long for an HTTP request, and must survive a worker restart. The worker moves the row
    through ``RetrainStatus`` and keeps ``themed`` of ``total`` up to date, so the page can show
    progress by reading one row.

    ``open_slot`` is 1 while the request is open and NULL once it is done or failed; its unique
    index lets at most one open request exist, so two quick clicks (or two browser tabs) cannot
    queue two retrainings even when they race past the application's own check.
    """

    __tablename__ = "theme_retrain_request"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    status: Mapped[RetrainStatus] = mapped_column(str_enum(RetrainStatus), default=RetrainStatus.PENDING)
    open_slot: Mapped[int | None] = mapped_column(sa.SmallInteger, unique=True, default=1)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)  # times training started (a crash counts)
    model_version: Mapped[str | None] = mapped_column(sa.String(64))
    total: Mapped[int] = mapped_column(default=0)  # answers queued for re-theming
    themed: Mapped[int] = mapped_column(default=0)  # of those, how many are done
    error: Mapped[str | None] = mapped_column(sa.String(500))  # Swedish, shown to the manager
    # the preview: which codebook the candidate was trained for and what it would change
    codebook_version: Mapped[str | None] = mapped_column(sa.String(64))
    preview: Mapped[dict[str, Any] | None] = mapped_column()
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None] = mapped_column()


class ModelChange(Base):
    """Each time a different theme model became the one counts come from (the report says which).

    Written by the theming job: when it first trains a model and when a confirmed retraining
    finishes. ``changed`` is how many answers got other themes (None for the first model).
    """

    __tablename__ = "theme_model_change"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("theme_retrain_request.id", ondelete="SET NULL")
    )
    changed: Mapped[int | None] = mapped_column()


# ---------------------------------------------------------------- the report's compact copy
class ReportRespondent(Base):
    """A small integer for each respondent key, so reports count distinct integers, not strings."""

    __tablename__ = "report_respondent"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)


class ReportThemeKey(Base):
    """A small integer for each theme key ever stored (keys are never renamed in place)."""

    __tablename__ = "report_theme_key"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)


class ReportThemeFact(Base):
    """One row per (open text, theme), or one row with ``theme_id`` NULL for an unthemed text.

    Why: the yearly theme report counts distinct respondents by theme, period and sentiment over
    a million answers; joining ``open_text`` to ``open_text_theme`` and sorting 40-character keys
    took seconds. This narrow copy has integer respondents, themes and sentiments and the local
    month precomputed, so the same counts sort small integers from one table.

    It is written only by database triggers on ``open_text`` and ``open_text_theme`` (see the
    migration ``0330_report_theme_fact``), so every write — the theming worker, manager relabels,
    merges and renames, deletions and raw SQL — updates it in the same transaction. Nothing in
    the application writes it directly. ``period_month`` is yyyymm in Stockholm time on
    PostgreSQL (UTC on SQLite, like the rest of the report); ``sentiment`` is
    ``SENTIMENT_CODES`` of the theme's sentiment, else the answer's, else "none".
    """

    __tablename__ = "report_theme_fact"
    __table_args__ = (
        sa.Index("ix_report_theme_fact_unit_received", "unit_id", "received_at"),
        sa.Index("ix_report_theme_fact_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    open_text_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("open_text.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column()
    received_at: Mapped[datetime] = mapped_column()
    period_month: Mapped[int] = mapped_column(sa.Integer)
    channel: Mapped[str] = mapped_column(sa.String(16))
    closure_reason: Mapped[str | None] = mapped_column(sa.String(20))
    wave_days: Mapped[int | None] = mapped_column()
    language: Mapped[str | None] = mapped_column(sa.String(8))
    theme_id: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sentiment: Mapped[int] = mapped_column(sa.SmallInteger)
    respondent: Mapped[int] = mapped_column(sa.Integer)


# codes in ``report_theme_fact.sentiment`` (any other stored sentiment is 9 and never shown)
SENTIMENT_CODES = {"pos": 1, "neu": 2, "neg": 3, "none": 0}
