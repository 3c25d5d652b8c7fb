"""``grader lti``: the platforms this grader is an LTI 1.3 tool of, and its signing key.

    grader lti add-platform --issuer ISS --client-id ID --deployment-id DID
                            --auth-login-url URL --auth-token-url URL --jwks-url URL
    grader lti list [--json]
    grader lti remove PLATFORM_ID
    grader lti rotate-key

They work on the database of the settings (``GRADER_DATABASE_URL`` or the data folder's
SQLite file), as the server does; a running server sees a change at its next launch.
"""

from __future__ import annotations

import argparse
import json
import sys
from urllib.parse import urlsplit

from grader.cli.common import EXIT_PASSED, EXIT_USAGE
from grader.lti.keys import ToolKeys
from grader.settings import get_settings
from grader.storage.store import Store

URL_OPTIONS = ("auth_login_url", "auth_token_url", "jwks_url")
EXIT_NOT_FOUND = 1


def add_parser(command: argparse.ArgumentParser) -> None:
    which = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = which.add_parser("add-platform", help="register a platform (an LMS) that launches "
                           "this tool", description="register a platform: the values its "
                           "LTI 1.3 registration of this tool shows")
    for option, what in (("issuer", "the platform's issuer (iss), e.g. "
                          "https://canvas.instructure.com"),
                         ("client-id", "the client id the platform gave this tool"),
                         ("deployment-id", "the deployment id of the tool in the platform"),
                         ("auth-login-url", "the platform's OIDC authorization URL"),
                         ("auth-token-url", "the platform's OAuth2 token URL"),
                         ("jwks-url", "the platform's public keys (JWKS) URL")):
        add.add_argument(f"--{option}", required=True, help=what)
    listing = which.add_parser("list", help="the registered platforms")
    listing.add_argument("--json", action="store_true", help="as JSON")
    remove = which.add_parser("remove", help="forget a registered platform")
    remove.add_argument("platform_id", type=int, metavar="PLATFORM_ID",
                        help="its id, as `grader lti list` shows it")
    which.add_parser("rotate-key", help="make a new signing key; the old one stays "
                     "published at /lti/jwks for 7 days")


def _store() -> Store:
    settings = get_settings()
    return Store(settings.database, migrate=not settings.distributed)


def run(args: argparse.Namespace) -> int:
    store = _store()
    try:
        if args.action == "add-platform":
            return _add(store, args)
        if args.action == "list":
            return _list(store, args.json)
        if args.action == "remove":
            if not store.remove_platform(args.platform_id):
                print(f"grader: no platform {args.platform_id}", file=sys.stderr)
                return EXIT_NOT_FOUND
            print(f"grader: removed platform {args.platform_id}")
            return EXIT_PASSED
        kid = ToolKeys(store).rotate()
        print(f"grader: the tool now signs with key {kid}; the previous one stays published "
              "at /lti/jwks for 7 days")
        return EXIT_PASSED
    finally:
        store.close()


def _add(store: Store, args: argparse.Namespace) -> int:
    for option in URL_OPTIONS:
        parts = urlsplit(getattr(args, option))
        if parts.scheme not in ("https", "http") or not parts.netloc:
            print(f"grader: --{option.replace('_', '-')} must be an http(s) URL",
                  file=sys.stderr)
            return EXIT_USAGE
    fields = {name: getattr(args, name) for name in (
        "issuer", "client_id", "deployment_id", *URL_OPTIONS)}
    if store.find_platforms(args.issuer, args.client_id, args.deployment_id):
        print("grader: that issuer, client id and deployment id are registered already",
              file=sys.stderr)
        return EXIT_USAGE
    platform = store.add_platform(**fields)
    ToolKeys(store).signing()  # the tool's key, made now if it has none
    print(f"grader: registered platform {platform.id} ({platform.issuer}, client "
          f"{platform.client_id}, deployment {platform.deployment_id})")
    return EXIT_PASSED


def _list(store: Store, as_json: bool) -> int:
    rows = [{"id": p.id, "issuer": p.issuer, "client_id": p.client_id,
             "deployment_id": p.deployment_id, "auth_login_url": p.auth_login_url,
             "auth_token_url": p.auth_token_url, "jwks_url": p.jwks_url}
            for p in store.lti_platforms()]
    if as_json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no platform registered (grader lti add-platform)")
    for row in [] if as_json else rows:
        print(f"{row['id']}  {row['issuer']}  client {row['client_id']}  deployment "
              f"{row['deployment_id']}")
    return EXIT_PASSED
