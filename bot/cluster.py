"""Cluster mode's shared parts: the nginx configuration, PostgreSQL and Redis (``make cluster``).

Several Rasa servers serve one assistant when they share what a conversation needs:

* the masked tracker store on PostgreSQL (``CARERS_TRACKER_DB_URL``; the database is created
  when it is missing), so any server can carry on any conversation;
* a Redis lock store (``CARERS_LOCK_STORE_URL``, see ``bot.lock_store``), so one
  conversation's messages are handled one at a time, in order, whichever server gets them;
* nginx in front, spreading REST messages over the servers and moving to the next server when
  one fails (:func:`site_config`; docs/deploy.md shows the same file for separate machines).

Nothing here starts a process: ``bot.launcher`` does.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from bot.purge import prepare_database

DEFAULT_TRACKER_DB_URL = "postgresql://postgres@127.0.0.1:5432/carers"
DEFAULT_LOCK_STORE_URL = "redis://127.0.0.1:6379/0"
# How long a dead server's hold on a conversation blocks the others (Rasa's default is 60 s).
DEFAULT_LOCK_LIFETIME_SECONDS = 15


class ClusterPartMissing(RuntimeError):
    """nginx, PostgreSQL or Redis is not there; the message says which and how to fix it."""


def nginx_binary() -> str:
    """Path of Debian's nginx (``scripts/install_nginx.sh`` installs it)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise ClusterPartMissing("nginx is not installed: run `bash scripts/install_nginx.sh`")
    return found


def site_config(listen: str, servers: Sequence[str]) -> str:
    """The nginx ``http``-level configuration: upstreams and the public server.

    ``listen`` is nginx's listen address ("5005", "0.0.0.0:5005"); ``servers`` the Rasa
    servers as ``host:port``.
    """
    rest = "\n".join(f"    server {s} max_fails=1 fail_timeout=5s;" for s in servers)
    return f"""\
# Carers' Assistant: nginx in front of {len(servers)} Rasa servers (written by bot/cluster.py).

# REST (the Telegram bridge, rasa shell, the tests): any server can take any message, because
# conversations live in PostgreSQL and a Redis lock keeps each one's messages in order.
upstream carers_rasa {{
    least_conn;
{rest}
    keepalive 32;
}}

# socket.io (the website widget): a session's long-polling requests must reach the server that
# opened it, so one visitor sticks to one server (by IP address). Every visitor behind the same
# address lands on the same server; if it fails, the widget reconnects to another one and
# carries on with the same conversation (session_persistence, shared tracker store).
upstream carers_socketio {{
    ip_hash;
{rest}
}}

map $http_upgrade $carers_connection {{
    default upgrade;
    ''      close;
}}

server {{
    listen {listen};
    server_tokens off;
    client_max_body_size 64k;
    client_body_buffer_size 64k;
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_buffers 16 16k;
    proxy_max_temp_file_size 0;
    proxy_connect_timeout 2s;
    proxy_send_timeout 30s;
    proxy_read_timeout 120s;
    # A server that is down, or dies while answering: send the request to the next one.
    # POST is retried too (non_idempotent): only a message in flight at the moment a server
    # dies can be handled twice, and the carer still gets one answer.
    proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;
    proxy_next_upstream_tries 3;
    proxy_next_upstream_timeout 120s;

    location /socket.io/ {{
        proxy_pass http://carers_socketio;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $carers_connection;
        proxy_buffering off;
        proxy_read_timeout 3600s;
    }}

    location / {{
        proxy_pass http://carers_rasa;
        proxy_set_header Connection "";
    }}
}}
"""


def nginx_config(listen: str, servers: Sequence[str], run_dir: Path) -> str:
    """A complete nginx.conf for a local cluster whose files all live in ``run_dir``.

    No access log, and only critical errors: nginx quotes the client's address and the request
    line (a conversation id, the API token of ``?token=`` URLs) in both.
    """
    temp = run_dir / "temp"
    return f"""\
worker_processes 1;
pid {run_dir / "nginx.pid"};
error_log {run_dir / "nginx-error.log"} crit;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};

{_indent(site_config(listen, servers))}
}}
"""


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())


def write_nginx_config(listen: str, servers: Sequence[str], run_dir: Path) -> Path:
    """Write :func:`nginx_config` into ``run_dir`` and return its path."""
    (run_dir / "temp").mkdir(parents=True, exist_ok=True)
    path = run_dir / "nginx.conf"
    path.write_text(nginx_config(listen, servers, run_dir), encoding="utf-8")
    return path


def check_redis(url: str, timeout: float = 3.0) -> None:
    """Fail with a clear message when the Redis server of the lock store does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as err:
        raise ClusterPartMissing(
            f"Redis at {_hide_password(url)} does not answer ({type(err).__name__}): start it "
            "or set CARERS_LOCK_STORE_URL"
        ) from None
    finally:
        client.close()


def prepare_tracker_database(url: str) -> None:
    """Create the PostgreSQL database if needed, failing clearly when PostgreSQL is down."""
    import sqlalchemy.exc

    try:
        prepare_database(url)
    except sqlalchemy.exc.OperationalError as err:
        raise ClusterPartMissing(
            f"PostgreSQL at {_hide_password(url)} does not answer ({type(err).__name__}): "
            "start it or set CARERS_TRACKER_DB_URL"
        ) from None


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as "(the configured URL)"
        return "(the configured URL)"
