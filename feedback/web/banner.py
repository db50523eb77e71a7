"""The akut banner: every page a caseworker opens says so while an akut case of their units is
untaken ("Akut: en person behöver kontakt i dag"), until someone takes it.

Why an app-level ``before_request`` hook and not a context variable per controller: the banner
belongs to every caseworker page (start page, closures, queue, cases, inbox, password), and a
page that forgot to pass it would hide a person in crisis. The hook runs one indexed query
(``surveys.cases.service.untaken_akut``) in a short read of its own (the hook runs before the
handler's ``db_session`` exists; the connection is back in the pool before the handler starts),
for GET requests of signed-in caseworkers only, and leaves the result in the request scope for
``base.html``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from surveys.cases.service import untaken_akut

SCOPE_KEY = "akut_banner"


async def load_akut_banner(request: Request[Any, Any, Any]) -> None:
    user = request.scope.get("user")
    if request.method != "GET" or not isinstance(user, CurrentUser) or user.role != Role.CASEWORKER:
        return
    if not user.unit_ids:
        return
    async with request.app.state.sessionmaker() as session:
        akut = await untaken_akut(session, user.unit_ids)
    request.scope[SCOPE_KEY] = akut  # type: ignore[literal-required]
