"""`make bench`: every benchmark, one after the other, and bench/RESULTS.md written from them.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME]

Each benchmark is one command (printed in RESULTS.md) that prints its own table; this runs them
at a scale that fits about 15 minutes on a 2-core machine, prints their output as it comes and
writes bench/RESULTS.md: machine, date, commit, load, each benchmark's command, table and time,
then bench/notes.md (the targets, and what the figures mean; written by hand).
PostgreSQL parts run when BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench)
answers; that database is dropped and created again. It is the one database setting of every
part: the pages benchmark keeps its (slow to fill) data in the same server under the same name
with `_pages` added. Paths in RESULTS.md are relative to the checkout.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
POSTGRES = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")


def pages_url(url: str) -> str:
    """The pages benchmark's database: BENCH_DATABASE_URL's, its name followed by `_pages`."""
    base, _slash, name = url.rpartition("/")
    name, mark, options = name.partition("?")
    return f"{base}/{name}_pages{mark}{options}"


PAGES_POSTGRES = pages_url(POSTGRES)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


def postgres_answers() -> bool:
    try:
        import psycopg

        admin = POSTGRES.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 (any failure means: skip the PostgreSQL parts)
        return False


def ensure_database(url: str) -> None:
    """Create the pages benchmark's database when missing (its data is reused between runs)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def plan(quick: bool, with_postgres: bool) -> list[tuple[str, str, list[str], dict]]:
    """(section, title, arguments, environment) of every run."""
    s = 0.5 if quick else 1.0
    pg = {"DATABASE_URL": POSTGRES}
    pages_dir = {"ERP_DATA_DIR": str(ROOT / "data" / "bench-pages")}  # never the demo's data/
    runs = [
        ("sync", "Sync cost: full pull vs incremental at 1 % vs naive",
         ["sync_bench.py", "--offers", str(int(2000 * s)), "--changed", "0.01"], {}),
        ("quota", "Shared limit: 1 and 4 workers at 10 requests/s",
         ["quota_bench.py", "--seconds", str(int(15 * s))], {}),
        ("ingest", "Ingest, SQLite: replayed answers vs the raw driver, and over HTTP",
         ["ingest_bench.py", "--offers", str(int(5000 * s))], {}),
    ]  # fmt: skip
    if with_postgres:
        runs.append(
            ("ingest", "Ingest, PostgreSQL: replayed answers vs raw COPY, and over HTTP",
             ["ingest_bench.py", "--offers", str(int(5000 * s))], pg)
        )  # fmt: skip
    scale = "0.02" if quick else "0.05"
    runs.append(
        ("pages", f"Pages, SQLite, scale {scale} of 100k/300k/1M",
         ["pages_bench.py", "--scale", scale, "--repeat", "5"], pages_dir)
    )  # fmt: skip
    if with_postgres:
        runs.append(
            ("pages", f"Pages, PostgreSQL, scale {scale} of 100k/300k/1M",
             ["pages_bench.py", "--scale", scale, "--repeat", "5",
              "--database-url", PAGES_POSTGRES], pages_dir)
        )  # fmt: skip
    runs += [
        ("upload", "Upload: 1,000 items vs the quota floor",
         ["upload_bench.py", "--items", str(int(1000 * s)), "--rate", "20"], {}),
        ("freshness", "Freshness: change to change row at the default schedule, 10/s budget",
         ["freshness_bench.py", "--offers", "3000", "--speedup", "120",
          "--hours", str(3 * s)], {}),
        ("follow", "Follow the supplier: move to own offer written, calls per change, dry run",
         ["follow_bench.py", "--changes", str(int(30 * s)), "--linked", str(int(10_000 * s)),
          "--speedup", "30"], {}),
    ]  # fmt: skip
    return runs


def relative(text: str) -> str:
    """Paths of this machine written relative to the checkout (RESULTS.md is committed)."""
    return text.replace(str(ROOT) + os.sep, "").replace(str(ROOT), ".")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="half the sizes (a smoke run)")
    parser.add_argument("--only", default="", help="run only the sections with this name")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from harness import machine

    with_postgres = postgres_answers()
    if with_postgres:
        ensure_database(PAGES_POSTGRES)
    started = time.time()
    sections = []
    for section, title, command, env in plan(args.quick, with_postgres):
        if args.only and args.only != section:
            continue
        shown = " ".join(
            [*(f"{k}={relative(v)}" for k, v in env.items()), ".venv/bin/python",
             f"bench/{command[0]}", *command[1:]]
        )  # fmt: skip
        print(f"\n=== {title}\n$ {shown}", flush=True)
        began = time.time()
        child = subprocess.Popen(
            [PYTHON, *command],
            cwd=HERE,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        for line in child.stdout:
            print(line, end="", flush=True)
            lines.append(relative(line.rstrip("\n")))
        child.wait()
        took = time.time() - began
        sections.append((title, shown, lines, took, child.returncode))
    total = time.time() - started

    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run_all.py); every figure below is from that run.",
        "",
        f"- machine: {machine()}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- commit: {git('rev-parse', '--short', 'HEAD')} "
        f"({'with uncommitted changes in the tree' if git('status', '--porcelain') else 'clean'})",
        f"- load average at the end: {os.getloadavg()[0]:.1f} "
        "(other work on the machine inflates wall-clock figures)",
        f"- PostgreSQL: {'yes' if with_postgres else 'not reachable, skipped'}",
        f"- total time: {total / 60:.1f} min",
        "",
    ]
    for title, shown, lines, took, code in sections:
        out += [f"## {title}", "", f"`{shown}` ({took:.0f} s"
                + (f", exit status {code}" if code else "") + ")", ""]  # fmt: skip
        text, block = [], []
        for line in lines:
            if LOG_LINE.match(line):  # a library's log line (e.g. django-axes), not a figure
                continue
            if line.startswith("|"):
                if block:
                    text += ["```", *block, "```", ""]
                    block = []
                text.append(line)
            elif line.strip():
                if text and text[-1].startswith("|"):
                    text.append("")
                block.append(line)
        if block:
            text += ["```", *block, "```"]
        out += [*text, ""]
    notes = HERE / "notes.md"
    if notes.exists():
        out += [notes.read_text(encoding="utf-8")]
    Path(args.output).write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output} ({total / 60:.1f} min)")
    return 0 if all(code == 0 for *_, code in sections) else 1


if __name__ == "__main__":
    sys.exit(main())
