"""Shared helpers of the documentation checks (python3, standard library only).

Every check works on the files git tracks, so it sees what a fresh clone
sees: nothing ignored, nothing untracked.
"""

import os
import re
import subprocess
import sys
import unicodedata

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def tracked_files():
    """Repository-relative paths of every tracked file."""
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True, capture_output=True).stdout
    return [p for p in out.decode("utf-8").split("\0") if p]


def tracked_dirs(files):
    """Every folder that holds a tracked file, repository-relative ("" is the root)."""
    dirs = {""}
    for f in files:
        d = os.path.dirname(f)
        while d and d not in dirs:
            dirs.add(d)
            d = os.path.dirname(d)
    return dirs


def ignored(path):
    """Whether git ignores `path` (a generated file or an install folder)."""
    # A path that does not exist may be a folder: `dir/` patterns match only
    # with the slash.
    for candidate in (path, path.rstrip("/") + "/"):
        result = subprocess.run(["git", "-C", ROOT, "check-ignore", "-q", "--no-index", candidate], capture_output=True)
        if result.returncode == 0:
            return True
    return False


def read_text(path):
    """The file's text, or None for a binary file."""
    with open(os.path.join(ROOT, path), "rb") as f:
        data = f.read()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def markdown_files(files):
    return [f for f in files if f.endswith(".md")]


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def prose_lines(text):
    """Yields (line number, line) for the lines outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(2)
                continue
            yield number, line
        elif m and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence) and not m.group(3).strip():
            fence = None


INLINE_CODE = re.compile(r"(`+)(.+?)\1")


def slug(heading):
    """The anchor GitHub gives a heading: its rendered text, lower-cased,
    without punctuation (letters, marks, digits, `_`, `-` and spaces stay),
    spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = INLINE_CODE.sub(lambda m: m.group(2), text)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" or cat == "Pc" or ch in " -":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def anchors(text):
    """Every heading anchor of a markdown text, with GitHub's -1, -2 suffixes for repeats."""
    seen = {}
    out = set()
    for _, line in prose_lines(text):
        m = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


class Report:
    """Collects problems and prints them as `path:line: message`."""

    def __init__(self, name):
        self.name = name
        self.problems = []

    def add(self, path, line, message):
        """`line` may be None when `path` already ends with one."""
        where = path if line is None else f"{path}:{line}"
        self.problems.append(f"{where}: {message}")

    def finish(self, summary):
        for p in self.problems:
            print(p)
        if self.problems:
            print(f"{self.name}: {len(self.problems)} problem(s)")
            sys.exit(1)
        print(f"{self.name}: {summary}")
