#!/usr/bin/env python3
"""The configuration table in docs/operations.md matches the code.

Every environment variable the service's code reads must be in the tables of
the "Configuration" section of docs/operations.md, and every variable in
those tables must be read by the code. The list is derived from the code each
time, so a new variable fails this check until it is documented.

"The code" is the tracked Rust of the crates that ship: `api/src/**`,
`api/build.rs`, `migration/src/**` and `entity/src/**`; the tests' own
variables (`tests/`) are not configuration. Comments are ignored. A variable
counts as read when its name is a string literal in:

- a clap attribute: `#[arg(env = "NAME")]`;
- a call whose function name contains `var`, `env` or `parsed`:
  `std::env::var("NAME")`, `env::var_os("NAME")`, `var("NAME")`,
  `parsed("NAME", 5)`, `parsed::<u64>("NAME", 5)`, `from_env("NAME")`;
- any string literal in a `config.rs` module that is a whole
  SCREAMING_SNAKE_CASE name, such as `"WEBHOOK_TIMEOUT_MS"`;

and `EnvFilter::from_default_env()` / `try_from_default_env()` read
`RUST_LOG`. Variables that cargo sets for build scripts (`OUT_DIR`,
`CARGO_*`, ...) are not configuration. A name built at run time (an issuers
file's `secret_env`) cannot be seen and is documented in prose instead.

Usage: python3 tools/docs/check_env.py
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, Report, prose_lines, read_text, tracked_files  # noqa: E402

DOC = "docs/operations.md"
SECTION = "Configuration"
NAME = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*"
PATTERNS = [
    re.compile(r"\benv\s*=\s*\"(" + NAME + r")\""),
    re.compile(r"\b\w*(?:var|env|parsed)\w*\s*(?:::\s*<[^>()]*>)?\s*\(\s*\"(" + NAME + r")\""),
]
CONFIG_LITERAL = re.compile(r"\"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\"")
DEFAULT_ENV = re.compile(r"\b(?:try_)?from_default_env\s*\(")
CARGO_SET = re.compile(r"^(?:OUT_DIR|CARGO_\w*|TARGET|HOST|PROFILE|NUM_JOBS|OPT_LEVEL|DEBUG|RUSTC\w*|RUSTDOC\w*)$")


def code_files(files):
    for f in files:
        if not f.endswith(".rs"):
            continue
        if f == "api/build.rs" or f.startswith(("api/src/", "migration/src/", "entity/src/")):
            yield f


def without_comments(text):
    """The text with `//` and `/* */` comments blanked (line numbers kept);
    string and char literals are left alone."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif c == "r" and re.match(r'r#+"', text[i:]):
            hashes = re.match(r"r(#+)\"", text[i:]).group(1)
            j = text.find('"' + hashes, i + len(hashes) + 2)
            j = n if j < 0 else j + 1 + len(hashes)
            out.append(text[i:j])
            i = j
        elif c == "'":
            m = re.match(r"'(?:\\.|\\u\{[0-9a-fA-F]+\}|[^\\'\n])'", text[i:])
            j = i + (len(m.group(0)) if m else 1)
            out.append(text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_by_code(files):
    """{name: first "path:line" that reads it}."""
    found = {}
    for path in code_files(files):
        text = without_comments(read_text(path) or "")
        config_module = os.path.basename(path) == "config.rs" or "/config/" in path
        for number, line in enumerate(text.split("\n"), 1):
            names = [m.group(1) for p in PATTERNS for m in p.finditer(line)]
            if config_module:
                names += [m.group(1) for m in CONFIG_LITERAL.finditer(line)]
            if DEFAULT_ENV.search(line):
                names.append("RUST_LOG")
            for name in names:
                if not CARGO_SET.match(name):
                    found.setdefault(name, f"{path}:{number}")
    return found


def documented(report):
    """{name: line} of the variables in the tables of the Configuration section."""
    text = read_text(DOC)
    if text is None:
        report.add(DOC, 1, "missing")
        return {}
    names = {}
    inside = False
    for number, line in prose_lines(text):
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading and len(heading.group(1)) <= 2:
            inside = heading.group(2).strip() == SECTION
            continue
        if not inside or not line.lstrip().startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not cells or set(cells[0]) <= set("-: "):
            continue
        for name in re.findall(r"`(" + NAME + r")`", cells[0]):
            names.setdefault(name, number)
    if not names:
        report.add(DOC, 1, f'no variables found in the tables of the "## {SECTION}" section')
    return names


def main():
    report = Report("env")
    files = tracked_files()
    code = read_by_code(files)
    docs = documented(report)
    for name, where in sorted(code.items()):
        if name not in docs:
            report.add(where, None, f"reads {name}, which the configuration table in {DOC} does not list")
    for name, line in sorted(docs.items(), key=lambda kv: kv[1]):
        if name not in code:
            report.add(DOC, line, f"lists {name}, which no code reads (api/src, api/build.rs, migration/src, entity/src)")
    report.finish(f"the {len(docs)} variables in {DOC} are exactly the ones the code reads")


if __name__ == "__main__":
    main()
