"""Check the zh_Hans catalogue against the code: fail on any message the code uses that has no
Chinese, on fuzzy entries, on message ids written in Chinese (English ids only: Chinese goes in
the catalogue) and on a compiled catalogue older than its .po.

`makemessages -l zh_Hans` runs on a temporary copy of the checkout, so the check never edits the
tree. Usage (CI runs it from .ci/run):

    .venv/bin/python scripts/check_messages.py            # exit 1 with a list of what is wrong
    .venv/bin/python scripts/check_messages.py --update   # also write the refreshed .po here

Entries that are the same in both languages (a code such as "SKU", a placeholder-only format)
must be listed in SAME_IN_BOTH; any other msgstr equal to its msgid is an untranslated label.
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = Path("locale/zh_Hans/LC_MESSAGES/django.po")
MO = PO.with_suffix(".mo")
# Only the product's code is scanned: the sandbox, tests and benchmarks are not translated.
SCANNED = ["catalog", "sync", "erp1688", "open1688", "templates", "locale"]
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Words that are the same in Chinese (an identifier staff see as is).
MSGFMT = shutil.which("msgfmt") or "/usr/bin/msgfmt"  # GNU gettext, as makemessages needs
SAME_IN_BOTH = {"SKU", "SKUs", "N", "English", "1688", "[erp1688] %(message)s", "RQ"}


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def where(self) -> str:
        return self.references[0] if self.references else "?"


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file (header included, msgid "")."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", text):
        entry, current, seen = Entry(), None, False
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#~"):
                entry.obsolete = True
                continue
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#:"):
                entry.references += line[2:].split()
            elif line.startswith("#") or not line:
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if current == "msgid":
                    entry.msgid += value
                elif current == "msgid_plural":
                    entry.msgid_plural += value
                elif current == "msgstr":
                    entry.msgstrs[-1] += value
            else:
                keyword, _, rest = line.partition(" ")
                value = ast.literal_eval(rest)
                seen = True
                if keyword in ("msgid", "msgid_plural"):
                    current = keyword
                    setattr(entry, keyword, value)
                elif keyword.startswith("msgstr"):
                    current = "msgstr"
                    entry.msgstrs.append(value)
        if seen:
            entries.append(entry)
    return entries


def problems(entries: list[Entry]) -> list[str]:
    found = []
    for entry in entries:
        if entry.obsolete or not entry.msgid:
            continue
        name = f"{entry.where}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy (check the Chinese, then drop the fuzzy flag): {name}")
        if not entry.msgstrs or not all(s.strip() for s in entry.msgstrs):
            found.append(f"untranslated: {name}")
        elif entry.msgstrs[0] == entry.msgid and entry.msgid not in SAME_IN_BOTH:
            found.append(f"translated to itself (a label left in English?): {name}")
        if CJK.search(entry.msgid) or CJK.search(entry.msgid_plural):
            found.append(f"Chinese in a message id (write the id in English): {name}")
    return found


def refreshed_catalogue(workdir: Path) -> str:
    """makemessages -l zh_Hans over a copy of the product's code; the refreshed .po text."""
    for name in [*SCANNED, "manage.py"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, workdir / name)
    # A Redis address of its own, so the settings of the copy start no embedded redis-server
    # (nothing connects to it: makemessages only reads files).
    env = {**os.environ, "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v", "0"],
        cwd=workdir,
        env=env,
        check=True,
    )
    return (workdir / PO).read_text(encoding="utf-8")


def mo_is_current(po_path: Path, mo_path: Path, workdir: Path) -> bool:
    compiled = workdir / "check.mo"
    subprocess.run([MSGFMT, "--check-format", "-o", compiled, po_path], check=True)  # noqa: S603
    return mo_path.exists() and compiled.read_bytes() == mo_path.read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="write the refreshed .po (and .mo)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="erp1688-messages-") as tmp:
        workdir = Path(tmp)
        text = refreshed_catalogue(workdir)
        found = problems(parse_po(text))
        if args.update:
            (ROOT / PO).write_text(text, encoding="utf-8")
            subprocess.run([MSGFMT, "-o", ROOT / MO, ROOT / PO], check=True)  # noqa: S603
        elif not mo_is_current(ROOT / PO, ROOT / MO, workdir):
            found.append(f"{MO} is not compiled from {PO}: run `manage.py compilemessages`")
        if not args.update and parse_po(text) != parse_po((ROOT / PO).read_text(encoding="utf-8")):
            stale = {e.msgid for e in parse_po((ROOT / PO).read_text(encoding="utf-8"))} ^ {
                e.msgid for e in parse_po(text)
            }
            if stale:
                found.append(
                    f"{PO} is not up to date with the code ({len(stale)} message ids differ, "
                    "e.g. " + ", ".join(repr(m) for m in sorted(stale)[:3]) + "): run "
                    "`scripts/check_messages.py --update` and translate what it reports"
                )
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} problem(s) in the zh_Hans catalogue")
        return 1
    print("zh_Hans catalogue: every message translated, none fuzzy, English ids only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
