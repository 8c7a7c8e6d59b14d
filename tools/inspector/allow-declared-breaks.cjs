// A graphql-inspector diff rule: breaking changes that are declared in
// tools/breaking-changes-allowed.txt are downgraded to "dangerous", so they are
// still printed but no longer fail `graphql-inspector diff`. Every other
// breaking change still fails it.
//
// Used by tools/check.sh:
//   graphql-inspector diff tools/schema-baseline.graphql schema.graphql \
//     --rule tools/inspector/allow-declared-breaks.cjs
//
// The file holds one change message per line, exactly as graphql-inspector
// prints it (quotes, colours and the leading "✖" are ignored when matching).
// Blank lines and lines starting with "#" are ignored. Override the file with
// BREAKING_CHANGES_ALLOWED=<path>.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { CriticalityLevel } = require('@graphql-inspector/core');

const allowedFile =
  process.env.BREAKING_CHANGES_ALLOWED || path.join(__dirname, '..', 'breaking-changes-allowed.txt');

function normalise(line) {
  return line
    .replace(/\u001b\[[0-9;]*m/g, '') // ANSI colours
    .replace(/^\s*\[(log|error|warn)\]\s*/, '') // graphql-inspector's log prefix
    .replace(/^\s*[\u2716\u26a0\u2714\u2139xX!]\s+/u, '') // ✖ ⚠ ✔ markers
    .replace(/['"]/g, '') // inspector prints 'Name' as bold Name
    .replace(/\s+/g, ' ')
    .trim();
}

function readAllowed() {
  if (!fs.existsSync(allowedFile)) {
    throw new Error(`allow-declared-breaks: ${allowedFile} does not exist`);
  }
  const entries = new Map();
  for (const raw of fs.readFileSync(allowedFile, 'utf8').split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(raw)) continue;
    entries.set(normalise(raw), raw.trim());
  }
  return entries;
}

function allowDeclaredBreaks({ changes }) {
  const allowed = readAllowed();
  const used = new Set();
  const result = changes.map(change => {
    if (change.criticality.level !== CriticalityLevel.Breaking) return change;
    const key = normalise(change.message);
    if (!allowed.has(key)) return change;
    used.add(key);
    return {
      ...change,
      message: `${change.message} [declared in breaking-changes-allowed.txt]`,
      criticality: {
        ...change.criticality,
        level: CriticalityLevel.Dangerous,
        reason: `declared as an intended breaking change in ${allowedFile}`,
      },
    };
  });
  const unused = [...allowed.keys()].filter(key => !used.has(key));
  if (unused.length) {
    process.stderr.write(
      `allow-declared-breaks: ${unused.length} declared change(s) not found in this diff ` +
        `(remove them when the baseline is bumped):\n` +
        unused.map(key => `  - ${allowed.get(key)}\n`).join(''),
    );
  }
  if (allowed.size) {
    process.stderr.write(
      `allow-declared-breaks: ${used.size} of ${allowed.size} declared breaking change(s) matched\n`,
    );
  }
  return result;
}

module.exports = allowDeclaredBreaks;
