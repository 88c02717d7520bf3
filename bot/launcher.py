"""Start the whole assistant with one command, and stop it cleanly.

`make run` needs the action server (:5055) and Rasa (:5005, REST + socketio) up together,
plus the toolkit website (:8080) when it is present. The same `Stack` is used by the test
suite (on free ports, with a throw-away tracker database) and by the benchmarks, so the
processes that are tested are started exactly as carers' processes are.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.shell.client import ShellClient
from bot.shell.session import interactive

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DEFAULT_MODEL = REPO_ROOT / "models" / "carers.tar.gz"
DEFAULT_CORS = "http://localhost:8080,http://127.0.0.1:8080"


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
    if extra:
        env.update(extra)
    return env


def wait_for_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers 2xx; fail early if the process dies meanwhile."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if 200 <= response.status < 300:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as err:
            last_error = err
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up in {timeout:.0f}s ({last_error})")


@dataclass
class Service:
    """One child process with a readiness URL and a log file."""

    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str]
    log_path: Path | None = None
    ready_timeout: float = 180.0
    proc: subprocess.Popen | None = None
    _log_handle: object | None = None

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        stdout: object | None = None
        if self.log_path is not None:
            self._log_handle = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            stdout = self._log_handle
        self.proc = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            start_new_session=True,
        )
        wait_for_http(self.health_url, self.ready_timeout, self.proc)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGINT first (Sanic shuts down cleanly), then SIGTERM, then SIGKILL."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.proc = None
        if self._log_handle is not None:
            self._log_handle.close()  # type: ignore[attr-defined]
            self._log_handle = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Stack:
    """The action server, Rasa and (optionally) the website, started in that order."""

    model: Path = DEFAULT_MODEL
    rasa_port: int = 5005
    actions_port: int = 5055
    web_port: int | None = 8080
    host: str = "127.0.0.1"
    log_dir: Path | None = None
    auth_token: str | None = None
    cors: str = DEFAULT_CORS
    extra_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}"

    @property
    def web_url(self) -> str | None:
        return f"http://{self.host}:{self.web_port}" if self.web_port else None

    def _log(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir else None

    def _endpoints_file(self) -> Path:
        """A copy of endpoints.yml pointing at this stack's action server."""
        text = (REPO_ROOT / "endpoints.yml").read_text(encoding="utf-8")
        text = text.replace("http://localhost:5055/webhook", f"{self.actions_url}/webhook")
        folder = self.log_dir or Path(tempfile.mkdtemp(prefix="carers-endpoints-"))
        path = folder / "endpoints.yml"
        path.write_text(text, encoding="utf-8")
        return path

    def build(self) -> None:
        """Create the service definitions (without starting anything)."""
        env = child_env(self.extra_env)
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        rasa_bin = str(VENV_BIN / "rasa")
        self.services["actions"] = Service(
            name="actions",
            argv=[
                rasa_bin,
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
        )
        rasa_argv = [
            rasa_bin,
            "run",
            "--model",
            str(self.model),
            "--endpoints",
            str(self._endpoints_file()),
            "--credentials",
            str(REPO_ROOT / "credentials.yml"),
            "--interface",
            self.host,
            "--port",
            str(self.rasa_port),
            "--cors",
            *[origin for origin in self.cors.split(",") if origin],
        ]
        if self.auth_token:
            # The token reaches Rasa through its argv only: it is never logged by us.
            rasa_argv += ["--enable-api", "--auth-token", self.auth_token]
        self.services["rasa"] = Service(
            name="rasa",
            argv=rasa_argv,
            health_url=f"{self.rasa_url}/webhooks/rest/",
            env=env,
            log_path=self._log("rasa"),
        )
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
            )

    def start(self) -> None:
        if not self.model.exists():
            raise FileNotFoundError(f"no trained model at {self.model}: run `make train`")
        if not self.services:
            self.build()
        try:
            for service in self.services.values():
                service.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()

    # Helpers the tests use to simulate outages.
    def stop_actions(self) -> None:
        self.services["actions"].stop()

    def start_actions(self) -> None:
        self.services["actions"].start()

    def stop_rasa(self) -> None:
        self.services["rasa"].stop()

    def start_rasa(self) -> None:
        self.services["rasa"].start()

    def log_text(self) -> str:
        """Everything the services have logged so far (tests grep it for secrets)."""
        parts = []
        for service in self.services.values():
            if service.log_path and service.log_path.exists():
                parts.append(service.log_path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)

    def wait(self) -> int:
        """Block until Ctrl-C or until one service dies; return an exit code."""
        try:
            while True:
                for service in self.services.values():
                    if not service.running:
                        code = service.proc.returncode if service.proc else 1
                        print(f"\n{service.name} stopped (exit code {code}); shutting down.")
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nStopping…")
            return 0
        finally:
            self.stop()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--rasa-port", type=int, default=5005)
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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stack = Stack(
        model=args.model,
        rasa_port=args.rasa_port,
        actions_port=args.actions_port,
        web_port=None if (args.no_web or args.shell) else args.web_port,
        host="127.0.0.1" if args.shell else "0.0.0.0",
        auth_token=(
            shell_token(args.explain) if args.shell else os.environ.get("RASA_AUTH_TOKEN") or None
        ),
        cors=os.environ.get("CARERS_CORS_ORIGINS", DEFAULT_CORS),
        log_dir=Path(tempfile.mkdtemp(prefix="carers-shell-")) if args.shell else None,
    )
    stack.build()
    if args.shell:
        return run_shell(stack, args.explain)
    print("Starting the action server and Rasa (loading the model takes ~30 s)…")
    stack.start()
    print(
        f"\nCarers' Assistant is running.\n  REST:    http://localhost:{stack.rasa_port}"
        f"/webhooks/rest/webhook\n  Actions: http://localhost:{stack.actions_port}"
    )
    if "web" in stack.services:
        print(f"  Website: http://localhost:{stack.web_port}")
    print("Press Ctrl-C to stop.")
    return stack.wait()


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
