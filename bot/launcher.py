"""Start the whole assistant with one command, keep it running, and stop it cleanly.

`make run` (embedded) needs the action server (:5055) and one Rasa server (:5005, REST +
socketio) up together, plus the toolkit website (:8080) when it is present: SQLite, the lock in
memory, nothing else to install. `make cluster` (``--cluster``) puts nginx on :5005 in front of
Rasa servers on :5006 and :5007 that share PostgreSQL and Redis (``bot.cluster``).

The launcher supervises its children (``bot.supervise``): SIGTERM, SIGINT and SIGHUP stop every
one of them; a child that dies is restarted, and one that keeps dying stops the stack with a
non-zero exit naming it. The same `Stack` is used by the test suite (on free ports, with a
throw-away tracker database) and by the benchmarks, so the processes that are tested are
started exactly as carers' processes are.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.cluster import (
    DEFAULT_LOCK_LIFETIME_SECONDS,
    DEFAULT_LOCK_STORE_URL,
    DEFAULT_TRACKER_DB_URL,
    ClusterPartMissing,
    check_redis,
    nginx_binary,
    prepare_tracker_database,
    write_nginx_config,
)
from bot.lock_store import LOCK_STORE_URL_ENV
from bot.purge import DB_URL_ENV
from bot.shell.client import ShellClient
from bot.shell.session import interactive
from bot.supervise import ChildFailed, Service, Supervisor, main_guard, stop_all, wait_for_http

__all__ = [
    "ClusterStack",
    "Service",
    "Stack",
    "child_env",
    "free_port",
    "wait_for_http",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DEFAULT_MODEL = REPO_ROOT / "models" / "carers.tar.gz"
DEFAULT_CORS = "http://localhost:8080,http://127.0.0.1:8080"
# endpoints.yml reads the action server's URL from here (Rasa expands ${...} itself).
ACTION_URL_ENV = "CARERS_ACTION_ENDPOINT_URL"
DEFAULT_ACTION_URL = "http://localhost:5055/webhook"


def free_port() -> int:
    """A TCP port on loopback that nothing is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for our processes: repo importable, no telemetry, quiet TensorFlow."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The action server must keep idle connections open longer than Rasa's aiohttp client
    # reuses them (15 s); with Sanic's default 5 s, busy turns lose custom actions with
    # "Cannot write to closing transport".
    env.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", "75")
    env.setdefault(ACTION_URL_ENV, DEFAULT_ACTION_URL)
    if extra:
        env.update(extra)
    return env


@dataclass
class Stack:
    """The action server, Rasa and (optionally) the website, started in that order.

    ``make run``'s embedded mode: one Rasa server, SQLite, the lock in memory. The same class is
    what the tests and benchmarks start (on free ports), so what is tested is what runs.
    """

    model: Path = DEFAULT_MODEL
    rasa_port: int = 5005
    actions_port: int = 5055
    web_port: int | None = 8080
    host: str = "127.0.0.1"
    log_dir: Path | None = None
    auth_token: str | None = None
    cors: str = DEFAULT_CORS
    extra_env: dict[str, str] = field(default_factory=dict)
    endpoints: Path = REPO_ROOT / "endpoints.yml"
    services: dict[str, Service] = field(default_factory=dict)

    @classmethod
    def on_free_ports(cls, model: Path, workdir: Path, auth_token: str | None = None) -> Stack:
        """A throw-away stack for tests and benchmarks: free ports, no website, its own SQLite
        conversations and logs in ``workdir``, so it never meets a running ``make run``."""
        return cls(
            model=model,
            rasa_port=free_port(),
            actions_port=free_port(),
            web_port=None,
            log_dir=workdir / "logs",
            auth_token=auth_token or secrets.token_urlsafe(24),
            cors="*",
            extra_env={"CARERS_TRACKER_DB_URL": f"sqlite:///{workdir / 'conversations.db'}"},
        )

    @property
    def rasa_url(self) -> str:
        """Where carers' messages go (nginx in cluster mode)."""
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}"

    @property
    def web_url(self) -> str | None:
        return f"http://{self.host}:{self.web_port}" if self.web_port else None

    def rasa_servers(self) -> dict[str, int]:
        """The Rasa servers to start, by service name, with their ports."""
        return {"rasa": self.rasa_port}

    def _log(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir else None

    def _env(self) -> dict[str, str]:
        return child_env({ACTION_URL_ENV: f"{self.actions_url}/webhook", **self.extra_env})

    def _rasa_service(
        self, name: str, port: int, env: dict[str, str], interface: str | None = None
    ) -> Service:
        interface = interface or self.host
        argv = [
            sys.executable,
            "-m",
            "bot.rasa36",  # Rasa's own `rasa run`, with our documented corrections
            "run",
            "--model",
            str(self.model),
            "--endpoints",
            str(self.endpoints),
            "--credentials",
            str(REPO_ROOT / "credentials.yml"),
            "--interface",
            interface,
            "--port",
            str(port),
            "--cors",
            *[origin for origin in self.cors.split(",") if origin],
        ]
        if self.auth_token:
            # The token reaches Rasa through its argv only: it is never logged by us. One
            # argument with "=", so a token that starts with "-" is not read as an option.
            argv += ["--enable-api", f"--auth-token={self.auth_token}"]
        return Service(
            name=name,
            argv=argv,
            health_url=f"http://{interface}:{port}/webhooks/rest/",
            env=env,
            log_path=self._log(name),
            cwd=REPO_ROOT,
        )

    def _proxy_service(self, env: dict[str, str]) -> Service | None:
        """The reverse proxy in front of the Rasa servers (cluster mode only)."""
        return None

    def build(self) -> None:
        """Create the service definitions (without starting anything)."""
        env = self._env()
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self.services["actions"] = Service(
            name="actions",
            argv=[
                str(VENV_BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(self.actions_port),
            ],
            health_url=f"{self.actions_url}/health",
            env=env,
            log_path=self._log("actions"),
            cwd=REPO_ROOT,
        )
        for name, port in self.rasa_servers().items():
            self.services[name] = self._rasa_service(name, port, env)
        proxy = self._proxy_service(env)
        if proxy is not None:
            self.services[proxy.name] = proxy
        if self.web_port and (REPO_ROOT / "bot" / "web" / "__main__.py").exists():
            self.services["web"] = Service(
                name="web",
                argv=[
                    sys.executable,
                    "-m",
                    "bot.web",
                    "--port",
                    str(self.web_port),
                    "--rasa-url",
                    f"http://localhost:{self.rasa_port}",
                ],
                health_url=f"{self.web_url}/",
                env=env,
                log_path=self._log("web"),
                ready_timeout=30.0,
                cwd=REPO_ROOT,
            )

    def prepare(self) -> None:
        """Check what the stack needs before any process starts."""
        if not self.model.exists():
            raise FileNotFoundError(f"no trained model at {self.model}: run `make train`")

    def start(self) -> None:
        """Start everything; the Rasa servers load their models side by side."""
        self.prepare()
        if not self.services:
            self.build()
        try:
            self.services["actions"].start()
            servers = [self.services[name] for name in self.rasa_servers()]
            for server in servers:
                server.spawn()
            for server in servers:
                server.wait_ready()
            for name, service in self.services.items():
                if name != "actions" and name not in self.rasa_servers():
                    service.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every child at once; anything still running after a few seconds is killed."""
        stop_all(list(reversed(list(self.services.values()))))

    # Helpers the tests use to simulate outages.
    def stop_actions(self) -> None:
        self.services["actions"].stop()

    def start_actions(self) -> None:
        self.services["actions"].start()

    def stop_rasa(self) -> None:
        stop_all([self.services[name] for name in self.rasa_servers()])

    def start_rasa(self) -> None:
        for name in self.rasa_servers():
            self.services[name].start()

    def log_text(self) -> str:
        """Everything the services have logged so far (tests grep it for secrets)."""
        parts = []
        for service in self.services.values():
            if service.log_path and service.log_path.exists():
                parts.append(service.log_path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)

    def wait(self) -> int:
        """Supervise until stopped; a child that keeps dying stops everything (exit 1)."""
        try:
            Supervisor(list(self.services.values())).watch()
            return 0
        except ChildFailed as err:
            print(f"\n{err}; shutting down.", file=sys.stderr, flush=True)
            return 1
        finally:
            self.stop()


@dataclass
class ClusterStack(Stack):
    """``make cluster``: nginx on ``rasa_port`` in front of several Rasa servers that share
    PostgreSQL (conversations) and Redis (conversation locks); see ``bot.cluster``."""

    backend_ports: tuple[int, ...] = (5006, 5007)
    tracker_db_url: str = field(
        default_factory=lambda: os.environ.get(DB_URL_ENV) or DEFAULT_TRACKER_DB_URL
    )
    lock_store_url: str = field(
        default_factory=lambda: os.environ.get(LOCK_STORE_URL_ENV) or DEFAULT_LOCK_STORE_URL
    )
    run_dir: Path | None = None
    _temp_dir: Path | None = field(default=None, repr=False)

    def rasa_servers(self) -> dict[str, int]:
        return {f"rasa-{n}": port for n, port in enumerate(self.backend_ports, start=1)}

    def _rasa_service(
        self, name: str, port: int, env: dict[str, str], interface: str | None = None
    ) -> Service:
        """Rasa servers listen on loopback only: carers reach them through nginx."""
        return super()._rasa_service(name, port, env, interface or "127.0.0.1")

    def backend_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.rasa_servers()[name]}"

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env[DB_URL_ENV] = self.tracker_db_url
        env[LOCK_STORE_URL_ENV] = self.lock_store_url
        env.setdefault("TICKET_LOCK_LIFETIME", str(DEFAULT_LOCK_LIFETIME_SECONDS))
        return env

    def _run_dir(self) -> Path:
        """nginx's configuration, pid and temporary files (beside the logs, or a temp dir)."""
        if self.run_dir is None:
            if self.log_dir is None:
                self._temp_dir = Path(tempfile.mkdtemp(prefix="carers-cluster-"))
            self.run_dir = (self.log_dir or self._temp_dir) / "nginx"
        return self.run_dir

    def stop(self) -> None:
        super().stop()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir, self.run_dir = None, None

    def _proxy_service(self, env: dict[str, str]) -> Service | None:
        servers = [f"127.0.0.1:{port}" for port in self.backend_ports]
        listen = f"{self.host}:{self.rasa_port}"
        conf = write_nginx_config(listen, servers, self._run_dir())
        return Service(
            name="nginx",
            argv=[nginx_binary(), "-p", str(self._run_dir()), "-c", str(conf), "-g", "daemon off;"],
            health_url=f"{self.rasa_url}/webhooks/rest/",
            env=env,
            log_path=self._log("nginx"),
            ready_timeout=20.0,
            cwd=REPO_ROOT,
        )

    def prepare(self) -> None:
        super().prepare()
        nginx_binary()
        prepare_tracker_database(self.tracker_db_url)
        check_redis(self.lock_store_url)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument(
        "--rasa-port", type=int, default=5005, help="Rasa's port (nginx's with --cluster)"
    )
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8080)
    parser.add_argument("--no-web", action="store_true", help="do not serve the website")
    parser.add_argument(
        "--shell",
        action="store_true",
        help="start the action server and Rasa on loopback, then the staff shell (bot.shell) "
        "in this terminal: the same guarded REST channel carers use",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="with --shell: show under each reply why it was chosen (staff only)",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="nginx on --rasa-port in front of Rasa servers on --backend-ports, sharing "
        "PostgreSQL (CARERS_TRACKER_DB_URL) and Redis (CARERS_LOCK_STORE_URL)",
    )
    parser.add_argument(
        "--backend-ports",
        default="5006,5007",
        help="the cluster's Rasa servers' ports, comma-separated (default 5006,5007)",
    )
    return parser.parse_args(argv)


def make_stack(args: argparse.Namespace) -> Stack:
    """The stack the command line asks for."""
    common = {
        "model": args.model,
        "rasa_port": args.rasa_port,
        "actions_port": args.actions_port,
        "web_port": None if (args.no_web or args.shell) else args.web_port,
        "host": "127.0.0.1" if args.shell else "0.0.0.0",
        "auth_token": (
            shell_token(args.explain) if args.shell else os.environ.get("RASA_AUTH_TOKEN") or None
        ),
        "cors": os.environ.get("CARERS_CORS_ORIGINS", DEFAULT_CORS),
        "log_dir": Path(tempfile.mkdtemp(prefix="carers-shell-")) if args.shell else None,
    }
    if args.cluster:
        ports = tuple(int(port) for port in args.backend_ports.split(",") if port.strip())
        return ClusterStack(backend_ports=ports, **common)
    return Stack(**common)


def serve(stack: Stack) -> int:
    """Start the stack, say where it is, and supervise it until told to stop."""
    try:
        if isinstance(stack, ClusterStack):
            print(
                f"Starting the action server, {len(stack.backend_ports)} Rasa servers and nginx "
                "(loading the models takes ~60 s)…",
                flush=True,
            )
        else:
            print("Starting the action server and Rasa (loading the model takes ~30 s)…")
        if not stack.services:
            stack.build()
        stack.start()
    except (ChildFailed, ClusterPartMissing, FileNotFoundError) as err:
        print(f"Could not start: {err}", file=sys.stderr, flush=True)
        return 1
    lines = [
        "",
        "Carers' Assistant is running.",
        f"  REST:    http://localhost:{stack.rasa_port}/webhooks/rest/webhook",
        f"  Actions: http://localhost:{stack.actions_port}",
    ]
    if "web" in stack.services:
        lines.append(f"  Website: http://localhost:{stack.web_port}")
    if isinstance(stack, ClusterStack):
        servers = ", ".join(f":{port}" for port in stack.backend_ports)
        lines.append(f"  nginx :{stack.rasa_port} -> Rasa servers {servers}")
    lines += [f"  {name} pid {service.pid}" for name, service in stack.services.items()]
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
    return stack.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stack = make_stack(args)
    if args.shell:
        stack.build()
        return run_shell(stack, args.explain)

    def run() -> int:
        try:
            return serve(stack)
        finally:
            stack.stop()

    return main_guard(run)


def shell_token(explain: bool) -> str | None:
    """A random API token for this shell run only, when --explain needs Rasa's tracker API."""
    return secrets.token_urlsafe(24) if explain else None


def run_shell(stack: Stack, explain: bool = False) -> int:
    """The staff shell in the foreground, talking to this stack over the guarded REST channel.

    Both servers listen on loopback only; their logs go to a temporary folder so they do not
    interleave with the conversation. The API token (with --explain) lives in this process and
    Rasa's argv only.
    """
    print("Starting the action server and Rasa on this machine (about 30 s)…", flush=True)
    try:
        stack.start()
        return interactive(ShellClient(stack.rasa_url, token=stack.auth_token), explain)
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError):
        print(f"The assistant did not start; logs are in {stack.log_dir}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
