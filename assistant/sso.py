"""Single sign-on with the region's OpenID Connect identity provider.

Authorization code flow with PKCE; state and nonce are single-use and expire. The ID token is checked here, not
trusted from the token response: signature against the provider's published keys (JWKS), issuer, audience (our
client id), expiry and nonce. The provider's groups or roles (``oidc_role_claim``) map to a Debrief role through
``oidc_role_map``; a person with no mapped role is refused. The first login makes a local account without a
password, linked by issuer + subject; every login and refusal is audited.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from assistant import audit
from assistant.auth import PUBLIC, Actor, Role
from assistant.errors import LoginRefused
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import OidcIdentity, User

log = logging.getLogger(__name__)

LOGIN_SECONDS = 600  # how long a person may take at the provider between "Log ind med …" and the callback
CLOCK_SKEW_SECONDS = 60  # the provider's clock may differ from ours by this much (exp, iat, nbf)
# With several matching groups the strongest role wins: a facilitator who is also in a staff group facilitates.
ROLE_STRENGTH = (Role.admin, Role.learning_agent, Role.facilitator, Role.staff, Role.reporter)
NAME_CLAIMS = ("preferred_username", "name", "email")  # what names the local account, first present wins
NO_PASSWORD = ""  # an account only single sign-on opens: no argon2 hash verifies against it


class ProviderMetadata(BaseModel):
    """The parts of the provider's discovery document that the login uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    id_token_signing_alg_values_supported: list[str] = ["RS256"]


class StartedLogin(BaseModel):
    """Where to send the browser, and the state it must bring back (kept in a cookie to bind it to this browser)."""

    url: str
    state: str


@dataclass(frozen=True)
class _Pending:
    nonce: str
    code_verifier: str
    redirect_uri: str
    started: float


def is_configured(settings: Settings) -> bool:
    """Whether the login page offers single sign-on (an issuer and a client id are set)."""
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def provider_name(settings: Settings) -> str:
    """What the login button calls the provider: the configured name, else the issuer's host."""
    return settings.oidc_provider_name or urlsplit(settings.oidc_issuer or "").hostname or "SSO"


def role_for(claims: dict[str, Any], claim: str, role_map: dict[str, str]) -> Role | None:
    """The strongest Debrief role the ``claim`` values map to (a string or a list of them), else None."""
    values = claims.get(claim)
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return None
    granted = {Role(role_map[value]) for value in values if isinstance(value, str) and value in role_map}
    return next((role for role in ROLE_STRENGTH if role in granted), None)


class SingleSignOn:
    """The login with one OpenID Connect provider; the web app only calls :meth:`start` and :meth:`finish`."""

    def __init__(self, settings: Settings, db: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not is_configured(settings):
            raise ValueError("single sign-on needs oidc_issuer and oidc_client_id")
        self.settings = settings
        self.db = db
        self.clock = clock
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id: str = settings.oidc_client_id
        self.name = provider_name(settings)
        self._pending: dict[str, _Pending] = {}
        self._metadata: ProviderMetadata | None = None
        self._jwks: dict[str, Any] | None = None
        self._lock = threading.Lock()

    # -- talking to the provider ---------------------------------------------------------------------------------

    def _refused(self, key: str, **params: Any) -> LoginRefused:
        return LoginRefused(key, **({"provider": self.name} | params))

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = httpx.get(url, timeout=self.settings.oidc_timeout_seconds, follow_redirects=False)
            answer.raise_for_status()
            return answer.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("identity provider did not answer %s: %s", url, error)
            raise self._refused("sso.provider_unavailable") from error

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document, fetched once; its issuer must be the configured one."""
        if self._metadata is None:
            document = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            try:
                metadata = ProviderMetadata.model_validate(document)
            except ValidationError as error:
                log.warning("identity provider's discovery document is unusable: %s", error)
                raise self._refused("sso.provider_unavailable") from error
            if metadata.issuer.rstrip("/") != self.issuer:
                log.warning("identity provider calls itself %r, not the configured %r", metadata.issuer, self.issuer)
                raise self._refused("sso.refused", reason="issuer")
            self._metadata = metadata
        return self._metadata

    def _keys(self, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            self._jwks = self._get_json(self.metadata().jwks_uri)
        return KeySet.import_key_set(self._jwks)

    def _client(self, redirect_uri: str) -> OAuth2Client:
        secret = self.settings.oidc_client_secret
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=self.settings.oidc_scopes, redirect_uri=redirect_uri, code_challenge_method="S256",
            timeout=self.settings.oidc_timeout_seconds,
        )

    # -- the flow ------------------------------------------------------------------------------------------------

    def start(self, redirect_uri: str) -> StartedLogin:
        """Begin a login: a fresh state, nonce and PKCE verifier, and the provider's address to send the browser to."""
        metadata = self.metadata()
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        verifier = verifier + secrets.token_urlsafe(32)  # RFC 7636 wants 43-128 characters
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(metadata.authorization_endpoint, state=state,
                                                     code_verifier=verifier, nonce=nonce)
        now = self.clock()
        with self._lock:
            self._pending = {key: p for key, p in self._pending.items() if now - p.started < LOGIN_SECONDS}
            self._pending[state] = _Pending(nonce, verifier, redirect_uri, now)
        return StartedLogin(url=url, state=state)

    def finish(self, state: str, code: str, browser_state: str | None) -> Actor:
        """End a login at the callback: exchange the code, check the ID token, map the role, open the account.

        ``browser_state`` is the state this browser was given at :meth:`start` (its cookie); it must match, so a
        callback link made for someone else's login cannot log this browser in.
        """
        with self._lock:
            pending = self._pending.pop(state, None) if state else None
        fresh = pending is not None and self.clock() - pending.started < LOGIN_SECONDS
        if not fresh or not browser_state or not hmac.compare_digest(state.encode(), browser_state.encode()):
            raise self._refused("sso.login_expired")
        try:
            with self._client(pending.redirect_uri) as client:
                token = client.fetch_token(self.metadata().token_endpoint, grant_type="authorization_code",
                                           code=code, code_verifier=pending.code_verifier)
        except OAuthError as error:
            self._audit_refusal(PUBLIC, None, f"token endpoint: {error.error}")
            raise self._refused("sso.refused", reason=error.error or "token") from error
        except httpx.HTTPError as error:
            log.warning("identity provider's token endpoint did not answer: %s", error)
            raise self._refused("sso.provider_unavailable") from error
        if "id_token" not in token:
            self._audit_refusal(PUBLIC, None, "no id_token")
            raise self._refused("sso.refused", reason="id_token")
        claims = self.verify_id_token(token["id_token"], pending.nonce, token.get("access_token"))
        return self.sign_in(claims)

    def verify_id_token(self, id_token: str, nonce: str, access_token: str | None = None) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, expiry and nonce check out; else refused."""
        metadata = self.metadata()
        algorithms = [alg for alg in metadata.id_token_signing_alg_values_supported if alg.lower() != "none"]
        try:
            try:
                decoded = jwt.decode(id_token, self._keys(), algorithms=algorithms)
            except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
                decoded = jwt.decode(id_token, self._keys(refresh=True), algorithms=algorithms)
            options = {"iss": {"essential": True, "value": metadata.issuer},
                       "aud": {"essential": True, "value": self.client_id},
                       "sub": {"essential": True}, "exp": {"essential": True},
                       "nonce": {"essential": True, "value": nonce}}
            params = {"nonce": nonce, "client_id": self.client_id}
            if access_token:
                params["access_token"] = access_token
            CodeIDToken(decoded.claims, decoded.header, options, params).validate(leeway=CLOCK_SKEW_SECONDS)
        except (JoseError, ValueError) as error:
            reason = getattr(error, "error", None) or type(error).__name__
            claim = getattr(error, "claim", None)
            reason = f"{reason}: {claim}" if claim else reason
            log.warning("ID token from %s refused: %s", self.issuer, error)
            self._audit_refusal(PUBLIC, None, f"id token: {reason}")
            raise self._refused("sso.refused", reason=reason) from error
        return dict(decoded.claims)

    def sign_in(self, claims: dict[str, Any]) -> Actor:
        """The local account for verified ``claims``: linked by issuer + subject, made on the first login, its role
        set from the provider each time. Refused (and audited) when no role maps or the account is deactivated."""
        subject = str(claims["sub"])
        issuer = str(claims["iss"])
        shown = next((str(claims[c]) for c in NAME_CLAIMS if isinstance(claims.get(c), str) and claims[c].strip()),
                     subject).strip()[:100]
        role = role_for(claims, self.settings.oidc_role_claim, self.settings.oidc_role_map)
        identity = {"issuer": issuer, "subject": subject}
        if role is None:
            self._audit_refusal(Actor(name=shown), identity, "no mapped role")
            raise self._refused("sso.no_role")
        with self.db.session() as session:
            link = session.get(OidcIdentity, (issuer, subject))
            user = session.get(User, link.user_id) if link else None
            if user is not None and not user.active:
                actor = Actor(user_id=user.id, name=user.name, role=Role(user.role))
                audit.record(session, actor, "sso_login_refused", after=identity | {"reason": "account inactive"})
                session.commit()
                raise self._refused("sso.account_inactive")
            if user is None:
                user = User(name=_free_name(session, shown), role=role.value, password_hash=NO_PASSWORD)
                session.add(user)
                session.flush()
                session.add(OidcIdentity(issuer=issuer, subject=subject, user_id=user.id))
                audit.record(session, Actor(user_id=user.id, name=user.name, role=role), "sso_user_created",
                             after=identity | {"role": role.value})
            before = user.role
            user.role = role.value  # the provider decides: a person moved out of a group loses its role next login
            actor = Actor(user_id=user.id, name=user.name, role=role)
            audit.record(session, actor, "sso_login", before={"role": before} if before != role.value else None,
                         after=identity | {"role": role.value})
        return actor

    def _audit_refusal(self, actor: Actor, identity: dict[str, str] | None, reason: str) -> None:
        with self.db.session() as session:
            audit.record(session, actor, "sso_login_refused", after=(identity or {}) | {"reason": reason})


def _free_name(session, wanted: str) -> str:
    """``wanted``, or ``wanted (2)`` … when a local account has the name: a login never takes over an account
    that single sign-on did not make."""
    name, number = wanted, 1
    while session.scalar(select(User.id).where(User.name == name)) is not None:
        number += 1
        name = f"{wanted} ({number})"
    return name
