from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from click.testing import CliRunner

from migrator import model, settings
from migrator.cli import main
from migrator.counts import (
    DAY,
    FAIL,
    HISTORY_COLLECTION,
    HISTORY_DB,
    NA,
    OK,
    OWNER,
    SCHEMA_VERSION,
    TOTAL,
    WARN,
    counts,
)
from migrator.counts.report import markdown


def _cfg(server, legacy_db: str, gateway_db: str | None = None):
    return settings.resolve(mongo_uri=server.uri, db=legacy_db, gateway_db=gateway_db, environ={})


def _counts_cli(server, legacy_db: str, gateway_db: str, out, *more: str):
    """``migrator counts`` on the two databases, reports into ``out``."""
    args = ["--mongo-uri", server.uri, "--db", legacy_db, "--gateway-db", gateway_db]
    return CliRunner().invoke(main, ["counts", *args, "--out", str(out), *more])


def _by_name(result):
    return {c.name: c for c in result.collections}


def _rows(level):
    return {r["key"]: r["diff"] for r in level.rows}


def test_identical_databases_are_clean_and_the_settle_window_absorbs_writes_in_flight(
    mongo_server, twin_dbs, tmp_path
) -> None:
    source, target = twin_dbs()
    out = tmp_path / "reports"
    run = _counts_cli(mongo_server, source.name, target.name, out)
    assert run.exit_code == 0, run.output
    assert "counts: CLEAN" in run.output
    data = json.loads(next(out.glob("counts-*.json")).read_text())
    assert data["schema_version"] == SCHEMA_VERSION and data["verdict"] == OK and data["clean"]
    assert [c["name"] for c in data["collections"]] == list(model.COLLECTIONS)
    # One snapshot choice for the run (the server's features decide it), kept per collection.
    assert data["snapshot"]["mode"] in ("shared", "none")
    assert {c["snapshot"] for c in data["collections"]} == {data["snapshot"]["mode"]}
    for c in data["collections"]:
        assert (
            c["legacy"]["total"] == c["gateway"]["total"] == source[c["name"]].count_documents({})
        )
        assert {lvl["verdict"] for lvl in c["levels"].values()} <= {OK, NA}, c
    messages = next(c for c in data["collections"] if c["name"] == "messages")
    assert messages["levels"][OWNER]["compared"] >= 8 and messages["levels"][DAY]["compared"] > 20
    assert next(out.glob("counts-*.md")).read_text().startswith("# migrator counts — CLEAN")
    assert "<testsuite" in next(out.glob("counts-*.xml")).read_text()
    assert (out / "counts-history.jsonl").read_text().count("\n") == 1
    assert not list(out.glob("*.partial"))

    # Writes in flight two minutes ago, on either side: inside the default 10-minute window.
    # (On a twin of one user's share of the live collections: the window is per document.)
    user = str(source.users.find_one({}, sort=[("_id", 1)])["_id"])
    live = ["messages", "tokens", "sessions", "transactions"]
    mine = {"messages": {"user": user}, "transactions": {"user": ObjectId(user)}}
    source, target = twin_dbs(source, only={c: mine.get(c, {}) for c in live})
    just_now = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=2)
    target.messages.insert_many(
        [
            {"messageId": f"m{i}", "user": user, "createdAt": just_now, "updatedAt": just_now}
            for i in range(2)
        ]
    )
    target.tokens.insert_one({"userId": ObjectId(user), "token": "t", "createdAt": just_now})
    target.sessions.insert_one({"_id": ObjectId.from_datetime(just_now), "user": ObjectId(user)})
    source.transactions.insert_one(
        {
            "user": ObjectId(user),
            "tokenType": "prompt",
            "createdAt": just_now,
            "updatedAt": just_now,
        }
    )
    settled = counts(_cfg(mongo_server, source.name, target.name), collections=live, history=None)
    assert settled.verdict == OK and settled.clean and settled.passed
    recent = {c.name: (c.legacy.recent, c.gateway.recent) for c in settled.collections}
    assert recent == {
        "messages": (0, 2),
        "tokens": (0, 1),
        "sessions": (0, 1),
        "transactions": (1, 0),
    }
    # With a one-minute window the same writes are drift.
    strict = counts(
        _cfg(mongo_server, source.name, target.name),
        collections=live,
        settle_minutes=1,
        history=None,
    )
    assert {c.name: c.diff for c in strict.collections} == {
        "messages": 2,
        "tokens": 1,
        "sessions": 1,
        "transactions": -1,
    }
    assert strict.verdict == FAIL and not strict.passed


def test_drift_shows_at_the_right_level_owner_and_day(mongo_server, twin_dbs) -> None:
    source, target = twin_dbs()
    # 1. one message removed
    gone = target.messages.find_one(
        {"createdAt": {"$type": "date"}, "user": {"$type": "string"}}, sort=[("_id", 1)]
    )
    target.messages.delete_one({"_id": gone["_id"]})
    # 2. one user's files moved to another owner
    mover = target.files.find_one({}, sort=[("_id", 1)])["user"]
    heir = target.users.find_one({"_id": {"$ne": mover}}, sort=[("_id", 1)])["_id"]
    moved = target.files.count_documents({"user": mover})
    heir_had = target.files.count_documents({"user": heir})
    target.files.update_many({"user": mover}, {"$set": {"user": heir}})
    # 3. a day's transactions duplicated (copies with new _ids)
    day = target.transactions.find_one({"createdAt": {"$type": "date"}}, sort=[("_id", 1)])[
        "createdAt"
    ].replace(hour=0, minute=0, second=0, microsecond=0)
    copies = list(target.transactions.find({"createdAt": {"$gte": day, "$lt": day + timedelta(1)}}))
    for doc in copies:
        doc["_id"] = ObjectId()
    target.transactions.insert_many(copies)
    # 4. a conversation's owner stored as an ObjectId instead of LibreChat's string
    convo = target.conversations.find_one({"user": {"$type": "string"}}, sort=[("_id", 1)])
    target.conversations.update_one(
        {"_id": convo["_id"]}, {"$set": {"user": ObjectId(convo["user"])}}
    )

    result = counts(_cfg(mongo_server, source.name, target.name), history=None)
    by = _by_name(result)
    assert result.drifting == ["conversations", "messages", "files", "transactions"]
    assert result.verdict == FAIL and not result.passed and not result.clean

    messages = by["messages"]
    assert messages.diff == -1 and messages.levels[TOTAL].verdict == FAIL
    assert _rows(messages.levels[OWNER]) == {gone["user"]: -1}
    assert _rows(messages.levels[DAY]) == {gone["createdAt"].strftime("%Y-%m-%d"): -1}

    files = by["files"]
    assert files.diff == 0 and files.levels[TOTAL].verdict == OK
    assert _rows(files.levels[OWNER]) == {str(mover): -moved, str(heir): moved}
    assert files.levels[OWNER].verdict == FAIL and files.levels[DAY].differing == 0
    owner_rows = {r["key"]: r for r in files.levels[OWNER].rows}
    assert owner_rows[str(heir)]["legacy"] == heir_had
    assert owner_rows[str(mover)]["pct"] == 100.0

    tx = by["transactions"]
    assert tx.diff == len(copies) and tx.levels[DAY].differing == 1
    assert _rows(tx.levels[DAY]) == {day.strftime("%Y-%m-%d"): len(copies)}
    expected_owners = Counter(str(doc["user"]) for doc in copies)
    assert _rows(tx.levels[OWNER]) == dict(expected_owners)

    conversations = by["conversations"]
    assert conversations.diff == 0 and conversations.levels[DAY].differing == 0
    assert _rows(conversations.levels[OWNER]) == {"(user stored as objectid)": 1}
    assert any(n.startswith("gateway: `user` is a string") for n in conversations.notes)

    for name in set(model.COLLECTIONS) - set(result.drifting):
        assert by[name].verdict == OK, name
    head = markdown(result).splitlines()[0]
    assert (
        head.startswith("# migrator counts — DRIFT: conversations") and "files (2 owners)" in head
    )

    # Thresholds: with a generous --fail the same drift only warns (exit 0 unless --fail-on warn).
    tolerant = counts(
        _cfg(mongo_server, source.name, target.name),
        collections=["files"],
        warn_pct=0,
        fail_pct=10_000,
        history=None,
    )
    assert tolerant.verdict == WARN and tolerant.passed
    strict = counts(
        _cfg(mongo_server, source.name, target.name),
        collections=["files"],
        warn_pct=0,
        fail_pct=10_000,
        fail_on=WARN,
        history=None,
    )
    assert strict.verdict == WARN and not strict.passed


def test_three_nights_make_a_trend_with_the_first_night_seen(
    mongo_server, mongo_client, mongo_db, tmp_path
) -> None:
    source, target = mongo_db, mongo_client[f"{mongo_db.name}_target"]
    day = datetime(2025, 3, 1)
    docs = [
        {"user": f"{i % 4:024x}", "createdAt": day + timedelta(hours=7 * i), "updatedAt": day}
        for i in range(30)
    ]
    source.messages.insert_many([dict(d) for d in docs])
    target.messages.insert_many([dict(d) for d in docs])
    try:
        _three_nights(mongo_server, source, target, tmp_path)
    finally:
        mongo_client.drop_database(target.name)


def _three_nights(mongo_server, source, target, tmp_path) -> None:
    cfg = _cfg(mongo_server, source.name, target.name)
    history = tmp_path / "reports" / "counts-history.jsonl"
    start = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    nights = [start - timedelta(days=3 - i) for i in range(3)]
    first = counts(cfg, collections=["messages"], history=history, now=nights[0])
    assert first.clean and first.trend["messages"].since is None
    target.messages.delete_one({"createdAt": {"$type": "date"}})
    counts(cfg, collections=["messages"], history=history, now=nights[1])
    third = counts(cfg, collections=["messages"], history=history, now=nights[2])
    trend = third.trend["messages"]
    assert [r["diff"] for r in trend.runs] == [0, -1, -1]
    assert trend.since == nights[1].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert trend.streak == 2 and trend.lasted_days == 1
    records = [json.loads(line) for line in history.read_text().splitlines()]
    assert [r["schema_version"] for r in records] == [SCHEMA_VERSION] * 3
    assert [r["collections"]["messages"]["diff"] for r in records] == [0, -1, -1]

    # Tonight, through the command line: exit 1, the trend table and a chart.
    out = history.parent
    run = _counts_cli(mongo_server, source.name, target.name, out, "--collections", "messages")
    assert run.exit_code == 1, run.output
    report = next(out.glob("counts-*.md")).read_text()
    assert report.startswith("# migrator counts — DRIFT: messages (total -1, 1 owner, 1 day)")
    since = nights[1].strftime("%Y-%m-%d %H:%M")
    trend_row = next(
        line for line in report.splitlines() if line.startswith("| messages ") and since in line
    )
    assert "3 runs" in trend_row
    png = next(out.glob("counts-*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(history.read_text().splitlines()) == 4


def test_history_in_the_tool_owned_database(mongo_server, mongo_client, mongo_db) -> None:
    at = datetime(2025, 5, 1)
    mongo_db.messages.insert_many(
        [{"user": f"{i:024x}", "createdAt": at, "updatedAt": at} for i in range(3)]
    )
    store = mongo_client[HISTORY_DB][HISTORY_COLLECTION]
    pair = f"{mongo_db.name} -> {mongo_db.name}"
    try:
        cfg = _cfg(mongo_server, mongo_db.name)
        counts(cfg, collections=["messages"], history="mongodb")
        second = counts(cfg, collections=["messages"], history="mongodb")
        assert second.clean and second.history["earlier_runs"] == 1
        assert len(second.trend["messages"].runs) == 2
        saved = list(store.find({"pair": pair}))
        assert len(saved) == 2 and all(r["schema_version"] == SCHEMA_VERSION for r in saved)
        assert saved[0]["collections"]["messages"]["legacy"] == 3
        assert mongo_db.list_collection_names() == ["messages"]  # nothing written to it
    finally:
        store.delete_many({"pair": pair})


def test_bad_input_is_one_line_and_the_history_file_is_not_overwritten(
    mongo_server, tmp_path
) -> None:
    runner = CliRunner()
    base = ["counts", "--mongo-uri", mongo_server.uri, "--out", str(tmp_path / "r")]
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text('{"schema_version": 1, "run_at": "2026-01-01T00:00:00Z", "collections"\n')
    newer = tmp_path / "newer.jsonl"
    newer.write_text(
        '{"schema_version": 99, "run_at": "2026-01-01T00:00:00Z", "collections": {}}\n'
    )
    blocker = tmp_path / "file"
    blocker.write_text("")
    cases = [
        ([*base, "--collections", "messages,nope"], 2, "unknown collection 'nope'"),
        ([*base, "--by", "owner,week"], 2, "--by takes a comma list of owner, day"),
        ([*base, "--warn", "5"], 2, "--warn 5 must be below --fail 0"),
        ([*base, "--history", str(corrupt)], 2, "line 1 is corrupt"),
        ([*base, "--history", str(newer)], 2, "newer migrator (schema_version 99 > 1)"),
        ([*base, "--history", str(blocker / "h.jsonl")], 2, "cannot write --history"),
        ([*base, "--db", HISTORY_DB, "--history", "mongodb"], 2, "a database being verified"),
        ([*base, "--db", "empty_db_x"], 2, "has no LibreChat collections"),
        (
            ["counts", "--mongo-uri", "mongodb://127.0.0.1:1", "--out", str(tmp_path / "r")],
            3,
            "cannot reach MongoDB",
        ),
    ]
    before = {p: p.read_bytes() for p in (corrupt, newer)}
    for args, code, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == code, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.output
    assert {p: p.read_bytes() for p in before} == before
    assert not list((tmp_path / "r").glob("counts-*"))
