"""Run the Pocket ID stand-in as a command: ``python -m altx10_helpers.idp`` or ``altx10-pocket-id``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping, Sequence

from ..errors import ConfigurationError
from .server import DEFAULT_CALLBACK_URLS, DEFAULT_LOGOUT_CALLBACK_URLS, LocalPocketId

DESCRIPTION = """\
A local stand-in for Pocket ID (v2.14 on the wire): an OpenID Connect provider for the altx10 notebooks.
It prints a demo user, group, client (id and secret) and a one-time login code; open the printed /lc/ link
(or the discovery URL) in a browser, or sign in headless with the admin API like a script does against a
real Pocket ID. State lives in memory unless --db is given.
"""

EPILOG = """\
environment variables (Pocket ID's own names; options win over them):
  APP_URL            the issuer and browser-facing address (default http://localhost:PORT)
  INTERNAL_APP_URL   where back channels reach it: token, userinfo, introspection and JWKS are
                     advertised on it (default APP_URL)
  STATIC_API_KEY     admin API key for the X-API-Key header, >= 16 characters (generated and
                     printed when unset)
  PORT               port to listen on (default 1411)
  HOST               address to listen on (default 127.0.0.1)

example:
  APP_URL=http://localhost:1411 python -m altx10_helpers.idp
  curl http://localhost:1411/.well-known/openid-configuration
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="altx10-pocket-id", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", help="address to listen on (env HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (env PORT, default 1411; 0 picks a free one)")
    parser.add_argument("--app-url", help="issuer / browser-facing base URL (env APP_URL)")
    parser.add_argument("--internal-app-url", help="back-channel base URL (env INTERNAL_APP_URL)")
    parser.add_argument("--behind-jupyter-proxy", action="store_true",
                        help="served by jupyter-server-proxy: take APP_URL from the first proxied browser request "
                             "(Host, X-Forwarded-Proto, X-Forwarded-Prefix); the back channel stays on loopback "
                             "(--app-url and --internal-app-url are not used)")
    parser.add_argument("--db", metavar="PATH", help="keep state (and the signing key) in this SQLite file")
    parser.add_argument("--callback-url", action="append", metavar="URL",
                        help="demo client callback URL (repeatable; default: loopback /auth/callback, any port)")
    parser.add_argument("--logout-callback-url", action="append", metavar="URL",
                        help="demo client post-logout URL (repeatable; default: loopback /, any port)")
    parser.add_argument("--no-demo", action="store_true", help="do not create the demo user, group and client")
    parser.add_argument("--log-requests", action="store_true", help="print one line per HTTP request")
    return parser


def _port(value: str | None, name: str) -> int:
    try:
        port = int(value) if value else 1411
    except ValueError:
        raise ConfigurationError(f"{name} must be a port number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"{name} must be between 0 and 65535, got {port}")
    return port


def make_idp(args: argparse.Namespace, env: Mapping[str, str]) -> LocalPocketId:
    """The stand-in configured from options, then Pocket ID's environment variables, then defaults."""
    port = args.port if args.port is not None else _port(env.get("PORT"), "PORT")
    port = _port(str(port), "--port")
    host = args.host or env.get("HOST") or "127.0.0.1"
    app_url = args.app_url or env.get("APP_URL") or (f"http://localhost:{port}" if port else None)
    if args.behind_jupyter_proxy:  # loopback until the proxy shows the public address
        return LocalPocketId(api_key=env.get("STATIC_API_KEY") or None, host="127.0.0.1", port=port, db_path=args.db,
                             log_requests=args.log_requests, public_url_from_proxy=True)
    return LocalPocketId(app_url=app_url, internal_app_url=args.internal_app_url or env.get("INTERNAL_APP_URL"),
                         api_key=env.get("STATIC_API_KEY") or None, host=host, port=port, db_path=args.db,
                         log_requests=args.log_requests)


def describe(idp: LocalPocketId, *, demo: bool, callback_urls: list[str] | None,
             logout_callback_urls: list[str] | None) -> str:
    """What a new user needs: where it listens, the admin key, and (with ``demo``) a ready login."""
    lines = [
        f"Pocket ID stand-in listening on http://{idp.host}:{idp.port}",
        f"  issuer (APP_URL)    {idp.url}",
        f"  discovery           {idp.url}/.well-known/openid-configuration",
        f"  back channel        {idp.internal_url}",
        f"  admin API key       {idp.api_key}" + ("   (generated; set STATIC_API_KEY to fix it)"
                                                  if idp.provider.api_key_generated else ""),
    ]
    if demo:
        d = idp.seed_demo(callback_urls, logout_callback_urls)
        code = d.login_code()
        lines += [
            "",
            f"demo user     {d.user['username']} <{d.user['email']}>  id {d.user['id']}",
            f"demo group    {d.group['name']}  id {d.group['id']}",
            f"demo client   id     {d.client_id}",
            f"              secret {d.client_secret}   (shown once)",
            f"              callbacks {', '.join(d.client['callbackURLs'])}",
            f"              logout    {', '.join(d.client['logoutCallbackURLs'])}",
            f"login code    {code}   (one use, 15 minutes)",
            f"  sign in in a browser: {idp.url}/lc/{code}",
            f"  more codes:  curl -X POST -H 'X-API-Key: {idp.api_key}' -H 'Content-Type: application/json' "
            f"-d '{{\"ttl\":\"15m\"}}' {idp.internal_url}/api/users/{d.user['id']}/one-time-access-token",
        ]
    lines += ["", "Press Ctrl+C to stop."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        idp = make_idp(args, os.environ if env is None else env)
        idp.start()
    except (ConfigurationError, OSError) as exc:
        print(f"altx10-pocket-id: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: idp.stop())
    try:
        print(describe(idp, demo=not args.no_demo, callback_urls=args.callback_url or DEFAULT_CALLBACK_URLS,
                       logout_callback_urls=args.logout_callback_url or DEFAULT_LOGOUT_CALLBACK_URLS), flush=True)
        idp.wait()
    except KeyboardInterrupt:
        pass
    finally:
        idp.stop()
        idp.provider.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
