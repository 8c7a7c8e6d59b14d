#!/usr/bin/env node
// Partner-style GraphQL subscription consumer (graphql-ws client, graphql-transport-ws protocol).
//
// Usage:
//   node subscribe.mjs --url ws://127.0.0.1:PORT/graphql/ws --token JWT
//                      [--after CURSOR] [--entity-types A,B] --count N --timeout-ms T --out FILE
//
// Appends each change event to FILE as one JSON line
// {"cursor", "operation", "entityType", "entityId"}. Prints "connected" once the server
// acknowledged connection_init.
// Exit codes: 0 after N events; 1 timeout or client/transport error (or the server
// completed the subscription early); 2 socket closed by the server (prints
// "closed CODE REASON"); 3 GraphQL errors in a next/error message (printed); 64 usage.

import { appendFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const QUERY = `subscription Changes($after: String, $entityTypes: [String!]) {
  changes(after: $after, entityTypes: $entityTypes) { cursor operation entityType entityId }
}`;

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    after: { type: "string" },
    "entity-types": { type: "string" },
    count: { type: "string" },
    "timeout-ms": { type: "string" },
    out: { type: "string" },
  },
});
const count = Number(args.count);
const timeoutMs = Number(args["timeout-ms"]);
if (!args.url || !args.out || !(count >= 1) || !(timeoutMs > 0)) {
  console.error("usage: subscribe.mjs --url ws://HOST:PORT/graphql/ws --token JWT [--after CURSOR] [--entity-types A,B] --count N --timeout-ms T --out FILE");
  process.exit(64);
}

let received = 0;
let finished = false; // set once we decided how to exit; later events are ignored

function finish(code, message) {
  if (finished) return;
  finished = true;
  if (message) console.log(message);
  process.exit(code);
}

const client = createClient({
  url: args.url,
  webSocketImpl: WebSocket,
  // The service reads the JWT from the connection_init payload. Without --token send none
  // (handy for checking that the server refuses anonymous subscribers).
  connectionParams: args.token ? { Authorization: `Bearer ${args.token}` } : {},
  lazy: false, // connect now, so a refused connection is reported at once...
  retryAttempts: 0, // ...and not retried
  onNonLazyError: () => {}, // reported by the hooks below
  on: {
    connected: () => console.log("connected"),
    error: (err) => console.error(`socket error: ${err?.message ?? err}`),
    closed: (event) => {
      if (received >= count) return finish(0); // our own close after the last event
      finish(2, `closed ${event?.code} ${event?.reason ?? ""}`);
    },
  },
});

const timer = setTimeout(
  () => finish(1, `timeout after ${timeoutMs} ms: ${received}/${count} events`),
  timeoutMs,
);

const variables = { after: args.after ?? null };
variables.entityTypes = args["entity-types"] ? args["entity-types"].split(",") : null;

client.subscribe(
  { query: QUERY, variables },
  {
    next: (result) => {
      if (result.errors?.length) {
        return finish(3, `errors: ${JSON.stringify(result.errors)}`);
      }
      if (received >= count) return;
      const { cursor, operation, entityType, entityId } = result.data.changes;
      appendFileSync(args.out, JSON.stringify({ cursor, operation, entityType, entityId }) + "\n");
      received += 1;
      if (received >= count) {
        clearTimeout(timer);
        client.dispose(); // closes with 1000; the closed hook then exits 0
        setTimeout(() => finish(0), 1000).unref();
      }
    },
    error: (err) => {
      if (Array.isArray(err)) return finish(3, `errors: ${JSON.stringify(err)}`); // "error" message
      if (typeof err?.code === "number") {
        return finish(2, `closed ${err.code} ${err.reason ?? ""}`); // CloseEvent, if not seen yet
      }
      finish(1, `error: ${err?.message ?? err}`);
    },
    complete: () => {
      if (received < count) finish(1, `server completed the subscription after ${received}/${count} events`);
    },
  },
);
