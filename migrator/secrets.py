"""Masking: the one place that decides what of a connection string or option may be printed.

Everything the tool prints or writes (errors, progress, reports, history, an external gateway's
stderr) that can hold a connection string goes through :func:`mask_uri` (a value known to be a
URI) or :func:`mask_text` (free text that may contain URIs or ``name=value`` options).

- any scheme, in any case (``MONGODB://``, ``mongodb+srv://``, a mistyped ``mongdb://``);
- userinfo split the way pymongo does: at the LAST ``@`` of the host part (a password with an
  unescaped ``@``); a password holding ``/`` (which the driver refuses) is masked up to the
  last ``@`` too, so the error that refuses it cannot print it;
- query options that carry secrets: pymongo's sensitive options (``proxyUsername``,
  ``proxyPassword``, ``tlsCertificateKeyFilePassword``), anything named ``*password``,
  ``*secret``, ``*token``, and every ``authMechanismProperties`` value except the properties
  pymongo itself shows (``SERVICE_NAME``, ``ENVIRONMENT``, …; so ``AWS_SESSION_TOKEN`` is masked).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

MASK = "***"

# pymongo.common.SENSITIVE_OPTIONS_FOR_REPR, and any name ending in a secret word.
SENSITIVE_OPTIONS = frozenset({"proxyusername", "proxypassword", "tlscertificatekeyfilepassword"})
_SECRET_NAME = re.compile(r"(?i)(?:password|passwd|pwd|secret|token|apikey|api_key)$")
# pymongo.common._SAFE_AUTH_MECHANISM_PROPS_FOR_REPR: the properties the driver itself shows.
SAFE_AUTH_PROPERTIES = frozenset(
    {
        "ALLOWED_HOSTS",
        "CANONICALIZE_HOST_NAME",
        "ENVIRONMENT",
        "SERVICE_HOST",
        "SERVICE_NAME",
        "SERVICE_REALM",
        "TOKEN_RESOURCE",
    }
)
AUTH_PROPERTIES = "authmechanismproperties"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*")
_HOST = r"(?:\[[0-9A-Fa-f:.%]*\]|[A-Za-z0-9._~%\-]+)(?::\d*)?"
_HOSTS = re.compile(rf"{_HOST}(?:,{_HOST})*")
# name=value, where the value ends at a separator, whitespace or a quote (JSON, Markdown, repr).
_OPTION = re.compile(r"(?<![\w.\-])([A-Za-z_][\w.\-]*)=([^&;\s\"'<>`]*)")
_AWS_TOKEN = re.compile(r"(?i)(AWS_SESSION_TOKEN['\"]?\s*[:=]\s*['\"]?)([^\s,'\"&;}]+)")


def is_secret_option(name: str) -> bool:
    """Whether the value of URI option (or ``NAME=value`` setting) ``name`` is a secret."""
    return name.lower() in SENSITIVE_OPTIONS or bool(_SECRET_NAME.search(name))


def _mask_auth_properties(value: str) -> str:
    """``K:V,K:V`` with every value masked but those pymongo shows itself."""
    items = []
    for item in unquote_plus(value).split(","):
        key, colon, _ = item.partition(":")
        keep = colon and key.strip().upper() in SAFE_AUTH_PROPERTIES
        items.append(item if keep else (f"{key}:{MASK}" if colon else MASK))
    return ",".join(items)


def _mask_option(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if name.lower() == AUTH_PROPERTIES:
        return f"{name}={_mask_auth_properties(value)}"
    if is_secret_option(name) and value:
        return f"{name}={MASK}"
    return match.group(0)


def _userinfo_end(rest: str) -> int:
    """Index of the ``@`` that ends the userinfo in ``rest`` (the URI after ``scheme://``), or
    -1. pymongo: the host part ends at the first ``/``, userinfo at its last ``@``."""
    slash = rest.find("/")
    if slash < 0:
        slash = len(rest)
    at = rest.rfind("@", 0, slash)
    if at >= 0 or "@" not in rest:
        return at
    # No `@` before the first `/`, one after it: a password holding `/` (the driver refuses
    # it), unless the part before the `/` is a plain host list and the `@` is in the query.
    query = rest.find("?", slash)
    if query < 0:
        query = len(rest)
    if not _HOSTS.fullmatch(rest[:slash]):
        return rest.rfind("@")
    return rest.rfind("@", 0, query)


def _mask_one(uri: str) -> str:
    scheme = _SCHEME.match(uri)
    head_end = scheme.end() if scheme else 0
    head, rest = uri[:head_end], uri[head_end:]
    at = _userinfo_end(rest)
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        rest = f"{user}:{MASK}@{rest[at + 1 :]}" if colon else rest
    else:
        # No `@` (e.g. free text cut at a space inside a password): `user:secret` is no host list.
        host_end = len(rest) if "/" not in rest else rest.find("/")
        user, colon, _ = rest[:host_end].partition(":")
        if colon and not _HOSTS.fullmatch(rest[:host_end]):
            rest = f"{user}:{MASK}{rest[host_end:]}"
    return head + _OPTION.sub(_mask_option, rest)


def mask_uri(uri: str) -> str:
    """A connection string safe to print: password and secret options replaced by ``***``.
    Also for a value that is only meant to be a URI (a typo in the scheme, no scheme)."""
    return _AWS_TOKEN.sub(rf"\1{MASK}", _mask_one(uri))


def mask_text(text: str) -> str:
    """Free text (an error message, a child's stderr line, a report) with every URI in it
    masked, and every secret ``name=value`` option or ``AWS_SESSION_TOKEN:…`` outside one."""
    text = _URI_IN_TEXT.sub(lambda m: _mask_one(m.group(0)), text)
    text = _OPTION.sub(_mask_option, text)
    return _AWS_TOKEN.sub(rf"\1{MASK}", text)


__all__ = ["MASK", "is_secret_option", "mask_text", "mask_uri"]
