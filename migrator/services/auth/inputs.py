"""Auth's inputs: the arguments each operation is tried with, drawn from the source database
(planted hazards first), and the documents a write input may touch (its footprint)."""

from __future__ import annotations

from pymongo.database import Database

from migrator.services.base import UNKNOWN_ID, Args, Sampler
from migrator.services.mongoose import oid


def user_ids(s: Sampler) -> list[Args]:
    planted = s.ref_values("users_with_ttl", "user") + s.ref_values("mixed_case_email", "user")
    users = [*planted, *(str(u["_id"]) for u in s.pick("users"))]
    return [{"user_id": u} for u in dict.fromkeys(users)] + [
        {"user_id": UNKNOWN_ID},
        {"user_id": "not-an-object-id"},
    ]


def emails(s: Sampler) -> list[Args]:
    users = s.pick("users", fields=("email",))
    emails = [*s.ref_values("mixed_case_email", "email"), *(u.get("email") for u in users)]
    out = [{"email": e} for e in dict.fromkeys(emails) if e]
    if out:  # adversarial: login forms send mixed case and stray spaces
        out.append({"email": f"  {out[0]['email'].upper()} "})
    return [*out, {"email": ""}, {"email": "nobody@example.invalid"}]


def openid(s: Sampler) -> list[Args]:
    users = s.pick("users", fields=("email", "openidId"))
    out = [
        {"openid_id": u.get("openidId") or "unknown-sub", "email": u.get("email", "")}
        for u in users
    ]
    return [*out, {"openid_id": "unknown-sub", "email": "nobody@example.invalid"}]


def sessions(s: Sampler) -> list[Args]:
    found = [
        *s.hazard_refs("expired_sessions"),
        *s.pick("sessions", fields=("user", "refreshTokenHash")),
    ]
    out = [
        {"refresh_token_hash": x["refreshTokenHash"], "user_id": str(x["user"]), "now": s.now}
        for x in found
    ]
    if found:  # the right hash with another user must not match
        out.append(
            {
                "refresh_token_hash": found[0]["refreshTokenHash"],
                "user_id": UNKNOWN_ID,
                "now": s.now,
            }
        )
    return [*out, {"refresh_token_hash": "0" * 64, "user_id": UNKNOWN_ID, "now": s.now}]


def session_users(s: Sampler) -> list[Args]:
    planted = [{"user_id": u} for u in s.ref_values("expired_sessions", "user")]
    users = [*planted, *(a for a in user_ids(s) if a["user_id"] != "not-an-object-id")]
    return [{**a, "now": s.now} for a in users]


def tokens(s: Sampler) -> list[Args]:
    found = s.pick("tokens", fields=("userId", "type", "identifier", "email", "token"))
    out: list[Args] = [
        {"userId": r["user"], "token": r["token"]} for r in s.hazard_refs("tokens_without_type")
    ]
    for t in found:
        args: Args = {"userId": str(t["userId"])}
        if t.get("type"):
            args["type"] = t["type"]
        if t.get("identifier"):
            args["identifier"] = t["identifier"]
        if not t.get("type"):
            args["token"] = t.get("token")
        out.append(args)
    return [*out, {"userId": UNKNOWN_ID, "type": "oauth"}, {}]


def new_users(s: Sampler) -> list[Args]:
    n = 5 if s.n is None else s.n
    return [
        {
            "data": {
                "email": f"New.User{i}@Example.com",
                "name": f"New User {i}",
                "username": f"NewUser{i}",
                "provider": "local",
                "emailVerified": False,
                "unknownField": "dropped by strict mode",
            },
            "start_balance": 20000 if i % 2 == 0 else None,
        }
        for i in range(n)
    ]


def user_updates(s: Sampler) -> list[Args]:
    return [
        {
            **a,
            "data": {
                "name": "Renamed",
                "avatar": "https://x.test/a.png?manual=true",
                "notInSchema": 1,
            },
        }
        for a in user_ids(s)
        if a["user_id"] != "not-an-object-id"
    ]


def session_refreshes(s: Sampler) -> list[Args]:
    found = s.pick("sessions", fields=("_id",))
    return [
        {"session_id": str(x["_id"]), "refresh_token_hash": "f" * 64, "now": s.now} for x in found
    ]


def session_hashes(s: Sampler) -> list[Args]:
    return [{"refresh_token_hash": a["refresh_token_hash"]} for a in sessions(s)]


def other_sessions(s: Sampler) -> list[Args]:
    found = s.pick("sessions", fields=("_id", "user"))
    return [{"user_id": str(x["user"]), "session_id": str(x["_id"])} for x in found]


def user_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"users": {"_id": oid(args["user_id"])}, "balances": {"user": oid(args["user_id"])}}


def session_footprint(db: Database, args: Args) -> dict[str, dict]:
    if "user_id" in args:
        return {"sessions": {"user": oid(args["user_id"], "user")}}
    if "session_id" in args:
        return {"sessions": {"_id": oid(args["session_id"])}}
    return {"sessions": {"refreshTokenHash": args["refresh_token_hash"]}}
