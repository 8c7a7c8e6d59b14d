#!/usr/bin/env python3
"""The repository stands alone: no tracked file refers to a path outside it.

A user clones only this repository, so nothing in it may depend on what sits
beside the clone or on the machine it was written on. For every tracked text
file this check reports:

- a sibling folder named `shared` reached with `../` (also as `..//`);
- an absolute path into the machine's work folder (`/` `work/`);
- a relative path that starts with `../` and, resolved from the file's own
  folder, leaves the repository (`../../x` in `docs/a.md`, `../x` at the root);

and, for every markdown file, each relative link `[text](target)` (and
reference-style `[text]: target`) outside code blocks and code spans must
resolve to a tracked file or folder inside the repository, and its
`#anchor`, if any, must be a heading of the target (or of the file itself).
Absolute links (`/x`) are refused: they do not work in a clone.

Usage: python3 tools/docs/check_paths.py
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import INLINE_CODE, ROOT, Report, anchors, markdown_files, prose_lines, read_text, tracked_dirs, tracked_files  # noqa: E402

# Spelled in parts so that this file does not report itself.
SIBLING = re.compile(r"\.\./+" + "shared" + r"(?![\w-])")
MACHINE = re.compile(r"(?<![\w.~-])/" + "work" + r"/")
# A relative path at the start of a token: not after a word, a `$`, a `}`, a
# `)` or a `/` (those are relative to something else, e.g. "$(dirname "$0")/..").
ESCAPE = re.compile(r"(?<![\w.$})/-])((?:\.\./+)+)([\w.-][\w./-]*)?")
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def inside(path):
    return path == ROOT or path.startswith(ROOT + os.sep)


def main():
    files = tracked_files()
    dirs = tracked_dirs(files)
    existing = set(files) | dirs
    report = Report("paths")
    texts = {}
    for path in files:
        text = read_text(path)
        if text is None:
            continue
        texts[path] = text
        here = os.path.dirname(os.path.join(ROOT, path))
        for number, line in enumerate(text.split("\n"), 1):
            if SIBLING.search(line):
                report.add(path, number, "refers to a sibling folder outside the repository: " + line.strip()[:120])
            if MACHINE.search(line):
                report.add(path, number, "refers to an absolute path on the author's machine: " + line.strip()[:120])
            for m in ESCAPE.finditer(line):
                target = os.path.normpath(os.path.join(here, m.group(1) + (m.group(2) or "")))
                if not inside(target):
                    report.add(path, number, f"{m.group(0)!r} leaves the repository (from {os.path.dirname(path) or '.'}/)")

    links = 0
    for path in markdown_files(files):
        text = texts.get(path)
        if text is None:
            continue
        here = os.path.dirname(path)
        for number, line in prose_lines(text):
            line = INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
            targets = [m.group(1) for m in LINK.finditer(line)]
            ref = REFERENCE.match(line)
            if ref:
                targets.append(ref.group(1))
            for target in targets:
                if not target or SCHEME.match(target):
                    continue
                links += 1
                file_part, _, fragment = target.partition("#")
                if file_part.startswith("/"):
                    report.add(path, number, f"link {target!r} is absolute: use a path relative to {path}")
                    continue
                if file_part:
                    resolved = os.path.normpath(os.path.join(ROOT, here, file_part))
                    if not inside(resolved):
                        report.add(path, number, f"link {target!r} leaves the repository")
                        continue
                    rel = os.path.relpath(resolved, ROOT)
                    rel = "" if rel == "." else rel
                    if rel not in existing:
                        report.add(path, number, f"link {target!r}: {rel} is not a tracked file or folder")
                        continue
                else:
                    rel = path
                if fragment and rel.endswith(".md"):
                    if fragment not in anchors(texts.get(rel, "")):
                        report.add(path, number, f"link {target!r}: {rel} has no heading with the anchor #{fragment}")
    report.finish(f"{len(texts)} tracked text files refer to nothing outside the repository; {links} markdown links resolve")


if __name__ == "__main__":
    main()
