#!/usr/bin/env node
// A frontend-style client, with the npm `graphql-request` library. It sends
// the operations of tools/frontend/operations.graphql (the ones that
// graphql-inspector validates and codegen types), so what is type-checked is
// also what is run against a real service:
//
//   (a) CommunitiesByTierAndProvince with variables: tiers [C], provinceCodes
//       ["TH-57"]; DEMO-001 must be among the codes;
//   (b) CommunityByCode to read the version, then ClassifyCommunity with that
//       expectedVersion: the version must rise by exactly 1;
//   (c) ClassifyCommunity again with the same, now stale, expectedVersion: it
//       must fail with extensions.code == "CONFLICT" and change nothing; the
//       client re-reads the version and retries, which must succeed (and
//       restores the tier).
//
// Usage: node node_client.mjs --url http://127.0.0.1:8000/graphql --token-file FILE
//        [--operations ../frontend/operations.graphql] [--community DEMO-001]
// Exits 0 and prints one line "node graphql-request client: ok ..." when all pass.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

import { ClientError, GraphQLClient } from "graphql-request";
import { Kind, parse, print, visit } from "graphql";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    "token-file": { type: "string" },
    operations: {
      type: "string",
      default: fileURLToPath(new URL("../frontend/operations.graphql", import.meta.url)),
    },
    community: { type: "string", default: "DEMO-001" },
    timeout: { type: "string", default: "15" },
  },
});
if (!args.url || !args["token-file"]) {
  console.error("usage: node_client.mjs --url URL --token-file FILE [--operations FILE] [--community CODE]");
  process.exit(2);
}
const timeoutMs = Number(args.timeout) * 1000;

class CheckFailed extends Error {}
function expect(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

// One named operation of operations.graphql, with only the fragments it uses
// (the server, like the GraphQL spec, refuses unused fragments).
function operation(source, name) {
  const document = parse(source);
  const fragments = new Map(
    document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const chosen = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  if (!chosen) throw new Error(`${args.operations} has no operation ${name}`);
  const needed = [chosen];
  const seen = new Set();
  for (let i = 0; i < needed.length; i++) {
    visit(needed[i], {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (fragment && !seen.has(node.name.value)) {
          seen.add(node.name.value);
          needed.push(fragment);
        }
      },
    });
  }
  return print({ kind: Kind.DOCUMENT, definitions: needed });
}

const source = readFileSync(args.operations, "utf8");
const ops = {
  communities: operation(source, "CommunitiesByTierAndProvince"),
  community: operation(source, "CommunityByCode"),
  classify: operation(source, "ClassifyCommunity"),
};

const token = readFileSync(args["token-file"], "utf8").trim();
const client = new GraphQLClient(args.url, { headers: { authorization: `Bearer ${token}` } });
// Every request is bounded: no hanging check.
const request = (document, variables) =>
  client.request({ document, variables, signal: AbortSignal.timeout(timeoutMs) });

async function readCommunity(code) {
  const { community } = await request(ops.community, { code });
  expect(community !== null, `community ${code} not found`);
  return community;
}

async function classify(id, expectedVersion, tier) {
  const { classifyCommunity } = await request(ops.classify, { input: { id, expectedVersion, tier } });
  return classifyCommunity;
}

async function run(code) {
  // (a) A query with variables.
  const { communities } = await request(ops.communities, {
    filter: { tiers: ["C"], provinceCodes: ["TH-57"] },
    first: 50,
  });
  const codes = communities.nodes.map((n) => n.code);
  expect(codes.includes("DEMO-001"), `DEMO-001 is not among the tier C communities in TH-57: ${codes}`);
  expect(
    communities.nodes.every((n) => n.tourismTier === "C" && n.province.code === "TH-57"),
    `a community outside the filter: ${JSON.stringify(communities.nodes)}`,
  );
  expect(communities.totalCount === codes.length, `totalCount ${communities.totalCount} != ${codes.length} nodes`);

  // (b) A mutation with expectedVersion, on a version read first.
  const before = await readCommunity(code);
  const { version, tourismTier: tier } = before;
  const newTier = tier !== "B" ? "B" : "A";
  const changed = await classify(before.id, version, newTier);
  expect(changed.version === version + 1, `version ${version} -> ${changed.version}, expected ${version + 1}`);
  expect(changed.tourismTier === newTier, `tier is ${changed.tourismTier}, expected ${newTier}`);
  expect(changed.tierAssessedBy?.code === "CDD", `tierAssessedBy is ${JSON.stringify(changed.tierAssessedBy)}`);

  // (c) The same stale expectedVersion again: CONFLICT, handled.
  let conflictMessage;
  try {
    await classify(before.id, version, tier);
    throw new CheckFailed(`a stale expectedVersion ${version} was accepted`);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    const errors = error.response.errors ?? [];
    const codesSeen = errors.map((e) => e.extensions?.code);
    expect(
      codesSeen.length === 1 && codesSeen[0] === "CONFLICT",
      `expected one CONFLICT error, got ${JSON.stringify(errors)}`,
    );
    expect(Boolean(errors[0].extensions?.requestId), `no requestId in ${JSON.stringify(errors[0])}`);
    expect(error.response.data?.classifyCommunity == null, `data alongside the CONFLICT: ${JSON.stringify(error.response.data)}`);
    conflictMessage = errors[0].message;
  }
  const current = await readCommunity(code);
  expect(current.version === version + 1, `the refused update changed the version: ${JSON.stringify(current)}`);
  expect(current.tourismTier === newTier, `the refused update changed the tier: ${JSON.stringify(current)}`);
  const retried = await classify(current.id, current.version, tier);
  expect(retried.version === version + 2, `retry gave version ${retried.version}, expected ${version + 2}`);
  expect(retried.tourismTier === tier, `retry gave tier ${retried.tourismTier}, expected ${tier}`);

  return (
    `(a) ${codes.length} tier C communities in TH-57 incl. DEMO-001; ` +
    `(b) ${code} ${tier}->${newTier} version ${version}->${version + 1}; ` +
    `(c) CONFLICT (${JSON.stringify(conflictMessage)}) handled, retried -> version ${version + 2}`
  );
}

try {
  const summary = await run(args.community);
  console.log(`node graphql-request client: ok: ${summary}`);
} catch (error) {
  const detail =
    error instanceof CheckFailed
      ? error.message
      : error instanceof ClientError
        ? `${error.name}: ${JSON.stringify(error.response.errors ?? error.response)}`
        : `${error?.name}: ${error?.message}`;
  console.error(`node graphql-request client: FAILED: ${detail}`);
  process.exitCode = 1;
}
