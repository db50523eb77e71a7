"""Login (throttled), logout, password change and the per-role start page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations, services, throttle
from feedback.auth.models import ROLE_LABELS_SV, Role
from feedback.core import audit
from feedback.core.errors import InvalidInput
from feedback.web.guards import current_user, requires_login
from feedback.web.session_backend import rotate_session
from feedback.web.session_user import session_payload

START_PAGES = {
    Role.ADMIN: "home/admin.html",
    Role.MANAGER: "home/manager.html",
    Role.CASEWORKER: "home/caseworker.html",
    Role.PANEL_MEMBER: "home/panel_member.html",
}


WRONG_LOGIN_SV = "Fel e-postadress eller lösenord."
LOCKED_SV = (
    "För många misslyckade inloggningar. Inloggningen är spärrad i {minutes} minuter. "
    "Vänta och försök igen, eller kontakta din administratör."
)


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    next: str = "/"


class PasswordForm(msgspec.Struct):
    current_password: str = ""
    new_password: str = ""
    repeat_password: str = ""


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The client address as uvicorn reports it (X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else None


def throttle_policy(request: Request[Any, Any, Any]) -> throttle.ThrottlePolicy:
    settings = request.app.state.settings
    return throttle.ThrottlePolicy(
        max_failures=settings.login_max_failures, lock_for=timedelta(minutes=settings.login_lock_minutes)
    )


def safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login form cannot become an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class AuthController(Controller):
    @get("/login", opt={"public": True}, name="login")
    async def login_page(self, next_: Annotated[str, QueryParameter(name="next")] = "/") -> Template:
        return Template("auth/login.html", context={"next": safe_next(next_), "error": None, "email": ""})

    @post("/login", opt={"public": True}, status_code=303)
    async def login(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        now = request.app.state.clock.now()
        policy = throttle_policy(request)
        keys = throttle.throttle_keys(data.email, client_ip(request))

        def refuse(message: str, status: int) -> Template:
            context = {"next": safe_next(data.next), "error": message, "email": data.email}
            return Template("auth/login.html", context=context, status_code=status)

        locked = LOCKED_SV.format(minutes=int(policy.lock_for.total_seconds() // 60))
        if await throttle.locked_until(db_session, keys, now):
            return refuse(locked, 429)
        user = await services.authenticate(db_session, email=data.email, password=data.password)
        if user is None:
            lock_end = await throttle.record_failure(db_session, keys, now, policy)
            if lock_end:
                await audit.record(
                    db_session,
                    actor_id=None,
                    action="login.locked",
                    subject_type="login",
                    client_ip=client_ip(request),
                    detail={"until": lock_end.isoformat()},
                )
            # Committed here because the 4xx answer below would make the autocommit hook roll back.
            await db_session.commit()
            return refuse(locked, 429) if lock_end else refuse(WRONG_LOGIN_SV, 400)
        await throttle.clear(db_session, keys[0])
        await db_session.commit()
        request.clear_session()
        request.set_session(session_payload(user))
        rotate_session(request)
        return Redirect(path=safe_next(data.next), status_code=303)

    @post("/logout", guards=[requires_login], status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect(path="/login", status_code=303)

    @get("/account/password", guards=[requires_login], name="password")
    async def password_page(self) -> Template:
        return Template("auth/password.html", context={"error": None, "field": None, "done": False})

    @post("/account/password", guards=[requires_login], status_code=200)
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[PasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        try:
            user = await services.change_password(
                db_session,
                user_id=current_user(request).id,
                current=data.current_password,
                new=data.new_password,
                repeat=data.repeat_password,
                now=request.app.state.clock.now(),
            )
        except InvalidInput as exc:
            context = {"error": exc.message, "field": exc.field, "done": False}
            return Template("auth/password.html", context=context, status_code=400)
        await db_session.commit()
        # The new password ends every other session of this user; this one continues.
        request.set_session(session_payload(user))
        rotate_session(request)
        return Template("auth/password.html", context={"error": None, "field": None, "done": True})

    @get("/", guards=[requires_login], name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        user = current_user(request)
        return Template(START_PAGES[user.role], context={"role_label": ROLE_LABELS_SV[user.role]})


class AcceptInvitationForm(msgspec.Struct):
    password: str = ""
    repeat_password: str = ""


# The token is in the URL: keep it out of other sites' logs and out of caches.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class InvitationController(Controller):
    """The public page behind an invitation link: set a password, and the account is activated."""

    path = "/invitation"

    @get("/{token:str}", opt={"public": True}, name="invitation")
    async def invitation_page(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], token: FromPath[str]
    ) -> Template:
        invitation = await invitations.open_invitation(db_session, token, now=request.app.state.clock.now())
        user = await invitations.invited_user(db_session, invitation)
        context = {"email": user.email, "token": token, "error": None, "field": None}
        return Template("auth/invitation.html", context=context, headers=PRIVATE_HEADERS)

    @post("/{token:str}", opt={"public": True}, status_code=303)
    async def accept(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        token: FromPath[str],
        data: Annotated[AcceptInvitationForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        now = request.app.state.clock.now()
        try:
            user = await invitations.accept_invitation(
                db_session, token=token, password=data.password, repeat=data.repeat_password, now=now
            )
        except InvalidInput as exc:
            await db_session.rollback()
            invitation = await invitations.open_invitation(db_session, token, now=now)
            invited = await invitations.invited_user(db_session, invitation)
            context = {"email": invited.email, "token": token, "error": exc.message, "field": exc.field}
            return Template("auth/invitation.html", context=context, status_code=400, headers=PRIVATE_HEADERS)
        await db_session.commit()
        request.clear_session()
        request.set_session(session_payload(user))
        rotate_session(request)
        return Redirect(path="/", status_code=303)
