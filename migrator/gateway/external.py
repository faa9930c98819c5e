"""The external-process gateway: a gateway written in another language, spoken to over pipes.

The child process reads one JSON request per line on stdin and writes one JSON response per line
on stdout (the protocol is ``docs/external-gateway.md``)::

    -> {"id": 7, "op": "auth.get_user_by_id", "args": {"user_id": "65f0…"}}
    <- {"id": 7, "value": {"_id": {"$oid": "65f0…"}, "email": "…", …}}
    <- {"id": 7, "error": {"type": "CastError", "message": "Cast to ObjectId failed …"}}

``args`` and ``value`` are MongoDB Extended JSON v2 in canonical mode, so int32, int64, double,
Decimal128, ObjectId, datetime, binary and regex values keep their BSON types both ways, and
datetimes come back naive UTC as pymongo returns them. ``args`` are the keyword arguments of the
operation's Python functions (``migrator.services``), by the same names.

The connection settings reach the child as environment variables: ``MONGO_URI`` (LibreChat's
own name for it) and ``MIGRATOR_GATEWAY_DB`` (the database to use); see
:meth:`ExternalGateway.for_database`.

Errors: a response with ``error`` raises :class:`ExternalOperationError`, whose ``.type`` is the
remote error type (``CastError``, ``OperationFailure``, …). Compare it with the legacy path's
exception class name through :func:`error_type`, which gives ``.type`` for a remote error and
``type(exc).__name__`` for any other exception. A call that gets no answer in time raises
``TimeoutError``; a child that cannot start, exits, or breaks the protocol raises
:class:`migrator.errors.CannotRun` with one line (including the child's last stderr line).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bson import json_util
from bson.json_util import CANONICAL_JSON_OPTIONS

from migrator.errors import CannotRun
from migrator.secrets import mask_text

PROTOCOL_VERSION = 2  # the newest version this client speaks
HELLO = "$hello"
# Canonical Extended JSON v2; datetimes decoded naive UTC, as pymongo returns them.
JSON_OPTIONS = CANONICAL_JSON_OPTIONS.with_options(tz_aware=False)
ENV_URI = "MONGO_URI"
ENV_DB = "MIGRATOR_GATEWAY_DB"
ENV_RECORD = "MIGRATOR_RECORD"
STDERR_LINES_KEPT = 50
CLOSE_GRACE_S = 2.0  # after stdin closes, before terminate
TERMINATE_GRACE_S = 3.0  # after terminate, before kill
_EOF = None


def encode(value: Any) -> str:
    """A value as canonical Extended JSON v2 (one line)."""
    return json_util.dumps(value, json_options=JSON_OPTIONS)


def decode(text: str | bytes) -> Any:
    """Canonical (or relaxed) Extended JSON v2 back to BSON-typed Python values."""
    return json_util.loads(text, json_options=JSON_OPTIONS)


def _mask(text: str) -> str:
    return mask_text(text)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ExternalOperationError(Exception):
    """An operation answered with an error. ``type`` is the remote error type name."""

    def __init__(self, type: str, message: str, op: str | None = None) -> None:
        super().__init__(f"{type}: {message}")
        self.type = type
        self.message = message
        self.op = op


def error_type(exc: BaseException) -> str:
    """The error type to compare between paths: the remote type for an external error, else
    the exception's class name (``CastError`` on both sides compares equal)."""
    if isinstance(exc, ExternalOperationError):
        return exc.type
    return type(exc).__name__


class ExternalGateway:
    """A gateway process speaking the JSON-lines protocol; one call at a time.

    ``cmd`` is a command line (split with :func:`shlex.split`) or an argument list. ``env`` is
    added to this process's environment for the child. ``timeout_s`` bounds every call,
    including the ``$hello`` handshake made here.
    """

    def __init__(
        self,
        cmd: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        cwd: str | os.PathLike | None = None,
    ) -> None:
        self.argv = shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
        if not self.argv:
            raise CannotRun("external gateway: empty command")
        self.cmdline = _mask(shlex.join(self.argv))
        self.timeout_s = timeout_s
        self.info: dict[str, Any] = {}
        self.ops: frozenset[str] = frozenset()
        self.protocol = 1
        self.not_offered: dict[str, str] = {}
        self.legacy_not_offered: dict[str, str] = {}  # ops the legacy branch cannot answer
        self.branches: frozenset[str] = frozenset({"gateway"})
        self.env = dict(env or {})
        self.cwd = cwd
        self._lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._next_id = 0
        self._closed = False
        self._stdout: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
        child_env = {**os.environ, **(env or {})}
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=child_env,
                cwd=cwd,
            )
        except OSError as exc:
            raise CannotRun(
                f"cannot start external gateway `{self.cmdline}`: {_one_line(_mask(str(exc)))}"
            ) from None
        self._readers = [
            threading.Thread(target=self._read_stdout, name="gateway-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name="gateway-stderr", daemon=True),
        ]
        for thread in self._readers:
            thread.start()
        self._handshake()

    @classmethod
    def for_database(
        cls,
        cmd: str | Sequence[str],
        uri: str,
        database: str,
        *,
        env: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> ExternalGateway:
        """A gateway process told where the data is: ``MONGO_URI`` and ``MIGRATOR_GATEWAY_DB``."""
        return cls(cmd, env={**(env or {}), ENV_URI: uri, ENV_DB: database}, **kwargs)

    def spawn(self, uri: str, database: str) -> ExternalGateway:
        """Another process of the same gateway, connected to ``database`` on ``uri`` (the
        write phase's scratch database: a gateway connects once, to one database)."""
        env = {**self.env, ENV_URI: uri, ENV_DB: database}
        return ExternalGateway(self.argv, env=env, timeout_s=self.timeout_s, cwd=self.cwd)

    # -- the pipes ---------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        with contextlib.suppress(OSError, ValueError):
            for line in iter(stream.readline, b""):
                self._stdout.put(line)
        self._stdout.put(_EOF)
        with contextlib.suppress(OSError):
            stream.close()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        with contextlib.suppress(OSError, ValueError):
            for line in iter(stream.readline, b""):
                text = line.decode("utf-8", "replace").rstrip()
                if text.strip():
                    self._stderr.append(text)
        with contextlib.suppress(OSError):
            stream.close()

    def stderr_tail(self, n: int = 10) -> list[str]:
        """The child's last ``n`` non-empty stderr lines (passwords in URIs masked)."""
        return [_mask(line) for line in list(self._stderr)[-n:]]

    def _fail(self, what: str) -> CannotRun:
        """Stop the child and describe why in one line, with its last stderr line."""
        self._shutdown()
        for thread in self._readers[1:]:
            thread.join(timeout=1.0)
        tail = self.stderr_tail(1)
        detail = f" (last stderr line: {_one_line(tail[0])})" if tail else ""
        return CannotRun(_mask(f"external gateway `{self.cmdline}` {what}{detail}"))

    def _died(self) -> CannotRun:
        try:
            code = self.proc.wait(timeout=CLOSE_GRACE_S)
        except subprocess.TimeoutExpired:
            return self._fail("closed its stdout")
        return self._fail(f"exited with code {code}")

    # -- the protocol ------------------------------------------------------------------------

    def _handshake(self) -> None:
        try:
            info, _ = self._request(HELLO, {"protocol": PROTOCOL_VERSION}, self.timeout_s)
        except TimeoutError:
            raise self._fail(f"did not answer {HELLO} within {self.timeout_s:g} s") from None
        except ExternalOperationError as exc:
            raise self._fail(f"refused {HELLO}: {_one_line(str(exc))}") from None
        if not isinstance(info, dict) or not isinstance(info.get("ops"), list):
            raise self._fail(f"answered {HELLO} without an `ops` list")
        self.info = info
        self.ops = frozenset(str(op) for op in info["ops"])
        version = info.get("protocol", 1)
        self.protocol = version if isinstance(version, int) and version >= 1 else 1
        for key, target in (("not_offered", self.not_offered), ("legacy_not_offered", None)):
            reasons = info.get(key)
            if isinstance(reasons, dict):
                values = {str(k): str(v) for k, v in reasons.items()}
                if target is None:
                    self.legacy_not_offered = values
                else:
                    target.update(values)
        branches = info.get("branches")
        if isinstance(branches, list) and branches:
            self.branches = frozenset(str(b) for b in branches)

    @property
    def name(self) -> str:
        return str(self.info.get("name", self.argv[0]))

    @property
    def version(self) -> str:
        return str(self.info.get("version", ""))

    @property
    def alive(self) -> bool:
        return not self._closed and self.proc.poll() is None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def supports(self, op_name: str) -> bool:
        return op_name in self.ops

    def why_not(self, op_name: str, *, write: bool = False, branch: str = "gateway") -> str | None:
        """Why this gateway (or its ``branch="legacy"``) cannot be asked ``op_name``."""
        if branch == "legacy":
            if "legacy" not in self.branches:
                return "the gateway process has no legacy branch"
            reason = self.legacy_not_offered.get(op_name)
            if reason is not None:
                return f"the application's legacy branch cannot answer it: {reason}"
        if write and self.protocol < 2:
            return "the gateway speaks protocol 1; write operations need protocol 2"
        if op_name not in self.ops:
            reason = self.not_offered.get(op_name)
            if reason:
                return f"not offered by the gateway: {reason}"
            return "not offered by the gateway (its `$hello` does not list it)"
        return None

    def call(
        self,
        op_name: str,
        args: Mapping[str, Any] | None = None,
        *,
        timeout_s: float | None = None,
        branch: str | None = None,
    ) -> Any:
        """Run one operation: its value, or :class:`ExternalOperationError` for an error
        answer, ``TimeoutError`` after ``timeout_s`` (default: the gateway's) without one."""
        return self.call_timed(op_name, args, timeout_s=timeout_s, branch=branch)[0]

    def call_timed(
        self,
        op_name: str,
        args: Mapping[str, Any] | None = None,
        *,
        timeout_s: float | None = None,
        branch: str | None = None,
    ) -> tuple[Any, int | None]:
        """``call``, with the time the gateway reports it spent inside the call (protocol
        v2's ``ns``; None from a gateway that does not send it)."""
        return self._request(
            op_name,
            dict(args or {}),
            self.timeout_s if timeout_s is None else timeout_s,
            branch,
        )

    def bind(self, op_name: str) -> Callable[..., Any]:
        """``fn(gw, **args)`` calling ``op_name`` here: a drop-in for an Operation's gateway."""

        def gateway_fn(_gw: Any = None, **args: Any) -> Any:
            return self.call(op_name, args)

        gateway_fn.__name__ = f"external:{op_name}"
        return gateway_fn

    def _request(
        self, op_name: str, args: dict[str, Any], timeout_s: float, branch: str | None = None
    ) -> tuple[Any, int | None]:
        with self._lock:
            if self._closed:
                raise CannotRun(f"external gateway `{self.cmdline}` is closed")
            request_id = self._next_id
            self._next_id += 1
            extra = f', "branch": {json.dumps(branch)}' if branch else ""
            line = (
                f'{{"id": {request_id}, "op": {json.dumps(op_name)}, '
                f'"args": {encode(args)}{extra}}}\n'
            )
            stdin = self.proc.stdin
            assert stdin is not None
            try:
                stdin.write(line.encode("utf-8"))
                stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                raise self._died() from None
            deadline = time.monotonic() + timeout_s
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"external gateway `{self.cmdline}` did not answer {op_name} "
                        f"within {timeout_s:g} s"
                    )
                try:
                    raw = self._stdout.get(timeout=remaining)
                except queue.Empty:
                    continue
                if raw is _EOF:
                    raise self._died()
                response = self._parse(raw)
                rid = response["id"]
                if rid is not None and rid != request_id:
                    continue  # the late answer to a call that timed out
                if "error" in response:
                    err = response["error"] if isinstance(response["error"], dict) else {}
                    raise ExternalOperationError(
                        str(err.get("type") or "Error"), str(err.get("message") or ""), op_name
                    )
                if "value" not in response:
                    raise self._fail(f"answered {op_name} with neither `value` nor `error`")
                ns = response.get("ns")
                return response["value"], ns if isinstance(ns, int) and ns >= 0 else None

    def _parse(self, raw: bytes) -> dict[str, Any]:
        text = raw.decode("utf-8", "replace").strip()
        try:
            response = decode(text)
        except (ValueError, TypeError) as exc:
            raise self._fail(
                f"wrote non-JSON to stdout: {_one_line(_mask(text), 120)!r} ({exc})"
            ) from None
        if not isinstance(response, dict) or "id" not in response:
            raise self._fail(
                f"wrote a line that is not a response: {_one_line(_mask(text), 120)!r}"
            )
        return response

    # -- shutting down -----------------------------------------------------------------------

    def _shutdown(self) -> None:
        with self._close_lock:
            self._closed = True
            proc = self.proc
            if proc.poll() is None and proc.stdin is not None:
                with contextlib.suppress(OSError, ValueError):
                    proc.stdin.close()  # a well-behaved gateway exits at end of input
                try:
                    proc.wait(timeout=CLOSE_GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    try:
                        proc.wait(timeout=TERMINATE_GRACE_S)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            # stdout and stderr are closed by their reader threads at end of file: closing them
            # here could block on a read still in progress.

    def close(self) -> None:
        """Stop the child: end its input, then terminate, then kill. Idempotent."""
        self._shutdown()

    def __enter__(self) -> ExternalGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pid {self.proc.pid}"
        return f"<ExternalGateway {self.name} {self.version} `{self.cmdline}` {state}>"
