#!/usr/bin/env node
// Partner-style webhook receiver, verifying deliveries with the `standardwebhooks` library.
//
// Usage:
//   node receiver.mjs --port P --secret whsec_... [--secret whsec_...] --out FILE
//                     [--mode ok|fail|slow] [--slow-ms N]
//
//   POST /webhook   verify signature (401 if invalid), then by mode:
//                     ok   -> append one JSON line to FILE, answer 204 (the line carries
//                             "receivedAt": Date.now() in ms when the delivery arrived)
//                     fail -> answer 500 (nothing recorded)
//                     slow -> wait slow-ms, answer 200 (nothing recorded; the sender
//                             has timed out by then and will retry)
//                   A repeated webhook-id is still accepted, recorded with "duplicate": true.
//   POST /_control  {"mode": "ok"|"fail"|"slow", "slowMs": N} switches behaviour at run time.
//   GET  /_health   200 "ok".
//
// Prints "listening on PORT" once ready (--port 0 picks a free port).

import { appendFileSync } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";

const MODES = ["ok", "fail", "slow"];

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    secret: { type: "string", multiple: true }, // repeat during a secret rotation
    out: { type: "string" },
    mode: { type: "string", default: "ok" },
    "slow-ms": { type: "string", default: "5000" },
  },
});
if (!args.port || !args.secret?.length || !args.out || !MODES.includes(args.mode)) {
  console.error("usage: receiver.mjs --port P --secret whsec_... [--secret ...] --out FILE [--mode ok|fail|slow] [--slow-ms N]");
  process.exit(64);
}

// One verifier per secret: during a rotation either secret may be the one that signed.
const verifiers = args.secret.map((s) => new Webhook(s));
let mode = args.mode;
let slowMs = Number(args["slow-ms"]);
const seenIds = new Set();

// Returns { ok: true, payload } if any secret verifies the delivery.
function verify(body, headers) {
  for (const wh of verifiers) {
    try {
      return { ok: true, payload: wh.verify(body, headers) };
    } catch {
      // bad/missing headers, stale timestamp, no matching signature: try the next secret
    }
  }
  return { ok: false };
}

// Dedupe by webhook-id and append one JSON line for this accepted delivery.
function record(webhookId, timestamp, payload, receivedAt) {
  const duplicate = seenIds.has(webhookId);
  seenIds.add(webhookId);
  const line = { webhookId, timestamp, receivedAt, duplicate, payload: payload ?? null };
  appendFileSync(args.out, JSON.stringify(line) + "\n");
}

function reply(res, status, body = "", contentType = "text/plain") {
  if (status === 204) return res.writeHead(204).end();
  res.writeHead(status, { "Content-Type": contentType }).end(body);
}

async function handleWebhook(req, res, body) {
  const receivedAt = Date.now();
  const headers = {
    "webhook-id": req.headers["webhook-id"],
    "webhook-timestamp": req.headers["webhook-timestamp"],
    "webhook-signature": req.headers["webhook-signature"],
  };
  const { ok, payload } = verify(body, headers);
  if (!ok) return reply(res, 401, "invalid signature");

  if (mode === "fail") return reply(res, 500, "simulated failure");
  if (mode === "slow") {
    await new Promise((r) => setTimeout(r, slowMs));
    return reply(res, 200, "too late");
  }
  record(headers["webhook-id"], headers["webhook-timestamp"], payload, receivedAt);
  reply(res, 204);
}

function handleControl(res, body) {
  let req;
  try {
    req = JSON.parse(body.toString() || "{}");
  } catch (e) {
    return reply(res, 400, String(e));
  }
  if (req.mode !== undefined && !MODES.includes(req.mode)) {
    return reply(res, 400, `mode must be one of ${MODES.join(", ")}`);
  }
  if (req.slowMs !== undefined && !(Number.isInteger(req.slowMs) && req.slowMs >= 0)) {
    return reply(res, 400, "slowMs must be a non-negative integer");
  }
  mode = req.mode ?? mode;
  slowMs = req.slowMs ?? slowMs;
  reply(res, 200, JSON.stringify({ mode, slowMs }), "application/json");
}

const server = http.createServer(async (req, res) => {
  // Raw body bytes: the signature covers them exactly, so never re-serialise.
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  console.error(`receiver: ${req.method} ${req.url}`);

  if (req.method === "POST" && req.url === "/webhook") return handleWebhook(req, res, body);
  if (req.method === "POST" && req.url === "/_control") return handleControl(res, body);
  if (req.method === "GET" && req.url === "/_health") return reply(res, 200, "ok");
  reply(res, 404, "not found");
});

server.listen(Number(args.port), "127.0.0.1", () => {
  process.stdout.write(`listening on ${server.address().port}\n`);
});
