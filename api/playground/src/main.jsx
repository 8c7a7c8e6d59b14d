// The GraphiQL playground, bundled with esbuild into the service (no CDN).
// The page sets window.PLAYGROUND_CONFIG: the endpoint, the default query
// and, in development, the headers editor's initial content (a read-only demo
// token). For analysts: the Explorer (build a query by ticking fields), the
// saved examples as tabs and the Download bar under the result (plugins.jsx).
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { createClient } from "graphql-ws";
import { parse, getOperationAST } from "graphql";
import "graphiql/graphiql.css";
import "@graphiql/plugin-explorer/dist/style.css";
import examples from "./examples.js";
import { DownloadBar, exampleTab, examplesPlugin } from "./plugins.jsx";

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

// The first tab holds the query from the address (?query=) or the default
// one, the next ones the saved examples. (A browser that has used the
// playground before gets its stored tabs back instead.)
const search = new URLSearchParams(window.location.search);
const defaultTabs = [{ query: search.get("query") || config.defaultQuery }, ...examples.map(exampleTab)];
const plugins = [explorerPlugin(), examplesPlugin];

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={plugins}
    defaultHeaders={config.headers || '{\n  "Authorization": "Bearer <paste your token>"\n}'}
    defaultQuery={config.defaultQuery}
    defaultTabs={defaultTabs}
    defaultEditorToolsVisibility="headers"
    shouldPersistHeaders={false}
  >
    <GraphiQL.Footer>
      <DownloadBar />
    </GraphiQL.Footer>
  </GraphiQL>,
);
