"""Authentication (bearer JWTs) and authorisation (roles, tenants, branches).

Authentication: every request to the command and read paths carries
``Authorization: Bearer <JWT>``. :class:`TokenVerifier` accepts exactly one
algorithm, the configured one (HS256 with a shared secret, or RS256 with a static
public key or a JWKS endpoint); the token's own ``alg`` header is only compared with
it, never trusted, so ``alg: none`` and HS256 signed with the RS256 public key (key
confusion) are refused. It requires ``exp``, ``iat``, ``iss``, ``aud`` and ``sub`` and
the MyMedic claims:

- ``tenant``: the tenant id (str);
- ``role``: one of :class:`Role`;
- ``branches``: a list of branch ids; absent or ``"*"`` (every branch of the tenant)
  only for ``admin`` and ``analyst``.

Failures are :class:`AuthError` with status 401 and a code naming the problem
(``missing_token``, ``invalid_token``, ``invalid_signature``, ``invalid_algorithm``,
``expired_token``, ``token_not_yet_valid``, ``invalid_issuer``, ``invalid_audience``,
``missing_claim``, ``invalid_claim``, ``unknown_key``); the token itself is never
echoed. A JWKS endpoint that cannot be reached (or serves no usable keys) is
:class:`AuthUnavailable`, which the caller maps to 503: it is our outage, not the
client's fault.

Authorisation: :func:`authorize` (commands) and :func:`authorize_read` (read models)
raise :class:`AuthError` with status 403 and a code: ``wrong_tenant`` (the request's
tenant is not the token's), ``branch_not_allowed`` (the branch is not in the token's
branches), ``role_not_allowed`` (the role may not run the command), ``not_own_record``
(a patient acting on or reading another patient), ``unknown_command`` (a command with
no policy: denied by default).

Command policy (``COMMAND_ROLES``; "own" = a patient only for their own record,
``patient_id == principal.subject``; every role is limited to its token's branches):

=========================  =====  =====  ======  =======  =========  =======
command                    admin  staff  doctor  patient  marketing  analyst
=========================  =====  =====  ======  =======  =========  =======
register_branch            yes    -      -       -        -          -
register_clinician         yes    -      -       -        -          -
register_room              yes    -      -       -        -          -
update_price_list          yes    -      -       -        -          -
set_cancellation_policy    all    -      -       -        -          -
set_snapshot_schedule      all    -      -       -        -          -
remove_snapshot_schedule   all    -      -       -        -          -
set_alert_rule             all    -      -       -        -          -
remove_alert_rule          all    -      -       -        -          -
unblock_clinician_time     yes    yes    -       -        -          -
register_patient           yes    yes    -       own      -          -
book_appointment           yes    yes    -       own      -          -
reschedule_appointment     yes    yes    yes     own      -          -
cancel_appointment         yes    yes    -       own      -          -
mark_arrived               yes    yes    yes     -        -          -
complete_appointment       yes    yes    yes     -        -          -
mark_no_show               yes    yes    yes     -        -          -
schedule_follow_up         yes    yes    yes     -        -          -
block_clinician_time       yes    yes    -       -        -          -
issue_invoice              yes    yes    -       -        -          -
capture_payment            yes    yes    -       -        -          -
refund_payment             yes    -      -       -        -          -
take_payment               yes    yes    -       -        -          -
refund_appointment_payment yes    -      -       -        -          -
record_referral            yes    yes    -       -        -          -
record_nps_response        yes    yes    -       own      -          -
record_marketing_touch     yes    -      -       -        yes        -
=========================  =====  =====  ======  =======  =========  =======

"all": the tenant-wide cancellation policy, snapshot e-mail schedules and alert rules
need a token for every branch (their ``branch_id`` is ``*``).

Money going out (refunds) and prices are the clinic manager's (admin's) decision; the
front desk (staff) runs the day: registrations, bookings, arrivals, invoices and
payments. Doctors run their own clinical flow. Analysts read and never write;
marketing only records touches. For the patient's "own" commands the caller passes the
patient the command concerns: the command's ``patient_id`` for registrations,
bookings and NPS responses, and the appointment's patient (from its stream) for
reschedules and cancellations; with no ``patient_id`` a patient is refused.

Read policy (``READ_ROLES``): every role but ``patient`` reads branch data
(``ReadScope.BRANCH``) within its branches, and tenant-wide data (``branch_id=None``)
only when it holds every branch (admin, analyst); a patient reads only their own
record (``ReadScope.OWN``), tenant-wide or within one of their branches.

Webhooks (Stripe, Razorpay, Zoho) authenticate with their own signatures, not here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_pem_public_key,
)

from mymedic.settings import Settings

__all__ = [
    "COMMAND_ROLES",
    "PATIENT_OWN_COMMANDS",
    "READ_ROLES",
    "AuthConfig",
    "AuthError",
    "AuthUnavailable",
    "Principal",
    "ReadScope",
    "Role",
    "TokenVerifier",
    "auth_config",
    "authorize",
    "authorize_read",
    "issue_token",
]

Algorithm = Literal["HS256", "RS256"]
# RFC 7518 3.2: an HS256 key must be at least as long as the hash output.
MIN_HS256_SECRET_BYTES = 32
ALL_BRANCHES = "*"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
# Far above any real token of ours; bounds the work an unauthenticated caller can cause.
MAX_TOKEN_CHARS = 8192


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    MARKETING = "marketing"
    STAFF = "staff"
    DOCTOR = "doctor"
    PATIENT = "patient"


# The only roles whose tokens may cover every branch of their tenant.
ALL_BRANCH_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.ANALYST})


@dataclass(frozen=True)
class Principal:
    """Who is calling: the verified claims of a token."""

    subject: str
    tenant_id: str
    role: Role
    # None: every branch of the tenant (admin and analyst only).
    branches: frozenset[str] | None
    token_id: str | None = None

    def __post_init__(self) -> None:
        if self.branches is None and self.role not in ALL_BRANCH_ROLES:
            raise ValueError(f"a {self.role} principal must list its branches")


class AuthError(Exception):
    """401 (who are you?) or 403 (you may not), with a code and a message for the body."""

    def __init__(self, status: Literal[401, 403], code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status: int = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}

    @property
    def www_authenticate(self) -> str | None:
        """The ``WWW-Authenticate`` header of a 401 (RFC 6750), None for a 403."""
        if self.status != 401:
            return None
        if self.code == "missing_token":
            return 'Bearer realm="mymedic"'
        description = self.message.replace("\\", "").replace('"', "'")
        return f'Bearer realm="mymedic", error="invalid_token", error_description="{description}"'


class AuthUnavailable(Exception):
    """The keys to verify tokens cannot be fetched (JWKS down or broken): HTTP 503."""

    status = 503


def _unauthenticated(code: str, message: str) -> AuthError:
    return AuthError(401, code, message)


def _forbidden(code: str, message: str) -> AuthError:
    return AuthError(403, code, message)


@dataclass(frozen=True)
class AuthConfig:
    algorithm: Algorithm
    issuer: str
    audience: str
    secret: str | None = None
    public_key_pem: str | None = None
    jwks_url: str | None = None
    leeway_seconds: int = 30
    jwks_timeout_seconds: float = 5.0
    jwks_cache_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.algorithm == "HS256":
            if not self.secret:
                raise ValueError("HS256 needs a secret (MYMEDIC_JWT_SECRET)")
            if len(self.secret.encode()) < MIN_HS256_SECRET_BYTES:
                raise ValueError(
                    f"the HS256 secret must be at least {MIN_HS256_SECRET_BYTES} bytes"
                )
            if self.public_key_pem or self.jwks_url:
                raise ValueError("HS256 takes a secret, not a public key or a JWKS URL")
        elif self.algorithm == "RS256":
            if bool(self.public_key_pem) == bool(self.jwks_url):
                raise ValueError(
                    "RS256 needs exactly one of a public key (MYMEDIC_JWT_PUBLIC_KEY) "
                    "or a JWKS URL (MYMEDIC_JWT_JWKS_URL)"
                )
            if self.secret:
                raise ValueError("RS256 takes a public key or a JWKS URL, not a secret")
        else:
            raise ValueError(f"unsupported JWT algorithm {self.algorithm!r}")
        if not self.issuer or not self.audience:
            raise ValueError("the JWT issuer and audience must not be empty")
        if not 0 <= self.leeway_seconds <= 300:
            raise ValueError("the JWT leeway must be between 0 and 300 seconds")
        if self.jwks_timeout_seconds <= 0 or self.jwks_cache_seconds <= 0:
            raise ValueError("the JWKS timeout and cache lifetime must be positive")

    def __repr__(self) -> str:
        # The secret must never reach a log line.
        secret = "'**********'" if self.secret else "None"
        return (
            f"AuthConfig(algorithm={self.algorithm!r}, issuer={self.issuer!r}, "
            f"audience={self.audience!r}, secret={secret}, "
            f"public_key_pem={'<pem>' if self.public_key_pem else None}, "
            f"jwks_url={self.jwks_url!r}, leeway_seconds={self.leeway_seconds})"
        )


def _plain(value: Any) -> Any:
    """The value of a pydantic SecretStr, or the value itself."""
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else value


def auth_config(settings: Settings) -> AuthConfig:
    """The :class:`AuthConfig` of these settings (``MYMEDIC_JWT_*``).

    Reads optional fields with defaults, so it works whether or not ``Settings``
    declares ``jwt_algorithm``, ``jwt_issuer``, ``jwt_audience``, ``jwt_public_key``,
    ``jwt_jwks_url``, ``jwt_leeway_seconds`` and ``jwt_jwks_timeout_seconds`` yet.
    Raises ``ValueError`` naming the missing or inconsistent setting.
    """
    algorithm = str(getattr(settings, "jwt_algorithm", "HS256")).upper()
    if algorithm not in ("HS256", "RS256"):
        raise ValueError(f"MYMEDIC_JWT_ALGORITHM must be HS256 or RS256, not {algorithm!r}")
    secret = _plain(getattr(settings, "jwt_secret", None))
    public_key = _plain(getattr(settings, "jwt_public_key", None))
    jwks_url = getattr(settings, "jwt_jwks_url", None)
    return AuthConfig(
        algorithm="HS256" if algorithm == "HS256" else "RS256",
        # A secret is only meaningful for HS256; an RS256 deployment may still have one
        # set for other reasons, and must not be refused for it.
        secret=(str(secret) if secret else None) if algorithm == "HS256" else None,
        public_key_pem=str(public_key) if public_key else None,
        jwks_url=str(jwks_url) if jwks_url else None,
        issuer=str(getattr(settings, "jwt_issuer", "mymedic")),
        audience=str(getattr(settings, "jwt_audience", "mymedic-api")),
        leeway_seconds=int(getattr(settings, "jwt_leeway_seconds", 30)),
        jwks_timeout_seconds=float(getattr(settings, "jwt_jwks_timeout_seconds", 5.0)),
    )


class TokenVerifier:
    """Verifies ``Authorization: Bearer`` headers into :class:`Principal` s.

    Build one per process and reuse it: with a JWKS URL it caches the key set
    (``jwks_cache_seconds``) and refetches on an unknown key id at most once per
    cooldown. Construction does no I/O.
    """

    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        self._key: str | RSAPublicKey | None = None
        self._jwks: jwt.PyJWKClient | None = None
        if config.algorithm == "HS256":
            self._key = config.secret
        elif config.public_key_pem:
            key = load_pem_public_key(config.public_key_pem.encode())
            if not isinstance(key, RSAPublicKey):
                raise ValueError("the RS256 public key is not an RSA public key")
            self._key = key
        else:
            assert config.jwks_url is not None  # noqa: S101 (AuthConfig guarantees it)
            self._jwks = jwt.PyJWKClient(
                config.jwks_url,
                cache_keys=True,
                cache_jwk_set=True,
                lifespan=config.jwks_cache_seconds,
                timeout=config.jwks_timeout_seconds,
            )

    @property
    def config(self) -> AuthConfig:
        return self._config

    def verify(self, authorization_header: str | None) -> Principal:
        token = _bearer_token(authorization_header)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _unauthenticated("invalid_token", "the token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm != self._config.algorithm:
            raise _unauthenticated(
                "invalid_algorithm",
                f"tokens must be signed with {self._config.algorithm}",
            )
        key = self._static_key() if self._jwks is None else self._jwks_key(header)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[self._config.algorithm],
                audience=self._config.audience,
                issuer=self._config.issuer,
                leeway=self._config.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise _decode_error(exc) from None
        return _principal(claims)

    def _static_key(self) -> str | RSAPublicKey:
        assert self._key is not None  # noqa: S101 (set in __init__ when there is no JWKS)
        return self._key

    def _jwks_key(self, header: dict[str, Any]) -> RSAPublicKey:
        assert self._jwks is not None  # noqa: S101
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _unauthenticated("unknown_key", "the token names no key id (kid)")
        try:
            # Fails here, not below, when the endpoint is down or serves no keys.
            self._jwks.get_signing_keys()
        except (jwt.PyJWTError, ValueError) as exc:
            raise AuthUnavailable(
                f"the JWKS endpoint gave no usable keys: {type(exc).__name__}"
            ) from exc
        try:
            signing_key = self._jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthUnavailable("the JWKS endpoint cannot be reached") from exc
        except (jwt.PyJWKClientError, jwt.PyJWKSetError):
            raise _unauthenticated(
                "unknown_key", "the token's key id is not among the issuer's keys"
            ) from None
        key = signing_key.key
        if not isinstance(key, RSAPublicKey):
            raise _unauthenticated("unknown_key", "the token's key is not an RSA key")
        return key


def _bearer_token(authorization_header: str | None) -> str:
    if authorization_header is None or not authorization_header.strip():
        raise _unauthenticated("missing_token", "an Authorization: Bearer token is required")
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise _unauthenticated("invalid_token", "the Authorization scheme must be Bearer")
    token = token.strip()
    if not token:
        raise _unauthenticated("missing_token", "the Bearer token is empty")
    if len(token) > MAX_TOKEN_CHARS:
        raise _unauthenticated("invalid_token", "the token is too long")
    return token


def _decode_error(exc: jwt.PyJWTError) -> AuthError:
    # Our own messages: PyJWT's could one day quote parts of the token.
    if isinstance(exc, jwt.ExpiredSignatureError):
        return _unauthenticated("expired_token", "the token has expired")
    if isinstance(exc, jwt.ImmatureSignatureError):
        return _unauthenticated("token_not_yet_valid", "the token is not valid yet")
    if isinstance(exc, jwt.InvalidIssuerError):
        return _unauthenticated("invalid_issuer", "the token's issuer (iss) is not accepted")
    if isinstance(exc, jwt.InvalidAudienceError):
        return _unauthenticated("invalid_audience", "the token's audience (aud) is not this API")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return _unauthenticated("missing_claim", f"the token has no {exc.claim!r} claim")
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return _unauthenticated("invalid_algorithm", "the token's algorithm is not accepted")
    if isinstance(exc, jwt.InvalidSignatureError):
        return _unauthenticated("invalid_signature", "the token's signature does not verify")
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return _unauthenticated("invalid_claim", "the token's issued-at (iat) is not a time")
    if isinstance(exc, jwt.exceptions.InvalidJTIError):
        return _unauthenticated("invalid_claim", "the token's id (jti) is not a string")
    if isinstance(exc, jwt.exceptions.InvalidSubjectError):
        return _unauthenticated("invalid_claim", "the token's subject (sub) is not a string")
    return _unauthenticated("invalid_token", "the token cannot be decoded")


def _claim_error(message: str) -> AuthError:
    return _unauthenticated("invalid_claim", message)


def _principal(claims: Mapping[str, Any]) -> Principal:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise _claim_error("the token's subject (sub) must be a non-empty string")
    tenant = claims.get("tenant")
    if tenant is None:
        raise _unauthenticated("missing_claim", "the token has no 'tenant' claim")
    if not isinstance(tenant, str) or not tenant:
        raise _claim_error("the token's 'tenant' claim must be a non-empty string")
    raw_role = claims.get("role")
    if raw_role is None:
        raise _unauthenticated("missing_claim", "the token has no 'role' claim")
    try:
        role = Role(raw_role)
    except ValueError:
        raise _claim_error(f"the token's 'role' claim must be one of {', '.join(Role)}") from None
    branches = _branches(claims.get("branches", ALL_BRANCHES), role)
    token_id = claims.get("jti")
    if token_id is not None and not isinstance(token_id, str):
        raise _claim_error("the token's id (jti) must be a string")
    return Principal(
        subject=subject, tenant_id=tenant, role=role, branches=branches, token_id=token_id
    )


def _branches(raw: Any, role: Role) -> frozenset[str] | None:
    if raw == ALL_BRANCHES:
        if role not in ALL_BRANCH_ROLES:
            raise _claim_error(f"a {role} token must list its branches")
        return None
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(branch, str) and branch for branch in raw)
    ):
        raise _claim_error("the token's 'branches' claim must be a non-empty list of branch ids")
    if ALL_BRANCHES in raw:
        raise _claim_error("'*' stands alone: it is not a branch id inside a list")
    return frozenset(raw)


def issue_token(
    config: AuthConfig,
    *,
    subject: str,
    tenant_id: str,
    role: Role | str,
    branches: frozenset[str] | set[str] | list[str] | None,
    ttl_seconds: int = 3600,
    now: datetime | None = None,
    private_key_pem: str | None = None,
    key_id: str | None = None,
    token_id: str | None = None,
) -> str:
    """A signed token for local development, the demo and tests.

    HS256 signs with ``config.secret``; RS256 needs ``private_key_pem`` (the private
    half of the configured public key or of a JWKS key, named by ``key_id``).
    """
    role = Role(role)
    if branches is None and role not in ALL_BRANCH_ROLES:
        raise ValueError(f"a {role} token must list its branches")
    if branches is not None and not branches:
        raise ValueError("branches must not be empty (None means every branch)")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued_at = now if now is not None else datetime.now(UTC)
    if issued_at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    claims: dict[str, Any] = {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": subject,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + timedelta(seconds=ttl_seconds),
        "jti": token_id or uuid.uuid4().hex,
        "tenant": tenant_id,
        "role": role.value,
        "branches": ALL_BRANCHES if branches is None else sorted(branches),
    }
    headers = {"kid": key_id} if key_id else None
    if config.algorithm == "HS256":
        assert config.secret is not None  # noqa: S101 (AuthConfig guarantees it)
        return jwt.encode(claims, config.secret, algorithm="HS256", headers=headers)
    if not private_key_pem:
        raise ValueError("RS256 tokens need private_key_pem")
    private_key = load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(private_key, RSAPrivateKey):
        raise ValueError("private_key_pem is not an RSA private key")
    return jwt.encode(claims, private_key, algorithm="RS256", headers=headers)


# --- authorisation -------------------------------------------------------------------

_A, _S, _D, _P, _M = Role.ADMIN, Role.STAFF, Role.DOCTOR, Role.PATIENT, Role.MARKETING

COMMAND_ROLES: dict[str, frozenset[Role]] = {
    "register_patient": frozenset({_A, _S, _P}),
    "book_appointment": frozenset({_A, _S, _P}),
    "reschedule_appointment": frozenset({_A, _S, _D, _P}),
    "cancel_appointment": frozenset({_A, _S, _P}),
    "mark_arrived": frozenset({_A, _S, _D}),
    "complete_appointment": frozenset({_A, _S, _D}),
    "mark_no_show": frozenset({_A, _S, _D}),
    "schedule_follow_up": frozenset({_A, _S, _D}),
    "block_clinician_time": frozenset({_A, _S}),
    "unblock_clinician_time": frozenset({_A, _S}),
    "register_branch": frozenset({_A}),
    "register_clinician": frozenset({_A}),
    "register_room": frozenset({_A}),
    "set_cancellation_policy": frozenset({_A}),
    "set_snapshot_schedule": frozenset({_A}),
    "remove_snapshot_schedule": frozenset({_A}),
    "set_alert_rule": frozenset({_A}),
    "remove_alert_rule": frozenset({_A}),
    "take_payment": frozenset({_A, _S}),
    "refund_appointment_payment": frozenset({_A}),
    "issue_invoice": frozenset({_A, _S}),
    "capture_payment": frozenset({_A, _S}),
    "refund_payment": frozenset({_A}),
    "issue_credit_note": frozenset({_A}),
    "set_billing_policy": frozenset({_A}),
    "update_price_list": frozenset({_A}),
    "record_referral": frozenset({_A, _S}),
    "record_nps_response": frozenset({_A, _S, _P}),
    "record_marketing_touch": frozenset({_A, _M}),
}

# Commands a patient may run only for their own record (patient_id == subject).
PATIENT_OWN_COMMANDS: frozenset[str] = frozenset(
    name for name, roles in COMMAND_ROLES.items() if Role.PATIENT in roles
)


class ReadScope(StrEnum):
    BRANCH = "branch"  # any record of the branches the token holds
    OWN = "own"  # only the caller's own patient record


READ_ROLES: dict[Role, ReadScope] = {
    Role.ADMIN: ReadScope.BRANCH,
    Role.ANALYST: ReadScope.BRANCH,
    Role.MARKETING: ReadScope.BRANCH,
    Role.STAFF: ReadScope.BRANCH,
    Role.DOCTOR: ReadScope.BRANCH,
    Role.PATIENT: ReadScope.OWN,
}


def _check_tenant(principal: Principal, tenant_id: str) -> None:
    if tenant_id != principal.tenant_id:
        raise _forbidden("wrong_tenant", "the token is not for this tenant")


def _check_branch(principal: Principal, branch_id: str) -> None:
    if principal.branches is not None and branch_id not in principal.branches:
        raise _forbidden("branch_not_allowed", f"the token does not cover branch {branch_id!r}")


def _check_own(principal: Principal, patient_id: str | None) -> None:
    if patient_id is None or patient_id != principal.subject:
        raise _forbidden("not_own_record", "a patient may act only on their own record")


def authorize(
    principal: Principal,
    *,
    command: str,
    tenant_id: str,
    branch_id: str,
    patient_id: str | None = None,
) -> None:
    """Raise :class:`AuthError` (403) unless ``principal`` may run ``command`` there.

    ``patient_id`` is the patient the command concerns; it is checked only for a
    patient principal (see the module docstring for where it comes from).
    """
    _check_tenant(principal, tenant_id)
    roles = COMMAND_ROLES.get(command)
    if roles is None:
        raise _forbidden("unknown_command", f"no role may run {command!r}")
    if principal.role not in roles:
        raise _forbidden("role_not_allowed", f"a {principal.role} may not run {command}")
    _check_branch(principal, branch_id)
    if principal.role is Role.PATIENT:
        _check_own(principal, patient_id)


def authorize_read(
    principal: Principal,
    *,
    tenant_id: str,
    branch_id: str | None = None,
    patient_id: str | None = None,
) -> None:
    """Raise :class:`AuthError` (403) unless ``principal`` may read this data.

    ``branch_id=None`` is a tenant-wide read; ``patient_id`` names the patient whose
    record is read (None: not one patient's record, e.g. a calendar).
    """
    _check_tenant(principal, tenant_id)
    scope = READ_ROLES.get(principal.role)
    if scope is ReadScope.OWN:
        _check_own(principal, patient_id)
        if branch_id is not None:
            _check_branch(principal, branch_id)
        return
    if scope is not ReadScope.BRANCH:
        raise _forbidden("role_not_allowed", f"a {principal.role} may not read this")
    if branch_id is None:
        if principal.branches is not None:
            raise _forbidden(
                "branch_not_allowed", "a tenant-wide read needs a token for every branch"
            )
        return
    _check_branch(principal, branch_id)
