// Loads the playground from the running service in headless Chromium (Debian's
// /usr/bin/chromium), runs a query from the editor, checks the result shown,
// runs a live subscription and sees an event a write makes, and saves a
// screenshot. Usage: node playground.mjs BASE_URL SCREENSHOT.png WRITE_TOKEN
import { chromium } from "playwright-core";

const [base, screenshot, writeToken] = process.argv.slice(2);

async function gql(query, variables) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${writeToken}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Offline: any request that leaves the service fails the test.
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
  const query = "{ communities(first: 3, filter: {tiers: [C], provinceCodes: [\"TH-57\"]}) { nodes { code nameTh } } }";
  await page.goto(`${base}/graphql?query=${encodeURIComponent(query)}`, { waitUntil: "networkidle" });
  await page.waitForSelector(".graphiql-execute-button", { timeout: 20000 });
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(() => document.querySelector(".result-window")?.textContent.includes("DEMO-001"), null, { timeout: 20000 });
  const shown = await page.textContent(".result-window");
  // The docs explorer loads the schema through introspection, with the limits on.
  await page.click("button[aria-label='Show Documentation Explorer']");
  await page.waitForSelector(".graphiql-doc-explorer", { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector(".graphiql-doc-explorer")?.textContent.includes("Query"), null, { timeout: 20000 });
  await page.screenshot({ path: screenshot, fullPage: true });

  // A live subscription from the editor (over the WebSocket at /graphql/ws),
  // then a write: the event shows up in the result pane.
  const live = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  live.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith(base.replace("http", "ws"))) external.push(r.url()); });
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
  if (written.errors) throw new Error(`the write failed: ${JSON.stringify(written.errors)}`);
  await live.waitForFunction((wanted) => document.querySelector(".result-window")?.textContent.includes(wanted), id, { timeout: 20000 });
  const streamed = await live.textContent(".result-window");
  if (!streamed.includes("households")) throw new Error(`unexpected event: ${streamed.slice(0, 200)}`);
  console.log("playground: a live subscription in Chromium showed the event of a write");
  if (external.length) throw new Error(`the playground fetched from outside the service: ${external.join(", ")}`);
  if (!shown.includes("ชุมชน")) throw new Error(`unexpected result: ${shown.slice(0, 200)}`);
  console.log(`playground: the query ran in Chromium and showed DEMO-001; screenshot ${screenshot}`);
} catch (e) {
  failed = true;
  console.error(`playground test failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
