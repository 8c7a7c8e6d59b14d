// Loads the playground from the running service in headless Chromium (Debian's
// /usr/bin/chromium), runs a query from the editor, checks the result shown,
// runs a live subscription and sees an event a write makes; then what
// analysts use: the Explorer lists the schema's fields, the saved examples
// are open as tabs, and a result downloads as CSV and as JSON (into a
// temporary directory; the files' content is checked). Saves a screenshot.
// Prints a PASS line per check, or FAIL, and exits non-zero on failure.
// Usage: node playground.mjs BASE_URL SCREENSHOT.png WRITE_TOKEN
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { chromium } from "playwright-core";
import examples from "../../api/playground/src/examples.js";

const [base, screenshot, writeToken] = process.argv.slice(2);

async function gql(query, variables) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${writeToken}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}
const pass = (what) => console.log(`PASS playground: ${what}`);
const check = (ok, what) => { if (!ok) throw new Error(what); };

// Offline: any request that leaves the service fails the test (the
// downloads are blob: URLs of the page's own origin).
const external = [];
const own = [base, base.replace("http", "ws"), `blob:${base}`];
function watch(page) {
  page.on("request", (r) => { if (!own.some((prefix) => r.url().startsWith(prefix))) external.push(r.url()); });
  return page;
}

const downloads = await mkdtemp(join(tmpdir(), "playground-downloads-"));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  downloadsPath: downloads,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const newPage = async () => watch(await browser.newPage({ viewport: { width: 1400, height: 900 } }));
let failed = false;
try {
  const page = await newPage();
  const query = "{ communities(first: 3, filter: {tiers: [C], provinceCodes: [\"TH-57\"]}) { nodes { code nameTh } } }";
  await page.goto(`${base}/graphql?query=${encodeURIComponent(query)}`, { waitUntil: "networkidle" });
  await page.waitForSelector(".graphiql-execute-button", { timeout: 20000 });
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(() => document.querySelector(".result-window")?.textContent.includes("DEMO-001"), null, { timeout: 20000 });
  const shown = await page.textContent(".result-window");
  check(shown.includes("ชุมชน"), `unexpected result: ${shown.slice(0, 200)}`);
  pass("the query ran in Chromium and showed DEMO-001");
  // The docs explorer loads the schema through introspection, with the limits on.
  await page.click("button[aria-label='Show Documentation Explorer']");
  await page.waitForSelector(".graphiql-doc-explorer", { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector(".graphiql-doc-explorer")?.textContent.includes("Query"), null, { timeout: 20000 });
  pass("the docs explorer shows the schema");

  // A live subscription from the editor (over the WebSocket at /graphql/ws),
  // then a write: the event shows up in the result pane.
  const live = await newPage();
  const subscription = 'subscription { changes(entityTypes: ["Community"]) { operation entityId changedFields } }';
  await live.goto(`${base}/graphql?query=${encodeURIComponent(subscription)}`, { waitUntil: "networkidle" });
  await live.waitForSelector(".graphiql-execute-button", { timeout: 20000 });
  await live.click(".graphiql-execute-button");
  await live.waitForTimeout(1500);
  const read = await gql('{ community(code: "DEMO-002") { id version } }');
  const { id, version } = read.data.community;
  const written = await gql(
    "mutation($id: ID!, $v: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, households: 4242}) { version } }",
    { id, v: version },
  );
  check(!written.errors, `the write failed: ${JSON.stringify(written.errors)}`);
  await live.waitForFunction((wanted) => document.querySelector(".result-window")?.textContent.includes(wanted), id, { timeout: 20000 });
  const streamed = await live.textContent(".result-window");
  check(streamed.includes("households"), `unexpected event: ${streamed.slice(0, 200)}`);
  pass("a live subscription showed the event of a write");

  // For analysts, on a fresh page: run a query, keeping the response it got.
  const analyst = await newPage();
  const simple = "{ communities(first: 3) { nodes { code nameTh province { nameEn } } } }";
  await analyst.goto(`${base}/graphql?query=${encodeURIComponent(simple)}`, { waitUntil: "networkidle" });
  await analyst.waitForSelector(".graphiql-execute-button", { timeout: 20000 });
  const [answer] = await Promise.all([
    analyst.waitForResponse((r) => r.request().method() === "POST" && r.request().postDataJSON()?.query === simple),
    analyst.click(".graphiql-execute-button"),
  ]);
  const response = await answer.json();
  const nodes = response.data?.communities?.nodes ?? [];
  check(nodes.length === 3, `the query returned ${JSON.stringify(response).slice(0, 200)}`);
  await analyst.waitForFunction((code) => document.querySelector(".result-window")?.textContent.includes(code), nodes[2].code, { timeout: 20000 });

  // The saved examples are tabs, titled by their operation names. The
  // Examples pane lists them; one whose tab was closed opens in a new tab.
  const names = examples.map((e) => e.query.match(/(?:query|mutation|subscription)\s+(\w+)/)[1]);
  const titles = () => analyst.$$eval(".graphiql-tab-button", (buttons) => buttons.map((b) => b.textContent.trim()));
  const tabs = await titles();
  check(isDeepStrictEqual(tabs.slice(1), names), `the tabs are ${JSON.stringify(tabs)}, not the examples ${JSON.stringify(names)}`);
  await analyst.click("button[aria-label='Show Examples']");
  const listed = await analyst.$$eval("[data-testid='open-example']", (buttons) => buttons.map((b) => b.textContent.trim()));
  check(isDeepStrictEqual(listed, examples.map((e) => e.title)), `the Examples pane lists ${JSON.stringify(listed)}`);
  // GraphiQL saves the editors' text into the active tab 100 ms after a
  // change, so the clicks between tabs wait a little, as a person would.
  const settle = () => analyst.waitForTimeout(300);
  await analyst.click(".graphiql-tab-button >> nth=2");
  await settle();
  await analyst.click(".graphiql-tab-active .graphiql-tab-close");
  await settle();
  await analyst.click(`[data-testid='open-example'] >> text="${examples[1].title}"`);
  await analyst.waitForFunction((name) => document.querySelector(".graphiql-tab-active")?.textContent.includes(name), names[1], { timeout: 5000 });
  await settle();
  const reopened = [tabs[0], names[0], names[2], names[1]];
  check(isDeepStrictEqual(await titles(), reopened), `after reopening ${names[1]} the tabs are ${JSON.stringify(await titles())}`);
  await analyst.click(".graphiql-tab-button >> nth=0");
  await analyst.waitForFunction((code) => document.querySelector(".result-window")?.textContent.includes(code), nodes[2].code, { timeout: 5000 });
  pass(`the saved examples are open as tabs (${names.join(", ")}), listed in the Examples pane, and open again from it`);

  // The Explorer lists the schema's root fields, to tick into a query.
  await analyst.click("button[aria-label='Show GraphiQL Explorer']");
  await analyst.waitForFunction(() => document.querySelector(".graphiql-explorer-root")?.textContent.includes("communities"), null, { timeout: 20000 });
  pass("the Explorer lists the root fields (communities)");

  // The result, downloaded through the Download bar under it.
  async function download(testId, name) {
    const [file] = await Promise.all([analyst.waitForEvent("download"), analyst.click(`[data-testid='${testId}']`)]);
    check(file.suggestedFilename() === name, `the download is named ${file.suggestedFilename()}, not ${name}`);
    const path = join(downloads, name);
    await file.saveAs(path);
    return readFile(path);
  }
  const csv = await download("download-csv", "result.csv");
  check(csv.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), "result.csv does not start with a UTF-8 byte order mark");
  const field = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const expected = ["code,nameTh,province.nameEn", ...nodes.map((n) => [n.code, n.nameTh, n.province.nameEn].map(field).join(","))];
  const lines = csv.subarray(3).toString("utf8").split("\r\n");
  check(lines.pop() === "", "result.csv does not end with CRLF");
  check(isDeepStrictEqual(lines, expected), `result.csv is\n${lines.join("\n")}\nnot\n${expected.join("\n")}`);
  check(nodes.every((n) => /[\u0E00-\u0E7F]/.test(n.nameTh)), "the result has no Thai names to check");
  pass(`result.csv has the header ${expected[0]} and the 3 rows (${nodes.map((n) => n.code).join(", ")}), Thai intact`);
  const json = await download("download-json", "result.json");
  check(isDeepStrictEqual(JSON.parse(json.toString("utf8")), response), `result.json is not the response: ${json.toString("utf8").slice(0, 200)}`);
  pass("result.json is the response");
  await analyst.screenshot({ path: screenshot, fullPage: true });

  check(!external.length, `the playground fetched from outside the service: ${external.join(", ")}`);
  pass(`nothing was fetched from outside the service; screenshot ${screenshot}`);
} catch (e) {
  failed = true;
  console.error(`FAIL playground: ${e.message}`);
} finally {
  await browser.close();
  await rm(downloads, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
