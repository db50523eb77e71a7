"""Login (throttled), logout, password change and the per-role start page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations, services, throttle
from feedback.auth.identity import CurrentUser
from feedback.auth.lifecycle import local_password_allowed
from feedback.auth.models import ROLE_LABELS_SV, Role, User
from feedback.core import audit
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_login
from feedback.web.session_backend import rotate_session
from feedback.web.session_user import session_payload

START_PAGES = {
    Role.ADMIN: "home/admin.html",
    Role.MANAGER: "home/manager.html",
    Role.CASEWORKER: "home/caseworker.html",
    Role.PANEL_MEMBER: "home/panel_member.html",
    Role.AUDITOR: "home/auditor.html",
}


WRONG_LOGIN_SV = "Fel e-postadress eller lösenord."
LOCKED_SV = (
    "För många misslyckade inloggningar. Inloggningen är spärrad i {minutes} minuter. "
    "Vänta och försök igen, eller kontakta din administratör."
)


class LoginForm(forms.Form):
    email: str = ""
    password: str = ""
    next: str = "/"


class PasswordForm(forms.Form):
    current_password: str = ""
    new_password: str = ""
    repeat_password: str = ""


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The client address as uvicorn reports it (X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else None


def throttle_policy(settings: Settings) -> throttle.ThrottlePolicy:
    return throttle.ThrottlePolicy(
        max_failures=settings.login_max_failures, lock_for=timedelta(minutes=settings.login_lock_minutes)
    )


def login_context(settings: Settings) -> dict[str, Any]:
    """What the login page needs to know: is SSO on, may staff use a password."""
    return {"sso_enabled": settings.oidc_enabled, "local_passwords": settings.local_passwords}


STAFF_USE_SSO_SV = "Personalen loggar in med kommunens konto. Använd knappen Logga in med kommunens konto."


def safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login form cannot become an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class AuthController(Controller):
    @get("/login", opt={"public": True}, name="login")
    async def login_page(
        self,
        settings: NamedDependency[Settings],
        next_: Annotated[str, QueryParameter(name="next")] = "/",
        logged_out: Annotated[str, QueryParameter(name="utloggad", max_length=8)] = "",
    ) -> Template:
        context = {
            **login_context(settings),
            "next": safe_next(next_),
            **forms.NO_ERRORS,
            "email": "",
            "logged_out": bool(logged_out),
        }
        return Template("auth/login.html", context=context)

    @post("/login", opt={"public": True}, status_code=303, name="login-submit")
    async def login(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Redirect | Template:
        """Not ``submit``: a refused login must commit too (the throttle counts the failure)."""
        form = forms.parse(LoginForm, data)
        now = clock.now()
        policy = throttle_policy(settings)
        keys = throttle.throttle_keys(form.email, client_ip(request))

        def refuse(message: str, status: int) -> Template:
            # Either field may be wrong; the e-mail field points at the message.
            errors = forms.FormErrors.single(message, "email", status).context()
            context = {**login_context(settings), "next": safe_next(form.next), **errors, "email": form.email}
            return Template("auth/login.html", context=context, status_code=status)

        locked = LOCKED_SV.format(minutes=int(policy.lock_for.total_seconds() // 60))
        checked = False

        async def check() -> Any:
            nonlocal checked
            checked = True
            return await services.authenticate(db_session, email=form.email, password=form.password)

        # lock check, an atomically reserved attempt, the password, the lock check again: a burst
        # of concurrent wrong passwords gets at most the policy's number of password checks
        outcome = await throttle.attempt(db_session, keys, now, policy, check)
        user = outcome.result
        if user is None:
            if outcome.locked_until and checked:  # this wrong password set the lock
                await audit.record(
                    db_session,
                    actor_id=None,
                    action="login.locked",
                    subject_type="login",
                    client_ip=client_ip(request),
                    detail={"until": outcome.locked_until.isoformat()},
                )
            await db_session.commit()
            return refuse(locked, 429) if outcome.locked_until else refuse(WRONG_LOGIN_SV, 400)
        if not local_password_allowed(user.role, settings.local_passwords):
            await db_session.rollback()  # no last-login stamp for a refused sign-in
            return refuse(STAFF_USE_SSO_SV, 403)
        await db_session.commit()
        request.clear_session()
        request.set_session(session_payload(user))
        rotate_session(request)
        return Redirect(path=safe_next(form.next), status_code=303)

    @post("/logout", guards=[requires_login], status_code=303, name="logout")
    async def logout(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Redirect:
        """End the local session; a single sign-on session continues at the provider's end
        point (when it advertises one), which sends the browser back to the login page."""
        from feedback.web.sso import provider_logout_url

        provider = await provider_logout_url(request, settings)
        request.clear_session()
        return Redirect(path=provider or "/login?utloggad=1", status_code=303)

    @get("/account/password", guards=[requires_login], name="password")
    async def password_page(self) -> Template:
        return Template("auth/password.html", context={**forms.NO_ERRORS, "done": False})

    @post("/account/password", guards=[requires_login], status_code=200, name="password-change")
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(PasswordForm, data)

        async def invalid(errors: forms.FormErrors) -> Template:
            context = {**errors.context(), "done": False}
            return Template("auth/password.html", context=context, status_code=errors.status_code)

        def done(changed: User) -> Template:
            # The new password ends every other session of this user; this one continues.
            request.set_session(session_payload(changed, since=request.session.get("since")))
            rotate_session(request)
            return Template("auth/password.html", context={**forms.NO_ERRORS, "done": True})

        return await forms.submit(
            db_session,
            lambda: services.change_password(
                db_session,
                user_id=user.id,
                current=form.current_password,
                new=form.new_password,
                repeat=form.repeat_password,
                now=clock.now(),
            ),
            invalid=invalid,
            done=done,
            catch=InvalidInput,
        )

    @get("/", guards=[requires_login], name="home")
    async def home(self, user: NamedDependency[CurrentUser]) -> Template:
        return Template(START_PAGES[user.role], context={"role_label": ROLE_LABELS_SV[user.role]})


class AcceptInvitationForm(forms.Form):
    password: str = ""
    repeat_password: str = ""


# The token is in the URL: keep it out of other sites' logs and out of caches.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class InvitationController(Controller):
    """The public page behind an invitation link: set a password, and the account is activated."""

    path = "/invitation"

    @get("/{token:str}", opt={"public": True}, name="invitation")
    async def invitation_page(
        self,
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        token: FromPath[str],
    ) -> Template:
        return await self._page(db_session, token, clock.now())

    async def _page(
        self, db_session: AsyncSession, token: str, now: datetime, errors: forms.FormErrors | None = None
    ) -> Template:
        invitation = await invitations.open_invitation(db_session, token, now=now)
        user = await invitations.invited_user(db_session, invitation)
        context = {"email": user.email, "token": token, **(errors.context() if errors else forms.NO_ERRORS)}
        status = errors.status_code if errors else 200
        return Template("auth/invitation.html", context=context, status_code=status, headers=PRIVATE_HEADERS)

    @post("/{token:str}", opt={"public": True}, status_code=303, name="invitation-accept")
    async def accept(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        token: FromPath[str],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(AcceptInvitationForm, data)
        now = clock.now()

        def done(user: User) -> Redirect:
            request.clear_session()
            request.set_session(session_payload(user))
            rotate_session(request)
            return Redirect(path="/", status_code=303)

        return await forms.submit(
            db_session,
            lambda: invitations.accept_invitation(
                db_session, token=token, password=form.password, repeat=form.repeat_password, now=now
            ),
            invalid=lambda errors: self._page(db_session, token, now, errors),
            done=done,
            catch=InvalidInput,
        )
