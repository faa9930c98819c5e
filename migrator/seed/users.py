"""Users and what hangs off them at sign-up/login: sessions, tokens, balances (§3.1-3.4).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from migrator.model import BALANCE_DEFAULTS, USER_DEFAULTS, materialize
from migrator.seed.context import Ctx, UserRef
from migrator.seed.ids import BASE, FAR, HISTORY, iso
from migrator.seed.text import DOMAINS, FIRST_NAMES, LAST_NAMES

# §3.1/§7: mostly local, one SSO provider otherwise.
_PROVIDERS = (("local", 80), ("google", 10), ("github", 5), ("openid", 5))


def _mixed_case(email: str) -> str:
    """``alice.smith12@example.com`` -> ``Alice.Smith12@Example.com``."""
    local, domain = email.split("@")
    cap = ".".join(part.capitalize() for part in local.split("."))
    return f"{cap}@{domain.capitalize()}"


def _identity(
    ctx: Ctx, index: int, twin_email: str | None, force_local: bool
) -> tuple[str, str, str]:
    rng = ctx.rng
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    if twin_email is not None:  # §8 mixed-case twin: same person, email written raw
        return f"{first} {last}", _mixed_case(twin_email), "local"
    email = f"{first}.{last}{index}@{rng.choice(DOMAINS)}".lower()
    provider = rng.choices([p for p, _ in _PROVIDERS], [w for _, w in _PROVIDERS])[0]
    return f"{first} {last}", email, "local" if force_local else provider


def _provider_fields(ctx: Ctx, provider: str, first: str, email: str) -> dict[str, Any]:
    ids = ctx.ids
    if provider == "google":
        return {
            "googleId": ids.digits(21),
            "avatar": f"https://lh3.googleusercontent.com/a/{ids.alnum(40)}=s96-c",
            "username": first.lower(),
        }
    if provider == "github":
        github_id = ids.digits(8)
        return {
            "githubId": github_id,
            "avatar": f"https://avatars.githubusercontent.com/u/{github_id}?v=4",
            "username": email.split("@")[0].replace(".", "-"),
        }
    if provider == "openid":
        return {"openidId": ids.uuid(), "avatar": "", "username": email.split("@")[0]}
    # local registration: registerUser passes avatar null; username optional, often ''
    username = email.split("@")[0] if ctx.chance(0.3) else ""
    return {"password": ids.bcrypt_hash(), "avatar": None, "username": username}


def _two_factor(ctx: Ctx, at: datetime) -> dict[str, Any]:
    codes = [{"codeHash": ctx.ids.hex(32), "used": False, "usedAt": None} for _ in range(10)]
    if ctx.chance(0.5):
        codes[0] = {**codes[0], "used": True, "usedAt": ctx.ids.between(at, BASE)}
    return {"twoFactorEnabled": True, "totpSecret": ctx.ids.hex(40), "backupCodes": codes}


def write_user(ctx: Ctx, index: int, n_users: int, twin_email: str | None) -> UserRef:
    """One user document plus its balance, sessions and tokens."""
    ids = ctx.ids
    # sign-ups spread evenly over HISTORY in index order: the first user is the oldest
    slot = HISTORY / n_users
    created = ids.between(BASE - HISTORY + slot * index, BASE - HISTORY + slot * (index + 1))
    # carriers of local-only hazards (unverified sign-up, reset token) register locally
    force_local = any(index in ctx.carriers[h] for h in ("users_with_ttl", "tokens_without_type"))
    name, email, provider = _identity(ctx, index, twin_email, force_local)
    user_id = ids.oid(created)
    doc: dict[str, Any] = {"_id": user_id, **materialize(USER_DEFAULTS, created)}
    doc.update(name=name, email=email, provider=provider, role="ADMIN" if index == 0 else "USER")
    doc.update(_provider_fields(ctx, provider, name.split()[0], email))
    # SSO and no-email-config installs verify at once (§7); a few locals are still unverified
    unverified = provider == "local" and (
        index in ctx.carriers["users_with_ttl"] or (index > 0 and ctx.chance(0.02))
    )
    doc["emailVerified"] = not unverified
    if unverified:  # §1 #13: TTL'd registration; FAR so no real TTL monitor removes it
        doc["expiresAt"] = ids.between(FAR, FAR + timedelta(days=7))
        ctx.hazards.add("users_with_ttl", 1, {"user": str(user_id)})
    if provider == "local" and ctx.chance(0.04):
        doc.update(_two_factor(ctx, created))
    doc["createdAt"] = created
    doc["updatedAt"] = ids.between(created, BASE) if ctx.chance(0.5) else created
    doc["__v"] = 0
    ctx.out.add("users", doc)
    if twin_email is not None:
        ctx.hazards.add("mixed_case_email", 1, {"user": str(user_id), "email": email})

    user = UserRef(index, user_id, created, name, email)
    _write_balances(ctx, user)
    _write_sessions(ctx, user)
    _write_tokens(ctx, user, provider, unverified)
    return user


def _balance(ctx: Ctx, user: UserRef, at: datetime) -> dict[str, Any]:
    rng = ctx.rng
    doc: dict[str, Any] = {"_id": ctx.ids.oid(at), "user": user.id}
    doc.update(materialize(BALANCE_DEFAULTS, at))
    # §7: start balance 20,000 (yaml default) ... millions; many drained to (near) zero
    roll = rng.random()
    if roll < 0.2:
        credits: float = 20_000
    elif roll < 0.3:
        credits = 0
    else:
        credits = round(rng.lognormvariate(math.log(150_000), 1.5), 2)
    doc["tokenCredits"] = credits
    if rng.random() < 0.05:
        doc.update(autoRefillEnabled=True, refillAmount=rng.choice([10_000, 50_000, 1_000_000]))
        doc["refillIntervalUnit"] = rng.choice(["days", "weeks", "months"])
        doc["refillIntervalValue"] = rng.choice([1, 7, 30])
        doc["lastRefill"] = ctx.ids.between(at, BASE)
    doc["__v"] = 0
    return doc


def _write_balances(ctx: Ctx, user: UserRef) -> None:
    duplicate = ctx.carries("duplicate_balances", user)
    if not (duplicate or ctx.chance(0.85)):  # §7: many users lack a balance doc
        return
    ctx.out.add("balances", _balance(ctx, user, user.created))
    if duplicate:
        ctx.out.add("balances", _balance(ctx, user, ctx.ids.between(user.created, BASE)))
        ctx.hazards.add("duplicate_balances", 1, {"user": user.hex})


def _fake_jwt(ctx: Ctx, user: UserRef, session_id: ObjectId, issued: datetime) -> str:
    def b64(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    iat = int((issued - datetime(1970, 1, 1)).total_seconds())
    payload = {"id": user.hex, "sessionId": str(session_id), "iat": iat, "exp": iat + 604800}
    signature = base64.urlsafe_b64encode(ctx.rng.randbytes(32)).rstrip(b"=").decode()
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(payload)}.{signature}"


def _write_sessions(ctx: Ctx, user: UserRef) -> None:
    """§3.2: one document per login; refreshTokenHash = sha256 hex of the refresh JWT."""
    rng = ctx.rng
    expired = ctx.carries("expired_sessions", user)
    n = rng.choices([0, 1, 2, 3], [20, 55, 18, 7])[0] + (1 if expired else 0)
    for k in range(n):
        login = ctx.ids.between(user.created, BASE)
        session_id = ctx.ids.oid(login)
        if expired and k == 0:  # past expiry (real refresh lifetime: 7 days)
            expiration = login + timedelta(days=7)
        else:  # must stay valid whenever tools run against the seed (see ids.FAR)
            expiration = ctx.ids.between(FAR, FAR + timedelta(days=7))
        token = _fake_jwt(ctx, user, session_id, login)
        if expired and k == 0:
            ref = {"user": user.hex, "refreshTokenHash": ctx.ids.sha256(token)}
            ctx.hazards.add("expired_sessions", 1, ref)
        ctx.out.add(
            "sessions",
            {
                "_id": session_id,
                "refreshTokenHash": ctx.ids.sha256(token),
                "expiration": expiration,
                "user": user.id,
                "__v": 0,
            },
        )


def _token(ctx: Ctx, user: UserRef, at: datetime, **fields: Any) -> dict[str, Any]:
    doc = {"_id": ctx.ids.oid(at), "userId": user.id, **fields, "createdAt": at}
    doc["expiresAt"] = ctx.ids.between(FAR, FAR + timedelta(days=30))
    doc["__v"] = 0
    return doc


def _write_tokens(ctx: Ctx, user: UserRef, provider: str, unverified: bool) -> None:
    """§3.3: B's verification and reset tokens carry no `type`; OAuth tokens do."""
    at = ctx.ids.between(user.created, BASE)
    email = user.email
    reset = ctx.carries("tokens_without_type", user) or ctx.chance(0.01)
    for _ in range(int(unverified) + int(provider == "local" and reset)):
        doc = _token(ctx, user, at, email=email, token=ctx.ids.bcrypt_hash())
        ctx.out.add("tokens", doc)
        ctx.hazards.add("tokens_without_type", 1, {"user": user.hex, "token": doc["token"]})
    if ctx.chance(0.03):  # MCP OAuth access + refresh token pair
        server = ctx.rng.choice(["github", "atlassian", "linear"])
        for kind, suffix in (("mcp_oauth", ""), ("mcp_oauth_refresh", ":refresh")):
            ctx.out.add(
                "tokens",
                _token(
                    ctx, user, at, type=kind, identifier=f"mcp:{server}{suffix}",
                    token=ctx.ids.hex(48), metadata={"issued_at": iso(at)},
                ),
            )  # fmt: skip
    if ctx.chance(0.01):  # Actions OAuth
        action_id = ctx.ids.nanoid()
        ctx.out.add(
            "tokens",
            _token(ctx, user, at, type="oauth", identifier=action_id, token=ctx.ids.hex(48)),
        )
