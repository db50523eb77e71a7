"""Staff single sign-on pages: send the browser to the provider, take it back, sign in.

Only HTTP here: the pending request (state, nonce, PKCE verifier) lives in the server-side
session between the two requests; ``feedback.auth.sso.oidc`` verifies, and
``feedback.auth.sso.provision`` decides who signs in with which role and units.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.sso.oidc import OidcClient, OidcRefused, PendingLogin
from feedback.auth.sso.provision import ExternalLogin, SsoRefused, sign_in_external
from feedback.core import audit
from feedback.core.errors import DomainError
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.auth import client_ip, login_context, safe_next
from feedback.web.dependencies import AppClock
from feedback.web.session_backend import rotate_session
from feedback.web.session_user import session_payload

PENDING_KEY = "sso_pending"
ID_TOKEN_KEY = "sso_id_token"  # noqa: S105 - a session key name, not a secret
CALLBACK_PATH = "/login/sso/callback"

CANCELLED_SV = "Inloggningen avbröts hos kommunens inloggningstjänst. Du är inte inloggad."
EXPIRED_SV = (
    "Inloggningen har gått ut eller startades i en annan flik. Du är inte inloggad. "
    "Börja om med knappen nedan."
)


def oidc_client(request: Request[Any, Any, Any]) -> OidcClient | None:
    client = getattr(request.app.state, "oidc", None)
    return client if isinstance(client, OidcClient) else None


async def provider_logout_url(request: Request[Any, Any, Any], settings: Settings) -> str | None:
    """Where logout continues when this session came from SSO and the provider has an end point."""
    id_token = request.session.get(ID_TOKEN_KEY) if request.session else None
    client = oidc_client(request)
    if client is None or not isinstance(id_token, str):
        return None
    return await client.end_session_url(
        id_token_hint=id_token, post_logout_redirect_uri=f"{settings.public_url}/login?utloggad=1"
    )


def _refusal(settings: Settings, message: str, status: int) -> Template:
    context = {
        **login_context(settings),
        **forms.FormErrors.single(message, "sso", status).context(),
        "next": "/",
        "email": "",
    }
    return Template("auth/login.html", context=context, status_code=status)


class SsoController(Controller):
    path = "/login/sso"

    @get("/", opt={"public": True}, name="sso-start")
    async def start(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        next_: Annotated[str, QueryParameter(name="next", max_length=2000)] = "/",
    ) -> Redirect | Template:
        client = oidc_client(request)
        if client is None:
            raise NotFoundException("Inloggning med kommunens konto är inte påslagen.")
        try:
            url, pending = await client.start(settings.public_url + CALLBACK_PATH)
        except DomainError as exc:
            return _refusal(settings, exc.message, exc.status_code)
        request.set_session(
            {**(request.session or {}), PENDING_KEY: {**pending.as_dict(), "next": safe_next(next_)}}
        )
        return Redirect(path=url, status_code=303)

    @get("/callback", opt={"public": True}, name="sso-callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        code: Annotated[str, QueryParameter(max_length=4000)] = "",
        state_: Annotated[str, QueryParameter(name="state", max_length=400)] = "",
        error: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Redirect | Template:
        client = oidc_client(request)
        if client is None:
            raise NotFoundException("Inloggning med kommunens konto är inte påslagen.")
        session = dict(request.session or {})
        raw = session.pop(PENDING_KEY, None)
        request.set_session(session)  # a pending login is used once, whatever happens next
        pending = PendingLogin.from_dict(raw)
        if error:
            return _refusal(settings, CANCELLED_SV, 400)
        if pending is None or not state_ or state_ != pending.state or not code:
            return _refusal(settings, EXPIRED_SV, 400)
        target = safe_next(raw.get("next") if isinstance(raw, dict) else "/")

        async def refused(reason: str, message: str, status: int) -> Template:
            await audit.record(
                db_session,
                actor_id=None,
                action="login.sso.refused",
                subject_type="login",
                client_ip=client_ip(request),
                detail={"reason": reason},
            )
            await db_session.commit()
            return _refusal(settings, message, status)

        try:
            verified = await client.finish(code=code, pending=pending)
        except OidcRefused as exc:
            return await refused(exc.reason, exc.message, 400)
        except DomainError as exc:  # the provider is unreachable: nothing to audit about a person
            return _refusal(settings, exc.message, exc.status_code)
        claims = verified.claims
        login = ExternalLogin(
            protocol="oidc",
            issuer=client.issuer,
            subject=str(claims.get("sub", "")),
            email=str(claims.get("email") or ""),
            display_name=str(claims.get("name") or ""),
            claims=claims,
        )
        try:
            user = await sign_in_external(db_session, login, now=clock.now())
        except SsoRefused as exc:
            await db_session.commit()  # a removed access is stored even though the login fails
            return _refusal(settings, exc.message, exc.status_code)
        except DomainError as exc:
            await db_session.rollback()
            return await refused("invalid_claims", exc.message, 400)
        await db_session.commit()
        request.clear_session()
        request.set_session({**session_payload(user), ID_TOKEN_KEY: verified.id_token})
        rotate_session(request)
        return Redirect(path=target, status_code=303)
