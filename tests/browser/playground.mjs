// Loads the playground from the running service in headless Chromium (Debian's
// /usr/bin/chromium), runs a query from the editor, checks the result shown,
// and saves a screenshot. Usage: node playground.mjs BASE_URL SCREENSHOT.png
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
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
