"""Which connection string a person reviews the team store with.

The machine policy's `central_store` names the server (and holds the desktop's own
certificate, for uploads). A person logs in as themselves: their `central_login` setting
holds their own libpq parameters (user, sslcert, sslkey), laid over the server's. Only
those may come from the user's setting: the server, and how it is checked (sslmode,
sslrootcert), are IT's, so a user setting cannot point QA notes at another server or turn
certificate checks off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from callcoach.central.connect import check_tls
from callcoach.errors import CallCoachError

SERVER_KEYS = ("host", "hostaddr", "port", "dbname", "sslmode", "sslrootcert", "sslcrl", "sslcompression",
               "ssl_min_protocol_version", "target_session_attrs", "connect_timeout")
PERSON_KEYS = ("user", "sslcert", "sslkey", "sslpassword", "passfile", "password")
_PATHS = ("sslcert", "sslkey", "passfile")


@dataclass(frozen=True)
class TeamLogin:
    dsn: str | None  # the person's connection string, when it can be made
    problem: str | None  # why there is none, in one line (shown on the disabled Team switch)
    user: str | None = None


def team_login(central_store: str, central_login: str) -> TeamLogin:
    """The person's connection: central_store's server keys, central_login's person keys."""
    if not central_store.strip():
        return TeamLogin(None, "no team store: the machine policy does not set central_store")
    if not central_login.strip():
        return TeamLogin(None, "set central_login to your own login (user=… sslcert=… sslkey=…) to open Team")
    try:
        return TeamLogin(merged_dsn(central_store, central_login), None,
                         _parse(central_login, "central_login").get("user"))
    except CallCoachError as exc:
        return TeamLogin(None, str(exc))


def merged_dsn(central_store: str, central_login: str) -> str:
    """A libpq connection string; CallCoachError (one line, no secrets) when it cannot be made."""
    from psycopg.conninfo import make_conninfo

    server = {k: v for k, v in _parse(central_store, "central_store").items() if k in SERVER_KEYS}
    person = _parse(central_login, "central_login")
    foreign = sorted(set(person) - set(PERSON_KEYS))
    if foreign:
        raise CallCoachError(f"central_login may set only {', '.join(PERSON_KEYS)}, not {', '.join(foreign)} "
                             "(the server is the machine policy's central_store)")
    if not person.get("user"):
        raise CallCoachError("central_login has no user=… (your login on the team store)")
    for key in _PATHS:
        if key in person:
            person[key] = os.path.expanduser(os.path.expandvars(person[key]))
    dsn = make_conninfo(**server, **person)
    check_tls(dsn)
    return dsn


def _parse(conninfo: str, name: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    except Exception as exc:  # psycopg.ProgrammingError; its text may quote the string: not shown
        raise CallCoachError(f"{name} is not a valid libpq connection string ({type(exc).__name__})") from None
