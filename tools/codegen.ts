// GraphQL Code Generator: TypeScript types for schema.graphql and the sample
// frontend operations. Run from tools/: `graphql-codegen --config codegen.ts`
// (tools/check.sh does, before type-checking frontend/sample.ts). Both outputs
// are regenerated on every check and are not committed.
//
// Since @graphql-codegen/typescript-operations 6, the operations plugin emits
// the enums and input types its operations use by itself, so the two plugins
// write separate files (together in one file they would declare those twice):
//
//   frontend/schema-types.ts  every type of the schema  (@graphql-codegen/typescript)
//   frontend/generated.ts     result and variables type of each operation in
//                             frontend/operations.graphql, with the enums and
//                             inputs they use          (@graphql-codegen/typescript-operations)
//   frontend/persisted/       the client preset's typed documents and its
//                             persisted-documents.json (@graphql-codegen/client-preset)
import type { CodegenConfig } from "@graphql-codegen/cli";

// Shared by both outputs: the same scalar mapping and enum style.
const common = {
  // Fail on any scalar this config does not map, instead of typing it `any`.
  strictScalars: true,
  scalars: {
    // RFC 3339 with an offset and varying fractional seconds: parse it, do not compare strings.
    DateTime: "string",
    // YYYY-MM-DD.
    Date: "string",
    // A field's value in a change event's diff (ChangeEvent.diff): any JSON
    // value, as the API returns that field. Narrow it by `field`.
    JSON: "unknown",
  },
  // String unions, not TS enums: nothing to emit at run time, and a value the
  // server adds later is just another string (handle it in a default branch).
  enumType: "string-literal",
  enumsAsTypes: true,
  useTypeImports: true,
  immutableTypes: true,
} as const;

const config: CodegenConfig = {
  schema: "../schema.graphql",
  overwrite: true,
  generates: {
    "frontend/schema-types.ts": {
      plugins: ["typescript"],
      config: common,
    },
    "frontend/generated.ts": {
      documents: ["frontend/operations.graphql"],
      plugins: ["typescript-operations"],
      config: common,
    },
    // The client preset with persisted documents: frontend/persisted/
    // persisted-documents.json maps the SHA-256 of each operation's text to
    // the text. An organisation registers it as its trusted documents
    // (`api operations register --org ORG persisted-documents.json`, or the
    // registerTrustedDocuments mutation) and then sends hashes alone.
    // tools/check.sh compares it with tests/fixtures/persisted-documents.json,
    // the copy the Rust tests register.
    "frontend/persisted/": {
      documents: ["frontend/operations.graphql"],
      preset: "client",
      presetConfig: { persistedDocuments: { hashAlgorithm: "sha256" }, fragmentMasking: false },
      config: common,
    },
  },
};

export default config;
