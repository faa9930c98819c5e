"""``doctor``: what the tool would connect to and judge — servers, their features, and the
gateway under test (what an external gateway or a LibreChat checkout offers, and why not)."""

from __future__ import annotations

from typing import Any

from migrator import db
from migrator.choices import GatewayChoice
from migrator.settings import Settings


def doctor(cfg: Settings, gateway: GatewayChoice | None = None, progress: Any = None) -> dict:
    """A dictionary describing both servers and the selected gateway (no data is read)."""
    choice = gateway or GatewayChoice()
    out: dict[str, Any] = {"settings": cfg.describe(), "versions": db.driver_versions()}
    with db.server(cfg.mongo_uri, data_dir=cfg.data_dir) as srv:
        client = srv.client()
        try:
            info = db.server_info(client, srv.uri, features=True)
            out["legacy"] = info.to_dict()
            out["legacy"]["collections"] = len(client[cfg.db].list_collection_names())
            if cfg.gateway_uri:
                gsrv = db.Server(cfg.gateway_uri)
                g_client = gsrv.client()
                try:
                    out["gateway_server"] = db.server_info(
                        g_client, gsrv.uri, features=True
                    ).to_dict()
                finally:
                    g_client.close()
            out["gateway"] = _gateway(choice, cfg.gateway_uri or srv.uri, cfg.gateway_db, progress)
        finally:
            client.close()
    return out


def _gateway(choice: GatewayChoice, uri: str, database: str, progress: Any) -> dict[str, Any]:
    described: dict[str, Any] = {"under_test": choice.describe()}
    if choice.librechat:
        from migrator import librechat

        described["librechat"] = librechat.doctor_info(choice.librechat, progress=progress)
    if choice.external:
        from migrator.paths import start_external

        with start_external(choice, uri, database, progress) as ext:
            described.update(
                name=ext.name,
                version=ext.version,
                protocol=ext.protocol,
                branches=sorted(ext.branches),
                ops=sorted(ext.ops),
                not_offered=ext.not_offered,
            )
    return described


def render(out: dict[str, Any]) -> str:
    """The text ``migrator doctor`` prints."""
    leg = out["legacy"]
    feats = leg["features"]
    lines = [
        f"server:    {leg['kind']} {leg['version']} at {leg['uri']}",
        "features:  "
        + ", ".join(f"{k.replace('_', ' ')} {'yes' if v else 'no'}" for k, v in feats.items()),
        f"database:  {out['settings']['legacy'].rsplit(' / ', 1)[-1]} "
        f"({leg['collections']} collections)",
    ]
    if "gateway_server" in out:
        g = out["gateway_server"]
        lines.append(f"gateway db: {g['kind']} {g['version']} at {g['uri']}")
    gw = out["gateway"]
    lines.append(f"gateway:   {gw['under_test']}")
    if "protocol" in gw:
        lines.append(
            f"           {gw['name']} {gw['version']}, protocol {gw['protocol']}, "
            f"{len(gw['ops'])} operations offered"
            + (", legacy branch too" if "legacy" in gw["branches"] else "")
        )
        for op, why in sorted(gw["not_offered"].items()):
            lines.append(f"           not offered: {op} — {why}")
    if "librechat" in gw:
        for key, value in gw["librechat"].items():
            if key != "routing":
                lines.append(f"           {key}: {value}")
        for row in gw["librechat"].get("routing", []):
            lines.append(f"           {row}")
    if out["settings"].get("USE_DB_GATEWAY") is not None:
        lines.append(f"USE_DB_GATEWAY={out['settings']['USE_DB_GATEWAY']}")
    v = out["versions"]
    lines.append(f"client:    pymongo {v['pymongo']}, Python {v['python']}")
    return "\n".join(lines)
