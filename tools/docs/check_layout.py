#!/usr/bin/env python3
"""The docs name files and folders that exist.

1. Layout tables. A markdown table right after the marker

       <!-- layout-table base=api/src -->

   describes the repository's layout, relative to `base` (`.` is the root).
   Every path in backticks in a row's first column must be a tracked file or
   folder under `base`; every file name with an extension in backticks in
   the second column (`router.rs`, `tools/check.sh`) must exist under the
   row's folder, under `base`, or at the root. At least one layout table
   must exist, so that removing the markers cannot switch this off.

2. Paths in prose. Every code span in a markdown file (outside fenced
   blocks) that is a repository path, i.e. starts with one of the top-level
   folders (`api/`, `docs/`, `tools/`, ...), must be a tracked file or folder,
   or be ignored by git (generated files such as
   `tools/frontend/generated.ts`, install folders such as `tools/.venv`).

Usage: python3 tools/docs/check_layout.py
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import INLINE_CODE, Report, ignored, markdown_files, prose_lines, read_text, tracked_dirs, tracked_files  # noqa: E402

MARKER = re.compile(r"^\s*<!--\s*layout-table\s+base=(\S+)\s*-->\s*$")  # alone on its line
CODE = re.compile(r"`([^`]+)`")
EXTENSIONS = "rs|toml|lock|md|sh|py|mjs|cjs|js|jsx|ts|json|graphql|csv|sql|lua|txt|pem|key|yml|yaml|html|css"
FILE_NAME = re.compile(r"^[\w./-]*\w\.(?:" + EXTENSIONS + r")$")
PLAIN_PATH = re.compile(r"^[\w.-]+(?:/[\w.-]+)*/?$")


def norm(path):
    path = os.path.normpath(path.rstrip("/")) if path.strip("/") else ""
    return "" if path == "." else path


def layout_tables(path, text):
    """Yields (base, [(line number, [cells])]) for every marked table."""
    lines = text.split("\n")
    for number, line in prose_lines(text):
        i = number - 1
        m = MARKER.match(line)
        if not m:
            continue
        rows = []
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        while j < len(lines) and lines[j].lstrip().startswith("|"):
            cells = [c.strip() for c in lines[j].strip().strip("|").split("|")]
            rows.append((j + 1, cells))
            j += 1
        yield i + 1, m.group(1), rows[2:]  # past the header and the separator


def main():
    report = Report("layout")
    files = tracked_files()
    existing = set(files) | tracked_dirs(files)
    folders = tracked_dirs(files)
    top = sorted({f.split("/", 1)[0] for f in files if "/" in f})
    in_repo = re.compile(r"^(?:" + "|".join(re.escape(t) for t in top) + r")/")
    tables = rows_checked = spans = 0

    for path in markdown_files(files):
        text = read_text(path) or ""
        for line, base, rows in layout_tables(path, text):
            tables += 1
            base = norm(base)
            if base not in folders:
                report.add(path, line, f"layout table base {base or '.'} is not a folder of the repository")
                continue
            if not rows:
                report.add(path, line, "layout-table marker without a table after it")
            for number, cells in rows:
                rows_checked += 1
                row_dirs = []
                for name in CODE.findall(cells[0]):
                    target = norm(os.path.join(base, name))
                    if target not in existing:
                        report.add(path, number, f"`{name}` (under {base or '.'}/) does not exist")
                    elif target in folders:
                        row_dirs.append(target)
                for name in CODE.findall(cells[1]) if len(cells) > 1 else []:
                    if not FILE_NAME.match(name):
                        continue
                    places = [norm(os.path.join(d, name)) for d in row_dirs] + [norm(os.path.join(base, name)), norm(name)]
                    if not any(p in existing for p in places):
                        report.add(path, number, f"`{name}` does not exist (looked in {', '.join(sorted(set(places)))})")

        for number, line in prose_lines(text):
            for m in INLINE_CODE.finditer(line):
                name = m.group(2).strip()
                if not PLAIN_PATH.match(name) or not in_repo.match(name):
                    continue
                if any(re.fullmatch(r"\.+", part) for part in name.split("/")):
                    continue  # `api/...`: a pattern, not a path
                spans += 1
                target = norm(name)
                if target not in existing and not ignored(target):
                    report.add(path, number, f"`{name}` is neither a tracked file or folder nor ignored by git")

    if tables == 0:
        report.add("docs/architecture.md", 1, "no layout table found (<!-- layout-table base=... --> before a table)")
    report.finish(f"{tables} layout tables ({rows_checked} rows) and {spans} paths named in the docs exist")


if __name__ == "__main__":
    main()
