"""Known report data: closures, follow-ups, answers and themed open texts built row by row."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Unit
from feedback.themes.models import OpenTextTheme
from surveys.answers.models import Answer, AnswerMode, Channel, OpenText, ThemingStatus
from surveys.closures.models import Client, Closure
from surveys.conversations.models import Conversation
from surveys.plans.models import FollowUp, FollowUpStatus
from surveys.questionnaires.models import Questionnaire
from surveys.questionnaires.service import seed_defaults


class ReportData:
    """Builder with counters so tests state their numbers plainly."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.questionnaire_id: uuid.UUID | None = None

    async def questionnaire(self) -> uuid.UUID:
        if self.questionnaire_id is None:
            await seed_defaults(self.session)
            self.questionnaire_id = await self.session.scalar(sa.select(Questionnaire.id).limit(1))
        return self.questionnaire_id

    async def closure(
        self,
        unit: Unit,
        *,
        closed_on: date = date(2026, 3, 1),
        reason: str = "work",
        language: str = "sv",
        returned_on: date | None = None,
    ) -> Closure:
        client = Client(unit_id=unit.id, client_ref=uuid.uuid4().hex[:10], language=language)
        self.session.add(client)
        await self.session.flush()
        closure = Closure(
            client_id=client.id, unit_id=unit.id, closed_on=closed_on, reason=reason, returned_on=returned_on
        )
        self.session.add(closure)
        await self.session.flush()
        return closure

    async def follow_up(
        self,
        closure: Closure,
        *,
        wave: int = 30,
        due_on: date = date(2026, 4, 1),
        disposition: str | None = "complete",
    ) -> FollowUp:
        follow_up = FollowUp(
            closure_id=closure.id,
            client_id=closure.client_id,
            unit_id=closure.unit_id,
            wave_days=wave,
            channel="sms",
            questionnaire_key="default",
            due_on=due_on,
            window_end=due_on,
            status=FollowUpStatus.DONE if disposition else FollowUpStatus.SKIPPED,
        )
        self.session.add(follow_up)
        await self.session.flush()
        if disposition:
            self.session.add(
                Conversation(
                    follow_up_id=follow_up.id,
                    closure_id=closure.id,
                    unit_id=closure.unit_id,
                    questionnaire_id=await self.questionnaire(),
                    wave_days=wave,
                    is_open=False,
                    disposition=disposition,
                )
            )
            await self.session.flush()
        return follow_up

    async def answer(
        self,
        closure: Closure,
        follow_up: FollowUp,
        key: str,
        *,
        positive: bool | None = None,
        dont_know: bool = False,
        at: datetime = datetime(2026, 4, 2, 10, tzinfo=UTC),
    ) -> None:
        self.session.add(
            Answer(
                follow_up_id=follow_up.id,
                closure_id=closure.id,
                unit_id=closure.unit_id,
                questionnaire_id=await self.questionnaire(),
                question_key=key,
                mode=AnswerMode.SMS,
                wave_days=follow_up.wave_days,
                is_positive=positive,
                dont_know=dont_know,
                answered_at=at,
            )
        )
        await self.session.flush()

    async def text(
        self,
        unit: Unit,
        themes: dict[str, str | None] | list[str],
        *,
        person: str | None = None,
        at: datetime = datetime(2026, 4, 2, 10, tzinfo=UTC),
        channel: str = "sms",
        text: str = "Bra bemötande.",
        consent: bool = False,
        sentiment: str | None = None,
        language: str = "sv",
        reason: str = "work",
        wave: int | None = 30,
    ) -> OpenText:
        row = OpenText(
            channel=Channel(channel),
            source_ref=f"test:{uuid.uuid4()}",
            unit_id=unit.id,
            respondent_key=person or uuid.uuid4().hex,
            received_at=at,
            language=language,
            wave_days=wave,
            closure_reason=reason,
            text_redacted=text,
            quote_consent=consent,
            status=ThemingStatus.THEMED,
            sentiment=sentiment,
        )
        self.session.add(row)
        await self.session.flush()
        items = themes.items() if isinstance(themes, dict) else [(k, None) for k in themes]
        for key, theme_sentiment in items:
            self.session.add(OpenTextTheme(open_text_id=row.id, theme_key=key, sentiment=theme_sentiment))
        await self.session.flush()
        return row
