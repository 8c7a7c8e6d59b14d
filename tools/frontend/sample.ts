// A small, typed data layer as a frontend would write it, using the types that
// tools/codegen.ts generates from schema.graphql and ./operations.graphql
// (./generated.ts: one result and variables type per operation;
// ./schema-types.ts: every schema type). It is only type-checked (`tsc --noEmit`, strict) by
// tools/check.sh: when schema.graphql or operations.graphql changes in a way
// that breaks this code, the check fails. The same operations run against a
// real service in tools/clients/node_client.mjs.
import { ClientError, GraphQLClient, type TypedDocumentString } from "graphql-request";
import { Kind, parse, print, visit, type DefinitionNode, type DocumentNode } from "graphql";

import type {
  ClassifyCommunityMutation,
  ClassifyCommunityMutationVariables,
  CommunitiesByTierAndProvinceQuery,
  CommunitiesByTierAndProvinceQueryVariables,
  CommunityByCodeQuery,
  CommunityByCodeQueryVariables,
  CommunitySummaryFragment,
  TourismTier,
} from "./generated.js";
import type { Community } from "./schema-types.js";

/** Every operation in operations.graphql, with its result and variables types. */
interface Operations {
  CommunitiesByTierAndProvince: [CommunitiesByTierAndProvinceQuery, CommunitiesByTierAndProvinceQueryVariables];
  CommunityByCode: [CommunityByCodeQuery, CommunityByCodeQueryVariables];
  ClassifyCommunity: [ClassifyCommunityMutation, ClassifyCommunityMutationVariables];
}
type OperationName = keyof Operations;
type Document<K extends OperationName> = TypedDocumentString<Operations[K][0], Operations[K][1]>;

/**
 * One operation of operations.graphql (its text comes from a bundler's raw
 * import, for example), with only the fragments it uses: the server, like the
 * GraphQL spec, refuses unused fragments.
 */
export function operation<K extends OperationName>(source: string, name: K): Document<K> {
  const document: DocumentNode = parse(source);
  const fragments = new Map<string, DefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const chosen = document.definitions.find(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.name?.value === name,
  );
  if (chosen === undefined) throw new Error(`operations.graphql has no operation ${name}`);
  const needed: DefinitionNode[] = [chosen];
  const seen = new Set<string>();
  for (let i = 0; i < needed.length; i++) {
    visit(needed[i]!, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (fragment !== undefined && !seen.has(node.name.value)) {
          seen.add(node.name.value);
          needed.push(fragment);
        }
      },
    });
  }
  return print({ kind: Kind.DOCUMENT, definitions: needed }) as unknown as Document<K>;
}

/** The error code the service puts in every error's `extensions.code`. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "QUERY_TOO_COMPLEX"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL";

export function errorCode(error: unknown): ErrorCode | string | undefined {
  if (!(error instanceof ClientError)) return undefined;
  const code = error.response.errors?.[0]?.extensions?.["code"];
  return typeof code === "string" ? code : undefined;
}

export class PartnerRecords {
  private readonly client: GraphQLClient;
  private readonly documents: { readonly [K in OperationName]: Document<K> };

  constructor(endpoint: string, token: string, operationsSource: string) {
    this.client = new GraphQLClient(endpoint, { headers: { authorization: `Bearer ${token}` } });
    this.documents = {
      CommunitiesByTierAndProvince: operation(operationsSource, "CommunitiesByTierAndProvince"),
      CommunityByCode: operation(operationsSource, "CommunityByCode"),
      ClassifyCommunity: operation(operationsSource, "ClassifyCommunity"),
    };
  }

  /** (a) A query with variables: communities of some tiers in some provinces. */
  async communities(tiers: readonly TourismTier[], provinceCodes: readonly string[]): Promise<readonly CommunitySummaryFragment[]> {
    const variables: CommunitiesByTierAndProvinceQueryVariables = {
      filter: { tiers, provinceCodes },
      first: 50,
    };
    const result = await this.client.request(this.documents.CommunitiesByTierAndProvince, variables);
    return result.communities.nodes;
  }

  async community(code: string): Promise<CommunitySummaryFragment> {
    const result = await this.client.request(this.documents.CommunityByCode, { code });
    if (result.community === null) throw new Error(`no community ${code}`);
    return result.community;
  }

  /**
   * (b) and (c): classify with `expectedVersion`; on CONFLICT re-read the
   * community, and retry with its current version if the caller still wants
   * the change. The result carries the new version.
   */
  async classify(
    community: Pick<Community, "id" | "code" | "version">,
    tier: TourismTier | null,
    stillWanted: (current: CommunitySummaryFragment) => boolean = () => true,
  ): Promise<ClassifyCommunityMutation["classifyCommunity"] | null> {
    const variables: ClassifyCommunityMutationVariables = {
      input: { id: community.id, expectedVersion: community.version, tier },
    };
    try {
      return (await this.client.request(this.documents.ClassifyCommunity, variables)).classifyCommunity;
    } catch (error) {
      if (errorCode(error) !== "CONFLICT") throw error;
      const current = await this.community(community.code);
      if (!stillWanted(current)) return null;
      const retry = await this.client.request(this.documents.ClassifyCommunity, {
        input: { id: current.id, expectedVersion: current.version, tier },
      });
      return retry.classifyCommunity;
    }
  }
}

/** Render a tier, with a default branch: the server may add enum values. */
export function tierLabel(tier: TourismTier | null): string {
  switch (tier) {
    case "A":
      return "ready for promotion";
    case "B":
      return "needs infrastructure";
    case "C":
      return "learning visits";
    case "D":
      return "community products";
    case null:
      return "not classified";
    default:
      return `tier ${String(tier)}`;
  }
}

// Compile-time checks that the generated types carry the schema's rules. Each
// line below must be a type error; if one stops being an error, tsc fails.
export const typeChecks: readonly unknown[] = [
  // @ts-expect-error expectedVersion is required by ClassifyCommunityInput.
  { input: { id: "Q29tbXVuaXR5OjE", tier: "B" } } satisfies ClassifyCommunityMutationVariables,
  // @ts-expect-error there is no tier E.
  { input: { id: "Q29tbXVuaXR5OjE", expectedVersion: 1, tier: "E" } } satisfies ClassifyCommunityMutationVariables,
  // @ts-expect-error tiers are TourismTier values, not free strings.
  { filter: { tiers: ["c"] } } satisfies CommunitiesByTierAndProvinceQueryVariables,
  // @ts-expect-error nameEn may be null, so it is not a plain string.
  ((c: CommunitySummaryFragment): string => c.nameEn) satisfies unknown,
  // @ts-expect-error version is a number.
  ((c: CommunitySummaryFragment): string => c.version) satisfies unknown,
];
