"""The launcher's supervision, with real child processes that start in a moment.

Children here are ``python -m http.server`` (a real process answering HTTP on a real port), so
signals, process groups, restarts and freed ports are tested without loading a Rasa model. The
full stacks are covered by tests/test_make_targets.py (SIGTERM to ``make run`` and ``make
cluster``) and tests/test_cluster.py (faults).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.launcher import REPO_ROOT, ClusterStack, Stack, child_env, free_port
from bot.supervise import ChildFailed, Service, Supervisor, stop_all


def _http_child(name: str, port: int, tmp_path: Path) -> Service:
    return Service(
        name=name,
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        health_url=f"http://127.0.0.1:{port}/",
        env=child_env(),
        log_path=tmp_path / f"{name}.log",
        ready_timeout=20.0,
        cwd=tmp_path,
    )


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_child_that_dies_is_restarted(tmp_path: Path) -> None:
    port = free_port()
    child = _http_child("files", port, tmp_path)
    child.start()
    first_pid = child.pid
    assert first_pid is not None
    said: list[str] = []
    try:
        os.killpg(first_pid, signal.SIGKILL)
        supervisor = Supervisor([child], poll_seconds=0.1, say=said.append)
        supervisor.watch(until=lambda: any("running again" in line for line in said))
        assert child.pid != first_pid and _listening(port)
        assert said[0].startswith("files exited (code -9); restarting")
    finally:
        stop_all([child])


def test_a_child_that_keeps_dying_stops_the_stack_naming_it(tmp_path: Path) -> None:
    broken = Service(
        name="actions",
        argv=[sys.executable, "-c", "import sys; sys.exit(3)"],
        health_url=f"http://127.0.0.1:{free_port()}/",
        env=child_env(),
        ready_timeout=5.0,
    )
    broken.spawn()
    supervisor = Supervisor([broken], max_restarts=2, poll_seconds=0.05, say=lambda _: None)
    expected = r"^actions keeps exiting \(last exit code 3, restarted 2 times"
    with pytest.raises(ChildFailed, match=expected):
        supervisor.watch()
    stop_all([broken])


# A launcher in miniature: the real supervision code (main_guard, Supervisor, stop_all) over
# two real HTTP children, in its own process so that it can be signalled like `make run`.
MINI_LAUNCHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot.launcher import child_env
    from bot.supervise import Service, Supervisor, main_guard, stop_all

    ports = [int(p) for p in sys.argv[1:3]]
    children = [
        Service(f"child-{p}", [sys.executable, "-m", "http.server", str(p), "--bind",
                "127.0.0.1"], f"http://127.0.0.1:{p}/", child_env(), cwd=Path(sys.argv[3]),
                log_path=Path(sys.argv[3]) / f"child-{p}.log")
        for p in ports
    ]

    def run() -> int:
        try:
            for child in children:
                child.start()
            print("pids", *[child.pid for child in children], flush=True)
            Supervisor(children).watch()
            return 1
        finally:
            stop_all(children)

    sys.exit(main_guard(run))
    """
)


def _start_mini_launcher(tmp_path: Path) -> tuple[subprocess.Popen, list[int], list[int]]:
    ports = [free_port(), free_port()]
    proc = subprocess.Popen(
        [sys.executable, "-c", MINI_LAUNCHER, *map(str, ports), str(tmp_path)],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("pids"):
        proc.terminate()  # it stops whatever it started before failing the test
        proc.wait(15)
        pytest.fail(f"the launcher did not start its children: {line}")
    return proc, ports, [int(pid) for pid in line.split()[1:]]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_stop_signals_stop_every_child_and_free_every_port(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc, ports, pids = _start_mini_launcher(tmp_path)
    try:
        assert all(_listening(port) for port in ports)
        proc.send_signal(sig)
        assert proc.wait(10) == 0
        assert _wait(lambda: not any(_listening(p) for p in ports), 10), "a port is still taken"
        assert _wait(lambda: not any(_alive(pid) for pid in pids), 10), "a child outlived it"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in pids:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)


def test_children_stop_even_when_the_launcher_is_killed_outright(tmp_path: Path) -> None:
    proc, ports, pids = _start_mini_launcher(tmp_path)
    try:
        proc.kill()  # SIGKILL: no handler runs, only the kernel's parent-death signal
        proc.wait(10)
        assert _wait(lambda: not any(_alive(pid) for pid in pids), 10), "orphans were left"
        assert not any(_listening(p) for p in ports)
    finally:
        for pid in pids:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)


# --- how the stacks are put together ----------------------------------------------------------


def test_rasa_reads_the_shared_endpoints_file_with_the_action_url_from_the_environment() -> None:
    from rasa.core.utils import AvailableEndpoints

    stack = Stack(web_port=None, actions_port=6123)
    stack.build()
    rasa = stack.services["rasa"]
    assert rasa.argv[1:4] == ["-m", "bot.rasa36", "run"]  # Rasa with bot/rasa36.py's fixes
    assert rasa.argv[rasa.argv.index("--endpoints") + 1] == str(REPO_ROOT / "endpoints.yml")
    previous = os.environ.get("CARERS_ACTION_ENDPOINT_URL")
    os.environ["CARERS_ACTION_ENDPOINT_URL"] = rasa.env["CARERS_ACTION_ENDPOINT_URL"]
    try:
        endpoints = AvailableEndpoints.read_endpoints(str(REPO_ROOT / "endpoints.yml"))
    finally:
        if previous is None:
            del os.environ["CARERS_ACTION_ENDPOINT_URL"]
        else:
            os.environ["CARERS_ACTION_ENDPOINT_URL"] = previous
    assert endpoints.action is not None
    assert endpoints.action.url == "http://127.0.0.1:6123/webhook"
    assert endpoints.tracker_store.type == "bot.tracker_store.RedactingTrackerStore"
    assert endpoints.lock_store.type == "bot.lock_store.CarersLockStore"


def test_the_cluster_puts_rasa_behind_nginx_on_shared_postgresql_and_redis(
    tmp_path: Path,
) -> None:
    stack = ClusterStack(
        web_port=None,
        rasa_port=7005,
        backend_ports=(7006, 7007),
        log_dir=tmp_path,
        tracker_db_url="postgresql://postgres@db.example:5432/carers",
        lock_store_url="redis://cache.example:6379/0",
    )
    try:
        stack.build()
    except Exception as err:  # noqa: BLE001 - only a missing nginx is acceptable here
        pytest.skip(f"nginx is not installed ({err})")
    assert list(stack.services) == ["actions", "rasa-1", "rasa-2", "nginx"]
    for name, port in (("rasa-1", 7006), ("rasa-2", 7007)):
        argv = stack.services[name].argv
        assert argv[argv.index("--port") + 1] == str(port)
        assert argv[argv.index("--interface") + 1] == "127.0.0.1"  # only nginx is public
        env = stack.services[name].env
        assert env["CARERS_TRACKER_DB_URL"] == "postgresql://postgres@db.example:5432/carers"
        assert env["CARERS_LOCK_STORE_URL"] == "redis://cache.example:6379/0"
        assert int(env["TICKET_LOCK_LIFETIME"]) <= 30
    assert stack.services["nginx"].health_url == "http://127.0.0.1:7005/webhooks/rest/"


def test_the_nginx_configuration_is_valid_and_retries_on_the_other_server(
    tmp_path: Path,
) -> None:
    import shutil

    from bot.cluster import write_nginx_config

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (scripts/install_nginx.sh)")
    conf = write_nginx_config("127.0.0.1:7005", ["127.0.0.1:7006", "127.0.0.1:7007"], tmp_path)
    text = conf.read_text()
    assert "non_idempotent" in text and "ip_hash" in text and "access_log off" in text
    assert re.search(r"error_log \S+ crit;", text)  # no addresses or request lines logged
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_deploy_guide_shows_the_nginx_configuration_the_code_writes() -> None:
    from bot.cluster import site_config

    guide = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert site_config("80", ["rasa-1.internal:5005", "rasa-2.internal:5005"]) in guide


def test_a_missing_cluster_part_is_named_and_the_launcher_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cluster import ClusterPartMissing, check_redis, prepare_tracker_database
    from bot.launcher import main

    nobody = free_port()
    with pytest.raises(ClusterPartMissing, match=r"^Redis at redis://127.0.0.1:\d+/0 does not"):
        check_redis(f"redis://127.0.0.1:{nobody}/0", timeout=1)
    with pytest.raises(ClusterPartMissing, match=r"^PostgreSQL at .* does not answer"):
        prepare_tracker_database(f"postgresql://postgres:hidden$pw@127.0.0.1:{nobody}/carers")

    monkeypatch.setenv(
        "CARERS_TRACKER_DB_URL", f"postgresql://postgres:hidden$pw@127.0.0.1:{nobody}/c"
    )
    ports = ["--rasa-port", str(free_port()), "--actions-port", str(free_port())]
    ports += ["--backend-ports", f"{free_port()},{free_port()}", "--no-web"]
    assert main(["--cluster", *ports]) == 1
    out = capsys.readouterr()
    assert "Could not start:" in out.err
    assert "hidden$pw" not in out.out + out.err  # the password is never printed
