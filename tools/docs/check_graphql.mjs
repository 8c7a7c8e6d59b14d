// Every GraphQL example in the docs parses and validates against schema.graphql.
//
//   node tools/docs/check_graphql.mjs [--modules DIR]
//
// Looks at every tracked markdown file:
// - each ```graphql (or ```gql) fenced block must be an executable document
//   (operations and the fragments they use) that graphql-js `validate`
//   accepts against schema.graphql with all the specification's rules. Type
//   definitions (SDL) belong in a ```graphqls block, which is not checked
//   here; a lone fragment must come with an operation that uses it.
// - each `"query": "..."` JSON string in a shell example (```sh, ```bash,
//   ```shell, ```console) is decoded and checked the same way.
//
// graphql-js comes from tools/node_modules (npm ci --prefix tools), or from
// the node_modules folder given with --modules. Prints `file:line: message`
// per problem and exits 1 if there is any.
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
const modulesAt = args.indexOf("--modules");
if (modulesAt >= 0 && !args[modulesAt + 1]) {
  console.error("usage: node tools/docs/check_graphql.mjs [--modules NODE_MODULES_DIR]");
  process.exit(2);
}
const modules = modulesAt >= 0 ? resolve(args[modulesAt + 1]) : join(root, "tools", "node_modules");
const require = createRequire(join(modules, "noop.js"));
const { buildSchema, parse, validate, Kind } = require("graphql");

const schema = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));
const files = execFileSync("git", ["-C", root, "ls-files", "-z", "*.md"], { encoding: "utf8" })
  .split("\0")
  .filter(Boolean);

const problems = [];
let checked = 0;

// Fenced blocks: { info, startLine (of the first content line), lines }.
function blocks(text) {
  const out = [];
  const lines = text.split("\n");
  let open = null;
  lines.forEach((line, i) => {
    const m = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(line);
    if (!open) {
      if (m) open = { indent: m[1].length, fence: m[2], info: m[3].trim().split(/\s+/)[0].toLowerCase(), startLine: i + 2, lines: [] };
      return;
    }
    if (m && m[2][0] === open.fence[0] && m[2].length >= open.fence.length && !m[3].trim()) {
      out.push(open);
      open = null;
      return;
    }
    // Content is indented like its fence (inside list items): strip that much.
    open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
  });
  return out;
}

function check(file, line, source, where) {
  checked += 1;
  let doc;
  try {
    doc = parse(source);
  } catch (e) {
    const at = e.locations?.[0]?.line ?? 1;
    problems.push(`${file}:${line + at - 1}: ${where} does not parse: ${e.message}`);
    return;
  }
  const sdl = doc.definitions.filter((d) => d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION);
  if (sdl.length) {
    problems.push(`${file}:${line + sdl[0].loc.startToken.line - 1}: ${where} holds type definitions (SDL): use a \`\`\`graphqls fence`);
    return;
  }
  for (const error of validate(schema, doc)) {
    const at = error.locations?.[0]?.line ?? 1;
    problems.push(`${file}:${line + at - 1}: ${where}: ${error.message}`);
  }
}

for (const file of files) {
  const text = readFileSync(join(root, file), "utf8");
  for (const block of blocks(text)) {
    if (block.info === "graphql" || block.info === "gql") {
      check(file, block.startLine, block.lines.join("\n"), "this graphql block");
    } else if (["sh", "bash", "shell", "console"].includes(block.info)) {
      block.lines.forEach((line, i) => {
        for (const m of line.matchAll(/"query":\s*"((?:[^"\\]|\\.)*)"/g)) {
          let query;
          try {
            query = JSON.parse(`"${m[1]}"`);
          } catch (e) {
            problems.push(`${file}:${block.startLine + i}: the "query" string is not valid JSON: ${e.message}`);
            continue;
          }
          // Errors point at the example's line: the query is one line of JSON.
          check(file, block.startLine + i, query.replace(/\n/g, " "), 'the "query" of this shell example');
        }
      });
    }
  }
}

for (const p of problems) console.log(p);
if (problems.length) {
  console.log(`graphql: ${problems.length} problem(s) in ${checked} examples`);
  process.exit(1);
}
console.log(`graphql: ${checked} examples in ${files.length} markdown files parse and validate against schema.graphql`);
