#!/usr/bin/env node
// The GraphQL-over-HTTP conformance audit (`auditServer` of the npm package
// graphql-http, the specification's reference suite) against a running
// service. Every request carries `Authorization: Bearer <token>`, since
// /graphql needs a token (the audit itself sends none).
//
// Usage: node tools/http-audit.mjs --url http://127.0.0.1:8000/graphql --token-file FILE
//
// Prints every audit's result, then one line
// "graphql-http audit: N ok, N notices, N warnings, N errors", and exits
// non-zero unless there are no warnings and no errors (a warning is a failed
// SHOULD, an error a failed MUST; a notice, a failed MAY, is printed only).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { auditServer } from "graphql-http";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    "token-file": { type: "string" },
    timeout: { type: "string", default: "15" },
  },
});
if (!args.url || !args["token-file"]) {
  console.error("usage: http-audit.mjs --url URL --token-file FILE");
  process.exit(2);
}
const token = readFileSync(args["token-file"], "utf8").trim();
const timeoutMs = Number(args.timeout) * 1000;

// The audit's own requests, with the token added to whatever headers it sets.
function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
}

const results = await auditServer({ url: args.url, fetchFn: fetchWithToken });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  const line = `${result.status.padEnd(6)} ${result.id} ${result.name}`;
  if (result.status === "ok") {
    console.log(line);
    continue;
  }
  let body = "";
  try {
    body = (await result.response.text()).slice(0, 300);
  } catch {
    body = "(body already read by the audit)";
  }
  console.log(`${line}\n       ${result.reason}; HTTP ${result.response.status} ${result.response.headers.get("content-type")}: ${body}`);
}
console.log(
  `graphql-http audit: ${counts.ok} ok, ${counts.notice} notices, ${counts.warn} warnings, ${counts.error} errors`,
);
process.exit(counts.warn === 0 && counts.error === 0 ? 0 : 1);
