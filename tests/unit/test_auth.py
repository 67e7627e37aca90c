"""Bearer-token authentication and the role, tenant and branch policy (mymedic.app.auth)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from mymedic.app.auth import (
    COMMAND_ROLES,
    READ_ROLES,
    AuthConfig,
    AuthError,
    AuthUnavailable,
    Principal,
    ReadScope,
    Role,
    TokenVerifier,
    auth_config,
    authorize,
    authorize_read,
    issue_token,
)
from mymedic.domain.commands import COMMANDS
from mymedic.settings import Settings

# Synthetic, 64 bytes: long enough for HS512 too (the algorithm-confusion tests).
SECRET = "synthetic-test-secret-" + "0123456789abcdef" * 2 + "0123456789"
ISSUER = "mymedic-test"
AUDIENCE = "mymedic-api"
TENANT = "t-north"
BRANCH = "b-1"
OTHER_BRANCH = "b-2"


# --- keys and helpers ----------------------------------------------------------------


@dataclass(frozen=True)
class RsaKeys:
    private_pem: str
    public_pem: str
    public_key: rsa.RSAPublicKey


def _rsa_keys() -> RsaKeys:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_key = private_key.public_key()
    public_pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return RsaKeys(private_pem, public_pem, public_key)


@pytest.fixture(scope="module")
def rsa_keys() -> RsaKeys:
    return _rsa_keys()


@pytest.fixture(scope="module")
def other_rsa_keys() -> RsaKeys:
    return _rsa_keys()


@pytest.fixture
def hs_config() -> AuthConfig:
    return AuthConfig(algorithm="HS256", secret=SECRET, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def rs_config(rsa_keys: RsaKeys) -> AuthConfig:
    return AuthConfig(
        algorithm="RS256", public_key_pem=rsa_keys.public_pem, issuer=ISSUER, audience=AUDIENCE
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def valid_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u-1",
        "iat": now,
        "exp": now + 600,
        "tenant": TENANT,
        "role": "staff",
        "branches": [BRANCH],
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def hs_token(claims: dict[str, Any], algorithm: str = "HS256") -> str:
    return jwt.encode(claims, SECRET, algorithm=algorithm)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def refused(verifier: TokenVerifier, header: str | None, code: str, status: int = 401) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verifier.verify(header)
    error = caught.value
    assert (error.status, error.code) == (status, code), error
    # The token never comes back in an error.
    if header and " " in header:
        token = header.split(" ", 1)[1]
        if len(token) > 8:
            assert token not in str(error)
            assert token not in error.message
            assert token not in (error.www_authenticate or "")
    return error


# --- valid tokens --------------------------------------------------------------------


def test_a_valid_hs256_token_gives_its_principal(hs_config: AuthConfig) -> None:
    token = issue_token(
        hs_config,
        subject="u-7",
        tenant_id=TENANT,
        role=Role.STAFF,
        branches={BRANCH, OTHER_BRANCH},
        token_id="tok-1",  # noqa: S106
    )
    principal = TokenVerifier(hs_config).verify(bearer(token))
    assert principal == Principal(
        subject="u-7",
        tenant_id=TENANT,
        role=Role.STAFF,
        branches=frozenset({BRANCH, OTHER_BRANCH}),
        token_id="tok-1",  # noqa: S106
    )


def test_a_valid_rs256_token_gives_its_principal(rs_config: AuthConfig, rsa_keys: RsaKeys) -> None:
    token = issue_token(
        rs_config,
        subject="dr-3",
        tenant_id=TENANT,
        role="doctor",
        branches=[BRANCH],
        private_key_pem=rsa_keys.private_pem,
    )
    principal = TokenVerifier(rs_config).verify(bearer(token))
    assert (principal.subject, principal.role, principal.branches) == (
        "dr-3",
        Role.DOCTOR,
        frozenset({BRANCH}),
    )
    assert principal.token_id  # issue_token always sets a jti


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST])
def test_admin_and_analyst_tokens_may_cover_every_branch(hs_config: AuthConfig, role: Role) -> None:
    verifier = TokenVerifier(hs_config)
    token = issue_token(hs_config, subject="u-1", tenant_id=TENANT, role=role, branches=None)
    assert verifier.verify(bearer(token)).branches is None
    no_claim = hs_token(valid_claims(role=role.value, branches=None))
    assert verifier.verify(bearer(no_claim)).branches is None


def test_the_scheme_is_case_insensitive(hs_config: AuthConfig) -> None:
    token = issue_token(hs_config, subject="u", tenant_id=TENANT, role="staff", branches=[BRANCH])
    assert TokenVerifier(hs_config).verify(f"bearer  {token} ").subject == "u"


def test_an_expiry_within_the_leeway_is_accepted(hs_config: AuthConfig) -> None:
    issued = datetime.now(UTC) - timedelta(seconds=70)
    token = issue_token(
        hs_config,
        subject="u",
        tenant_id=TENANT,
        role="staff",
        branches=[BRANCH],
        ttl_seconds=60,  # expired 10 s ago, leeway 30 s
        now=issued,
    )
    assert TokenVerifier(hs_config).verify(bearer(token)).subject == "u"


# --- refused tokens ------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer   "])
def test_a_missing_token_is_401(hs_config: AuthConfig, header: str | None) -> None:
    error = refused(TokenVerifier(hs_config), header, "missing_token")
    assert error.www_authenticate == 'Bearer realm="mymedic"'


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer:"])
def test_a_scheme_other_than_bearer_is_refused(hs_config: AuthConfig, scheme: str) -> None:
    token = issue_token(hs_config, subject="u", tenant_id=TENANT, role="staff", branches=[BRANCH])
    error = refused(TokenVerifier(hs_config), f"{scheme} {token}", "invalid_token")
    assert "Bearer" in error.message


@pytest.mark.parametrize(
    "garbage",
    [
        "not-a-jwt",
        "a.b.c",
        "....",
        "eyJhbGciOiJIUzI1NiJ9.e30",
        "Zm9v.YmFy.YmF6",
        "🔑.🔑.🔑",
        "eyJhbGciOiJIUzI1NiJ9." + "A" * 9000 + ".sig",
    ],
)
def test_garbage_is_refused(hs_config: AuthConfig, garbage: str) -> None:
    refused(TokenVerifier(hs_config), bearer(garbage), "invalid_token")


def test_an_expired_token_is_refused(hs_config: AuthConfig) -> None:
    token = issue_token(
        hs_config,
        subject="u",
        tenant_id=TENANT,
        role="staff",
        branches=[BRANCH],
        ttl_seconds=60,
        now=datetime.now(UTC) - timedelta(seconds=60 + 31 + 5),  # beyond the 30 s leeway
    )
    error = refused(TokenVerifier(hs_config), bearer(token), "expired_token")
    assert error.www_authenticate is not None
    assert 'error="invalid_token"' in error.www_authenticate


def test_a_token_not_yet_valid_is_refused(hs_config: AuthConfig) -> None:
    token = issue_token(
        hs_config,
        subject="u",
        tenant_id=TENANT,
        role="staff",
        branches=[BRANCH],
        now=datetime.now(UTC) + timedelta(minutes=5),
    )
    refused(TokenVerifier(hs_config), bearer(token), "token_not_yet_valid")


def test_a_token_from_another_issuer_is_refused(hs_config: AuthConfig) -> None:
    token = hs_token(valid_claims(iss="https://evil.example"))
    refused(TokenVerifier(hs_config), bearer(token), "invalid_issuer")


def test_a_token_for_another_audience_is_refused(hs_config: AuthConfig) -> None:
    token = hs_token(valid_claims(aud="another-api"))
    refused(TokenVerifier(hs_config), bearer(token), "invalid_audience")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("config_name", ["hs_config", "rs_config"])
def test_alg_none_is_refused(request: pytest.FixtureRequest, config_name: str, alg: str) -> None:
    config: AuthConfig = request.getfixturevalue(config_name)
    unsigned = f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(valid_claims())}."
    refused(TokenVerifier(config), bearer(unsigned), "invalid_algorithm")


def test_hs256_signed_with_the_rs256_public_key_is_refused(
    rs_config: AuthConfig, rsa_keys: RsaKeys
) -> None:
    # Key confusion: the attacker knows the public key and uses it as an HMAC secret.
    signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT'})}.{b64url_json(valid_claims())}"
    for secret in (rsa_keys.public_pem.encode(), rsa_keys.public_pem.strip().encode()):
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{b64url(signature)}"
        refused(TokenVerifier(rs_config), bearer(forged), "invalid_algorithm")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_another_hmac_algorithm_with_the_right_secret_is_refused(
    hs_config: AuthConfig, alg: str
) -> None:
    refused(TokenVerifier(hs_config), bearer(hs_token(valid_claims(), alg)), "invalid_algorithm")


def test_an_rs256_token_is_refused_by_an_hs256_verifier(
    hs_config: AuthConfig, rs_config: AuthConfig, rsa_keys: RsaKeys
) -> None:
    token = issue_token(
        rs_config,
        subject="u",
        tenant_id=TENANT,
        role="staff",
        branches=[BRANCH],
        private_key_pem=rsa_keys.private_pem,
    )
    refused(TokenVerifier(hs_config), bearer(token), "invalid_algorithm")


def test_an_rs256_token_signed_with_another_key_is_refused(
    rs_config: AuthConfig, other_rsa_keys: RsaKeys
) -> None:
    token = issue_token(
        rs_config,
        subject="u",
        tenant_id=TENANT,
        role="staff",
        branches=[BRANCH],
        private_key_pem=other_rsa_keys.private_pem,
    )
    refused(TokenVerifier(rs_config), bearer(token), "invalid_signature")


def test_an_hs256_token_signed_with_another_secret_is_refused(hs_config: AuthConfig) -> None:
    token = jwt.encode(valid_claims(), "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
    refused(TokenVerifier(hs_config), bearer(token), "invalid_signature")


@pytest.mark.parametrize("config_name", ["hs_config", "rs_config"])
def test_a_tampered_payload_is_refused(
    request: pytest.FixtureRequest, config_name: str, rsa_keys: RsaKeys
) -> None:
    config: AuthConfig = request.getfixturevalue(config_name)
    token = issue_token(
        config,
        subject="u",
        tenant_id=TENANT,
        role="staff",
        branches=[BRANCH],
        private_key_pem=rsa_keys.private_pem,
    )
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    claims["branches"] = "*"
    tampered = f"{header}.{b64url_json(claims)}.{signature}"
    refused(TokenVerifier(config), bearer(tampered), "invalid_signature")


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub"])
def test_each_registered_claim_is_required(hs_config: AuthConfig, claim: str) -> None:
    token = hs_token({k: v for k, v in valid_claims().items() if k != claim})
    error = refused(TokenVerifier(hs_config), bearer(token), "missing_claim")
    assert claim in error.message


@pytest.mark.parametrize("claim", ["tenant", "role"])
def test_the_mymedic_claims_are_required(hs_config: AuthConfig, claim: str) -> None:
    token = hs_token({k: v for k, v in valid_claims().items() if k != claim})
    error = refused(TokenVerifier(hs_config), bearer(token), "missing_claim")
    assert claim in error.message


@pytest.mark.parametrize(
    "overrides",
    [
        {"role": "superuser"},
        {"role": "ADMIN"},
        {"role": 1},
        {"tenant": ""},
        {"tenant": 42},
        {"tenant": ["t-north"]},
        {"sub": ""},
        {"jti": 7},
    ],
    ids=repr,
)
def test_malformed_mymedic_claims_are_refused(
    hs_config: AuthConfig, overrides: dict[str, Any]
) -> None:
    refused(TokenVerifier(hs_config), bearer(hs_token(valid_claims(**overrides))), "invalid_claim")


@pytest.mark.parametrize("role", [Role.STAFF, Role.DOCTOR, Role.PATIENT, Role.MARKETING])
@pytest.mark.parametrize("branches", ["*", None, [], "b-1", [BRANCH, ""], [BRANCH, 3]], ids=repr)
def test_only_admin_and_analyst_may_hold_every_branch(
    hs_config: AuthConfig, role: Role, branches: Any
) -> None:
    claims = valid_claims(role=role.value)
    if branches is None:
        del claims["branches"]
    else:
        claims["branches"] = branches
    refused(TokenVerifier(hs_config), bearer(hs_token(claims)), "invalid_claim")


@pytest.mark.parametrize("branches", [[], "b-1", {"b-1": True}], ids=repr)
def test_admin_branches_must_still_be_well_formed(hs_config: AuthConfig, branches: Any) -> None:
    claims = valid_claims(role="admin", branches=branches)
    refused(TokenVerifier(hs_config), bearer(hs_token(claims)), "invalid_claim")


# --- JWKS ----------------------------------------------------------------------------


@dataclass
class JwksServer:
    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def jwks_server(rsa_keys: RsaKeys) -> Iterator[JwksServer]:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_keys.public_key, as_dict=True)
    jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    ec_jwk = jwt.algorithms.ECAlgorithm.to_jwk(
        ec.generate_private_key(ec.SECP256R1()).public_key(), as_dict=True
    )
    ec_jwk.update({"kid": "ec-key", "use": "sig"})
    bodies = {
        "/jwks.json": json.dumps({"keys": [jwk, ec_jwk]}).encode(),
        "/garbage.json": b"<html>not json</html>",
        "/empty.json": json.dumps({"keys": []}).encode(),
    }
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield JwksServer(url=f"http://127.0.0.1:{server.server_address[1]}", requests=requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def jwks_config(url: str, timeout: float = 2.0) -> AuthConfig:
    return AuthConfig(
        algorithm="RS256",
        jwks_url=url,
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_timeout_seconds=timeout,
    )


def rs_token(config: AuthConfig, keys: RsaKeys, key_id: str | None) -> str:
    return issue_token(
        config,
        subject="u-9",
        tenant_id=TENANT,
        role="staff",
        branches=[BRANCH],
        private_key_pem=keys.private_pem,
        key_id=key_id,
    )


def test_jwks_keys_verify_tokens_and_are_cached(jwks_server: JwksServer, rsa_keys: RsaKeys) -> None:
    config = jwks_config(f"{jwks_server.url}/jwks.json")
    verifier = TokenVerifier(config)
    assert jwks_server.requests == []  # construction does no I/O
    token = rs_token(config, rsa_keys, "key-1")
    assert verifier.verify(bearer(token)).subject == "u-9"
    assert verifier.verify(bearer(token)).subject == "u-9"
    assert jwks_server.requests == ["/jwks.json"]


def test_jwks_refuses_unknown_and_missing_key_ids_and_foreign_keys(
    jwks_server: JwksServer, rsa_keys: RsaKeys, other_rsa_keys: RsaKeys
) -> None:
    config = jwks_config(f"{jwks_server.url}/jwks.json")
    verifier = TokenVerifier(config)
    refused(verifier, bearer(rs_token(config, rsa_keys, "key-404")), "unknown_key")
    refused(verifier, bearer(rs_token(config, rsa_keys, None)), "unknown_key")
    refused(verifier, bearer(rs_token(config, rsa_keys, "ec-key")), "unknown_key")
    # The right kid, the wrong private key.
    refused(verifier, bearer(rs_token(config, other_rsa_keys, "key-1")), "invalid_signature")
    # alg none is refused before any key is fetched.
    fetches = len(jwks_server.requests)
    header = b64url_json({"alg": "none", "kid": "key-1"})
    refused(verifier, bearer(f"{header}.{b64url_json(valid_claims())}."), "invalid_algorithm")
    assert len(jwks_server.requests) == fetches


@pytest.mark.parametrize("path", ["/garbage.json", "/empty.json", "/missing.json"])
def test_a_broken_jwks_endpoint_is_unavailable(
    jwks_server: JwksServer, rsa_keys: RsaKeys, path: str
) -> None:
    config = jwks_config(f"{jwks_server.url}{path}")
    with pytest.raises(AuthUnavailable):
        TokenVerifier(config).verify(bearer(rs_token(config, rsa_keys, "key-1")))


def test_a_jwks_server_that_is_down_is_unavailable_quickly(rsa_keys: RsaKeys) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: connection refused.
    config = jwks_config(f"http://127.0.0.1:{port}/jwks.json", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(AuthUnavailable) as caught:
        TokenVerifier(config).verify(bearer(rs_token(config, rsa_keys, "key-1")))
    assert time.monotonic() - started < 2
    assert AuthUnavailable.status == 503
    assert "key-1" not in str(caught.value)


def test_a_jwks_server_that_never_answers_times_out(rsa_keys: RsaKeys) -> None:
    # Accepts connections (the kernel's backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = jwks_config(f"http://127.0.0.1:{port}/jwks.json", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(AuthUnavailable):
            TokenVerifier(config).verify(bearer(rs_token(config, rsa_keys, "key-1")))
        assert time.monotonic() - started < 2


# --- configuration -------------------------------------------------------------------


def test_auth_config_from_todays_settings() -> None:
    settings = Settings(jwt_secret=SecretStr(SECRET), _env_file=None)
    config = auth_config(settings)
    assert (config.algorithm, config.secret, config.leeway_seconds) == ("HS256", SECRET, 30)
    assert (config.issuer, config.audience) == ("mymedic", "mymedic-api")
    assert SECRET not in repr(config)


def test_auth_config_needs_a_secret_for_hs256() -> None:
    settings = Settings(jwt_secret=None, _env_file=None)
    with pytest.raises(ValueError, match="MYMEDIC_JWT_SECRET"):
        auth_config(settings)


class FutureSettings(Settings):
    """Settings once the JWT fields are added (see the auth module's report)."""

    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_issuer: str = "mymedic"
    jwt_audience: str = "mymedic-api"
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_leeway_seconds: int = 30
    jwt_jwks_timeout_seconds: float = 5.0


def test_auth_config_from_the_future_settings_fields(rsa_keys: RsaKeys) -> None:
    settings = FutureSettings(
        jwt_algorithm="RS256",
        jwt_issuer="https://auth.example",
        jwt_audience="clinic-api",
        jwt_public_key=rsa_keys.public_pem,
        jwt_secret=SecretStr(SECRET),  # set for something else; ignored by RS256
        jwt_leeway_seconds=5,
        _env_file=None,
    )
    config = auth_config(settings)
    assert config.algorithm == "RS256"
    assert config.secret is None
    assert (config.issuer, config.audience, config.leeway_seconds) == (
        "https://auth.example",
        "clinic-api",
        5,
    )
    token = rs_token(config, rsa_keys, None)
    assert TokenVerifier(config).verify(bearer(token)).subject == "u-9"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithm": "HS256"},
        {"algorithm": "HS256", "secret": "too-short"},
        {"algorithm": "HS256", "secret": SECRET, "jwks_url": "http://127.0.0.1/jwks"},
        {"algorithm": "RS256"},
        {"algorithm": "RS256", "public_key_pem": "x", "jwks_url": "http://127.0.0.1/jwks"},
        {"algorithm": "RS256", "jwks_url": "http://127.0.0.1/jwks", "secret": SECRET},
        {"algorithm": "ES256", "secret": SECRET},
        {"algorithm": "HS256", "secret": SECRET, "leeway_seconds": -1},
    ],
    ids=repr,
)
def test_inconsistent_configs_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AuthConfig(issuer=ISSUER, audience=AUDIENCE, **kwargs)


def test_a_public_key_that_is_not_rsa_is_refused() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    config = AuthConfig(algorithm="RS256", public_key_pem=ec_pem, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError, match="RSA"):
        TokenVerifier(config)


def test_issue_token_refuses_what_verify_would_refuse(rs_config: AuthConfig) -> None:
    with pytest.raises(ValueError, match="branches"):
        issue_token(rs_config, subject="u", tenant_id=TENANT, role="staff", branches=None)
    with pytest.raises(ValueError, match="private_key_pem"):
        issue_token(rs_config, subject="u", tenant_id=TENANT, role="admin", branches=None)


def test_principals_outside_admin_and_analyst_list_their_branches() -> None:
    with pytest.raises(ValueError):
        Principal(subject="u", tenant_id=TENANT, role=Role.STAFF, branches=None, token_id=None)


# --- authorisation: commands -----------------------------------------------------------

A, N, M, S, D, P = (
    Role.ADMIN,
    Role.ANALYST,
    Role.MARKETING,
    Role.STAFF,
    Role.DOCTOR,
    Role.PATIENT,
)

# The policy, written out independently of the module: a change to COMMAND_ROLES
# must come with a change here.
EXPECTED_COMMAND_ROLES: dict[str, set[Role]] = {
    "register_patient": {A, S, P},
    "book_appointment": {A, S, P},
    "reschedule_appointment": {A, S, D, P},
    "cancel_appointment": {A, S, P},
    "complete_appointment": {A, S, D},
    "mark_no_show": {A, S, D},
    "mark_arrived": {A, S, D},
    "schedule_follow_up": {A, S, D},
    "block_clinician_time": {A, S},
    "issue_invoice": {A, S},
    "capture_payment": {A, S},
    "refund_payment": {A},
    "issue_credit_note": {A},
    "set_billing_policy": {A},
    "update_price_list": {A},
    "record_referral": {A, S},
    "record_nps_response": {A, S, P},
    "record_marketing_touch": {A, M},
    "register_branch": {A},
    "register_clinician": {A},
    "register_room": {A},
    "set_cancellation_policy": {A},
    "set_snapshot_schedule": {A},
    "remove_snapshot_schedule": {A},
    "set_alert_rule": {A},
    "remove_alert_rule": {A},
    "unblock_clinician_time": {A, S},
    "take_payment": {A, S},
    "refund_appointment_payment": {A},
}
BOOKING_COMMANDS = {
    "update_price_list",
    "block_clinician_time",
    "schedule_follow_up",
    "mark_arrived",
}

ALL_PAIRS = [(command, role) for command in EXPECTED_COMMAND_ROLES for role in Role]


def principal(
    role: Role,
    *,
    subject: str = "u-1",
    tenant_id: str = TENANT,
    branches: frozenset[str] | None = frozenset({BRANCH}),
) -> Principal:
    if role in (Role.ADMIN, Role.ANALYST) and branches == frozenset({BRANCH}):
        branches = None
    return Principal(
        subject=subject, tenant_id=tenant_id, role=role, branches=branches, token_id=None
    )


def test_the_policy_table_is_the_expected_one() -> None:
    assert {name: set(roles) for name, roles in COMMAND_ROLES.items()} == EXPECTED_COMMAND_ROLES


def test_every_command_has_a_policy() -> None:
    assert set(COMMANDS) | BOOKING_COMMANDS <= set(COMMAND_ROLES)
    assert all(Role.ADMIN in roles for roles in COMMAND_ROLES.values())
    assert not any(Role.ANALYST in roles for roles in COMMAND_ROLES.values())


@pytest.mark.parametrize(("command", "role"), ALL_PAIRS)
def test_each_role_runs_exactly_its_commands(command: str, role: Role) -> None:
    who = principal(role, subject="p-1")
    if role in EXPECTED_COMMAND_ROLES[command]:
        authorize(who, command=command, tenant_id=TENANT, branch_id=BRANCH, patient_id="p-1")
    else:
        with pytest.raises(AuthError) as caught:
            authorize(who, command=command, tenant_id=TENANT, branch_id=BRANCH, patient_id="p-1")
        assert (caught.value.status, caught.value.code) == (403, "role_not_allowed")


@pytest.mark.parametrize(("command", "role"), ALL_PAIRS)
def test_no_role_acts_for_another_tenant(command: str, role: Role) -> None:
    with pytest.raises(AuthError) as caught:
        authorize(
            principal(role, subject="p-1"),
            command=command,
            tenant_id="t-south",
            branch_id=BRANCH,
            patient_id="p-1",
        )
    assert (caught.value.status, caught.value.code) == (403, "wrong_tenant")


@pytest.mark.parametrize(
    ("command", "role"),
    [(command, role) for command, role in ALL_PAIRS if role in EXPECTED_COMMAND_ROLES[command]],
)
def test_branch_bound_roles_stay_in_their_branches(command: str, role: Role) -> None:
    who = principal(role, subject="p-1")
    if who.branches is None:  # admin: every branch of the tenant
        authorize(who, command=command, tenant_id=TENANT, branch_id=OTHER_BRANCH)
        return
    with pytest.raises(AuthError) as caught:
        authorize(who, command=command, tenant_id=TENANT, branch_id=OTHER_BRANCH, patient_id="p-1")
    assert (caught.value.status, caught.value.code) == (403, "branch_not_allowed")


def test_an_admin_limited_to_branches_stays_in_them() -> None:
    admin = Principal(
        subject="a", tenant_id=TENANT, role=Role.ADMIN, branches=frozenset({BRANCH}), token_id=None
    )
    authorize(admin, command="refund_payment", tenant_id=TENANT, branch_id=BRANCH)
    with pytest.raises(AuthError, match="branch_not_allowed"):
        authorize(admin, command="refund_payment", tenant_id=TENANT, branch_id=OTHER_BRANCH)


@pytest.mark.parametrize(
    "command", sorted(c for c, roles in EXPECTED_COMMAND_ROLES.items() if P in roles)
)
@pytest.mark.parametrize("patient_id", ["p-2", None])
def test_a_patient_acts_only_on_their_own_record(command: str, patient_id: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        authorize(
            principal(P, subject="p-1"),
            command=command,
            tenant_id=TENANT,
            branch_id=BRANCH,
            patient_id=patient_id,
        )
    assert (caught.value.status, caught.value.code) == (403, "not_own_record")


def test_staff_act_for_any_patient_of_their_branch() -> None:
    authorize(
        principal(S),
        command="cancel_appointment",
        tenant_id=TENANT,
        branch_id=BRANCH,
        patient_id="p-2",
    )


def test_an_unknown_command_is_denied_by_default() -> None:
    with pytest.raises(AuthError) as caught:
        authorize(principal(A), command="drop_all_tables", tenant_id=TENANT, branch_id=BRANCH)
    assert (caught.value.status, caught.value.code) == (403, "unknown_command")
    assert caught.value.www_authenticate is None
    assert caught.value.body() == {"error": "unknown_command", "message": caught.value.message}


# --- authorisation: reads --------------------------------------------------------------

EXPECTED_READ_ROLES = {
    A: ReadScope.BRANCH,
    N: ReadScope.BRANCH,
    M: ReadScope.BRANCH,
    S: ReadScope.BRANCH,
    D: ReadScope.BRANCH,
    P: ReadScope.OWN,
}


def test_the_read_policy_is_the_expected_one() -> None:
    assert READ_ROLES == EXPECTED_READ_ROLES


@pytest.mark.parametrize("role", list(Role))
def test_reads_by_role(role: Role) -> None:
    who = principal(role, subject="p-1")
    if EXPECTED_READ_ROLES[role] is ReadScope.BRANCH:
        authorize_read(who, tenant_id=TENANT, branch_id=BRANCH)
        authorize_read(who, tenant_id=TENANT, branch_id=BRANCH, patient_id="p-2")
    else:
        authorize_read(who, tenant_id=TENANT, branch_id=BRANCH, patient_id="p-1")
        authorize_read(who, tenant_id=TENANT, patient_id="p-1")
        for other in ("p-2", None):
            with pytest.raises(AuthError, match="not_own_record"):
                authorize_read(who, tenant_id=TENANT, branch_id=BRANCH, patient_id=other)
    with pytest.raises(AuthError, match="wrong_tenant"):
        authorize_read(who, tenant_id="t-south", branch_id=BRANCH, patient_id="p-1")


@pytest.mark.parametrize("role", list(Role))
def test_reads_outside_the_tokens_branches(role: Role) -> None:
    who = principal(role, subject="p-1")
    if who.branches is None:
        authorize_read(who, tenant_id=TENANT, branch_id=OTHER_BRANCH)
        authorize_read(who, tenant_id=TENANT)  # tenant-wide
        return
    with pytest.raises(AuthError, match="branch_not_allowed"):
        authorize_read(who, tenant_id=TENANT, branch_id=OTHER_BRANCH, patient_id="p-1")
    if role is not Role.PATIENT:
        with pytest.raises(AuthError, match="branch_not_allowed"):
            authorize_read(who, tenant_id=TENANT)


def test_the_tenant_wide_policy_needs_a_token_for_every_branch() -> None:
    authorize(
        principal(Role.ADMIN), command="set_cancellation_policy", tenant_id=TENANT, branch_id="*"
    )
    listed = principal(Role.ADMIN, branches=frozenset({BRANCH, "branch-2"}))
    with pytest.raises(AuthError) as caught:
        authorize(listed, command="set_cancellation_policy", tenant_id=TENANT, branch_id="*")
    assert (caught.value.status, caught.value.code) == (403, "branch_not_allowed")


def test_a_star_inside_a_branch_list_is_refused() -> None:
    config = auth_config(Settings(jwt_secret="s" * 40, _env_file=None))  # type: ignore[call-arg]
    token = jwt.encode(
        {
            "iss": config.issuer,
            "aud": config.audience,
            "sub": "s",
            "iat": datetime.now(UTC),
            "exp": datetime.now(UTC) + timedelta(minutes=5),
            "tenant": TENANT,
            "role": "staff",
            "branches": ["*", BRANCH],
        },
        "s" * 40,
        algorithm="HS256",
    )
    with pytest.raises(AuthError) as caught:
        TokenVerifier(config).verify(f"Bearer {token}")
    assert (caught.value.status, caught.value.code) == (401, "invalid_claim")
