// The playground's additions to GraphiQL for analysts: the saved example
// queries (as tabs, and an Examples pane that opens one) and a bar under the
// result that downloads it as CSV or JSON.
import React, { useEffect, useRef, useState } from "react";
import { Button, useEditorContext } from "@graphiql/react";
import examples from "./examples.js";
import { csvRows, saveFile, toCsv } from "./download.js";

/** An example as a GraphiQL tab: its title as a comment above the query. */
export function exampleTab({ title, query, variables }) {
  return {
    query: `# ${title}\n${query}`,
    variables: variables ? JSON.stringify(variables, null, 2) : null,
  };
}

const iconProps = {
  viewBox: "0 0 24 24",
  fill: "none",
  stroke: "currentColor",
  strokeWidth: 1.5,
  strokeLinecap: "round",
  strokeLinejoin: "round",
  "aria-hidden": true,
};

/** A list with a bookmark: the Examples pane's button. */
function ExamplesIcon() {
  return (
    <svg {...iconProps}>
      <path d="M4 6h9M4 12h9M4 18h9M16 4h4v16l-2-2-2 2z" />
    </svg>
  );
}

/** The Examples pane: each saved query, opened in a tab of its own. */
function ExamplesPane() {
  const { tabs, addTab, changeTab, queryEditor, variableEditor } = useEditorContext({ nonNull: true });
  // addTab opens a tab with the default query; once that tab is there, the
  // example's text replaces it (and GraphiQL saves it into the tab).
  const opening = useRef(null);
  useEffect(() => {
    if (!opening.current) return;
    queryEditor?.setValue(opening.current.query);
    variableEditor?.setValue(opening.current.variables ?? "");
    opening.current = null;
  }, [tabs.length, queryEditor, variableEditor]);
  function open(example) {
    const tab = exampleTab(example);
    const index = tabs.findIndex((t) => t.query === tab.query);
    if (index >= 0) return changeTab(index);
    opening.current = tab;
    addTab();
  }
  return (
    <section aria-label="Example queries">
      <div className="graphiql-doc-explorer-title">Examples</div>
      <p>Queries for the partners' questions. Each opens in a tab; change it and run it.</p>
      <ul style={{ listStyle: "none", padding: 0, display: "grid", gap: "var(--px-8)" }}>
        {examples.map((example) => (
          <li key={example.title}>
            <Button type="button" data-testid="open-example" onClick={() => open(example)} style={{ textAlign: "left" }}>
              {example.title}
            </Button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export const examplesPlugin = { title: "Examples", icon: ExamplesIcon, content: ExamplesPane };

/**
 * Under the result pane: buttons that download the result shown there (of
 * the active tab) as CSV or as pretty-printed JSON, and a line that says
 * what happened.
 */
export function DownloadBar() {
  const { responseEditor } = useEditorContext({ nonNull: true });
  const [status, setStatus] = useState("");
  function shown() {
    try {
      return JSON.parse(responseEditor?.getValue() || "null");
    } catch {
      return null;
    }
  }
  function csv() {
    const rows = csvRows(shown());
    if (!rows.length) return setStatus("No rows to download: run a query that returns data first.");
    saveFile("result.csv", toCsv(rows), "text/csv;charset=utf-8");
    setStatus(`Downloaded result.csv (${rows.length} ${rows.length === 1 ? "row" : "rows"}).`);
  }
  function json() {
    const response = shown();
    if (!response) return setStatus("No result to download: run a query first.");
    saveFile("result.json", JSON.stringify(response, null, 2) + "\n", "application/json");
    setStatus("Downloaded result.json.");
  }
  return (
    <div style={{ display: "flex", alignItems: "center", gap: "var(--px-8)", padding: "var(--px-8) var(--px-16)" }}>
      <span style={{ whiteSpace: "nowrap" }}>Download result:</span>
      <Button type="button" data-testid="download-csv" aria-label="Download result as CSV" onClick={csv}>
        CSV
      </Button>
      <Button type="button" data-testid="download-json" aria-label="Download result as JSON" onClick={json}>
        JSON
      </Button>
      <span role="status" data-testid="download-status" style={{ color: "hsla(var(--color-neutral), var(--alpha-secondary))" }}>
        {status}
      </span>
    </div>
  );
}
