"""OpenID Connect relying party: authorization code flow with PKCE and nonce (authlib + joserfc).

Why our own thin class and not authlib's Starlette/Flask integration: there is none for
Litestar (and authlib's httpx client is deprecated), and the web layer should only carry the
pending request in the session and call two functions. authlib makes the S256 code challenge
and the authorization URL; the code is redeemed with one plain httpx POST; joserfc verifies the ID token's signature against the provider's JWKS (refetched once
when a key id is unknown: key rotation); authlib's ``CodeIDToken`` checks iss, aud, exp, iat,
nonce, azp and at_hash. Nothing here logs a token.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, InvalidClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from feedback.core.errors import DomainError, InvalidInput

# Asymmetric algorithms only: a provider's public key must never be usable as an HMAC secret.
ASYMMETRIC_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
METADATA_TTL_S = 3600
LEEWAY_S = 120

UNAVAILABLE_SV = "Kommunens inloggningstjänst svarar inte just nu. Försök igen om en stund."
FORGED_SV = (
    "Inloggningen kunde inte bekräftas: svaret från inloggningstjänsten var inte äkta. "
    "Du är inte inloggad. Försök igen och kontakta din administratör om det händer igen."
)
NONCE_SV = (
    "Inloggningen kunde inte bekräftas: svaret hörde inte till den här inloggningen. "
    "Du är inte inloggad. Försök igen."
)
INVALID_SV = "Inloggningen kunde inte bekräftas. Du är inte inloggad. Försök igen."


class OidcUnavailable(DomainError):
    status_code = 503


class OidcRefused(InvalidInput):
    """The provider's answer did not verify (signature, nonce, audience …): never signed in."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class PendingLogin:
    """What the browser's session keeps between the redirect and the callback."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str

    def as_dict(self) -> dict[str, str]:
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> PendingLogin | None:
        if not isinstance(raw, dict):
            return None
        try:
            return cls(
                state=str(raw["state"]),
                nonce=str(raw["nonce"]),
                code_verifier=str(raw["code_verifier"]),
                redirect_uri=str(raw["redirect_uri"]),
            )
        except KeyError:
            return None


@dataclass(frozen=True)
class VerifiedLogin:
    claims: dict[str, Any]
    id_token: str


class OidcClient:
    """One per app; caches the provider's metadata and keys for an hour."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        scopes: str = "openid email profile",
        timeout_s: float = 10.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self.timeout_s = timeout_s
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: dict[str, Any] | None = None

    # ------------------------------------------------------------ provider documents
    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as http:
                response = await http.get(url)
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcUnavailable(UNAVAILABLE_SV) from exc
        if not isinstance(data, dict):
            raise OidcUnavailable(UNAVAILABLE_SV)
        return data

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL_S:
            data = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(data.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcUnavailable(UNAVAILABLE_SV)  # discovery must name the issuer we trust
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(data.get(key), str):
                    raise OidcUnavailable(UNAVAILABLE_SV)
            self._metadata, self._metadata_at, self._jwks = data, time.monotonic(), None
        return self._metadata

    async def _key_set(self, *, force: bool = False) -> KeySet:
        if self._jwks is None or force:
            self._jwks = await self._get_json(str((await self.metadata())["jwks_uri"]))
        try:
            return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise OidcUnavailable(UNAVAILABLE_SV) from exc

    def _client_auth(self, metadata: dict[str, Any]) -> tuple[httpx.BasicAuth | None, dict[str, str]]:
        """How the token request proves who we are: HTTP Basic, a form secret, or nothing (a
        public client, where PKCE alone protects the code)."""
        if not self.client_secret:
            return None, {"client_id": self.client_id}
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: id and secret are form-encoded before they go into the header.
            return httpx.BasicAuth(quote(self.client_id, safe=""), quote(self.client_secret, safe="")), {}
        return None, {"client_id": self.client_id, "client_secret": self.client_secret}

    # ------------------------------------------------------------ the flow
    async def start(self, redirect_uri: str) -> tuple[str, PendingLogin]:
        """The provider URL to send the browser to, and what to keep in its session."""
        metadata = await self.metadata()
        pending = PendingLogin(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
            redirect_uri=redirect_uri,
        )
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        return add_params_to_uri(str(metadata["authorization_endpoint"]), params), pending

    async def finish(self, *, code: str, pending: PendingLogin) -> VerifiedLogin:
        """Redeem the code (with the PKCE verifier) and verify the ID token; claims on success."""
        metadata = await self.metadata()
        auth, extra = self._client_auth(metadata)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
            **extra,
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as http:
                response = await http.post(
                    str(metadata["token_endpoint"]), data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
                )
        except httpx.HTTPError as exc:
            raise OidcUnavailable(UNAVAILABLE_SV) from exc
        if response.status_code >= 500:
            raise OidcUnavailable(UNAVAILABLE_SV)
        try:
            token = response.json()
        except ValueError:
            token = None
        if response.status_code != 200 or not isinstance(token, dict):
            raise OidcRefused(INVALID_SV, reason="token_endpoint")  # e.g. a spent or forged code
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused(INVALID_SV, reason="no_id_token")
        claims = await self.verify_id_token(
            id_token, nonce=pending.nonce, access_token=str(token.get("access_token") or "")
        )
        return VerifiedLogin(claims=claims, id_token=id_token)

    async def verify_id_token(self, id_token: str, *, nonce: str, access_token: str = "") -> dict[str, Any]:
        metadata = await self.metadata()
        advertised = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in advertised if a in ASYMMETRIC_ALGS] or ["RS256"]
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), algorithms=algorithms)
            except InvalidKeyIdError:
                decoded = jwt.decode(id_token, await self._key_set(force=True), algorithms=algorithms)
        except (BadSignatureError, InvalidKeyIdError) as exc:
            raise OidcRefused(FORGED_SV, reason="signature") from exc
        except (JoseError, ValueError) as exc:
            raise OidcRefused(FORGED_SV, reason="malformed") from exc
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id},
            },
            {"nonce": nonce, "client_id": self.client_id, "access_token": access_token or None},
        )
        try:
            claims.validate(leeway=LEEWAY_S)
        except ClaimError as exc:
            if isinstance(exc, InvalidClaimError | ClaimError) and "nonce" in str(exc):
                raise OidcRefused(NONCE_SV, reason="nonce") from exc
            raise OidcRefused(INVALID_SV, reason="claims") from exc
        return dict(claims)

    async def end_session_url(self, *, id_token_hint: str, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout at the provider, when it advertises ``end_session_endpoint``."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except OidcUnavailable:
            return None
        if not isinstance(endpoint, str) or not endpoint:
            return None
        query = httpx.QueryParams(
            {
                "id_token_hint": id_token_hint,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "client_id": self.client_id,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
