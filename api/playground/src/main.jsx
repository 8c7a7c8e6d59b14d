// The GraphiQL playground, bundled with esbuild into the service (no CDN).
// The page sets window.PLAYGROUND_CONFIG: the endpoint and, in development,
// the headers editor's initial content (a read-only demo token).
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { createClient } from "graphql-ws";
import { parse, getOperationAST } from "graphql";
import "graphiql/graphiql.css";

const config = window.PLAYGROUND_CONFIG || {};
const endpoint = config.endpoint || "/graphql";

// Subscriptions go over a WebSocket (graphql-transport-ws) at
// /graphql/ws; the headers editor's Authorization travels in
// connection_init, as the service expects.
const wsUrl = new URL(endpoint + "/ws", window.location.href);
wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";

function isSubscription(params) {
  try {
    const op = getOperationAST(parse(params.query), params.operationName);
    return op && op.operation === "subscription";
  } catch {
    return false;
  }
}

async function fetcher(params, options) {
  const given = (options && options.headers) || {};
  if (isSubscription(params)) {
    const client = createClient({ url: wsUrl.toString(), connectionParams: given, retryAttempts: 0 });
    const events = client.iterate(params);
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => events.next(),
        return: async () => {
          await events.return?.();
          client.dispose();
          return { done: true, value: undefined };
        },
      }),
    };
  }
  const headers = { "content-type": "application/json", ...given };
  const response = await fetch(endpoint, { method: "POST", headers, body: JSON.stringify(params) });
  return response.json();
}

const search = new URLSearchParams(window.location.search);
createRoot(document.getElementById("graphiql")).render(
  <GraphiQL
    fetcher={fetcher}
    defaultHeaders={config.headers || '{\n  "Authorization": "Bearer <paste your token>"\n}'}
    defaultQuery={search.get("query") || config.defaultQuery}
    defaultEditorToolsVisibility="headers"
    shouldPersistHeaders={false}
  />,
);
