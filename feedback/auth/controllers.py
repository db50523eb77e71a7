"""Login, logout and the per-role start page."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.guards import current_user, requires_login
from feedback.auth.middleware import session_payload
from feedback.auth.models import ROLE_LABELS_SV, Role

START_PAGES = {
    Role.ADMIN: "home/admin.html",
    Role.MANAGER: "home/manager.html",
    Role.CASEWORKER: "home/caseworker.html",
    Role.PANEL_MEMBER: "home/panel_member.html",
}


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    next: str = "/"


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
        user = await services.authenticate(db_session, email=data.email, password=data.password)
        if user is None:
            return Template(
                "auth/login.html",
                context={
                    "next": safe_next(data.next),
                    "error": "Fel e-postadress eller lösenord.",
                    "email": data.email,
                },
                status_code=400,
            )
        await db_session.commit()
        request.clear_session()
        request.set_session(session_payload(user))
        return Redirect(path=safe_next(data.next), status_code=303)

    @post("/logout", guards=[requires_login], status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect(path="/login", status_code=303)

    @get("/", guards=[requires_login], name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        user = current_user(request)
        return Template(START_PAGES[user.role], context={"role_label": ROLE_LABELS_SV[user.role]})
