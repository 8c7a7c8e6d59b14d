// The GraphiQL playground, bundled with esbuild into the service (no CDN).
// The page sets window.PLAYGROUND_CONFIG: the endpoint and, in development,
// the headers editor's initial content (a read-only demo token).
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";

const config = window.PLAYGROUND_CONFIG || {};
const endpoint = config.endpoint || "/graphql";

async function fetcher(params, options) {
  const headers = { "content-type": "application/json", ...((options && options.headers) || {}) };
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
