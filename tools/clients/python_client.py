#!/usr/bin/env python3
"""A partner system's client, with the Python `gql` library (requests transport).

Runs the worked example of docs/api.md against a running service:

  (a) a query with variables: tier C communities in Chiang Rai (TH-57); DEMO-001
      must be among them;
  (b) classifyCommunity with expectedVersion, on a community whose version is
      read first: the version must rise by exactly 1;
  (c) the same stale expectedVersion again: the service must refuse it with
      extensions.code == "CONFLICT" and change nothing; the client re-reads the
      version and retries, which must succeed (this also restores the tier).

Documents are validated against schema.graphql on the client side before they
are sent (gql's Client(schema=...)).

Usage: python_client.py --url http://127.0.0.1:8000/graphql --token-file FILE
       [--schema schema.graphql] [--community DEMO-001]
Exits 0 and prints one line "python gql client: ok ..." when all pass.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gql import Client, gql
from gql.client import SyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

COMMUNITIES = gql(
    """
    query Communities($f: CommunityFilter) {
      communities(filter: $f, first: 50) {
        totalCount
        nodes { id code nameEn tourismTier version }
      }
    }
    """
)

COMMUNITY = gql(
    """
    query Community($code: String!) {
      community(code: $code) { id code tourismTier version }
    }
    """
)

CLASSIFY = gql(
    """
    mutation Classify($in: ClassifyCommunityInput!) {
      classifyCommunity(input: $in) { code tourismTier version tierAssessedBy { code } }
    }
    """
)


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def read_community(session: SyncClientSession, code: str) -> dict:
    community = session.execute(COMMUNITY, variable_values={"code": code})["community"]
    expect(community is not None, f"community {code} not found")
    return community


def classify(session: SyncClientSession, community_id: str, expected_version: int, tier: str | None) -> dict:
    result = session.execute(
        CLASSIFY,
        variable_values={"in": {"id": community_id, "expectedVersion": expected_version, "tier": tier}},
    )
    return result["classifyCommunity"]


def run(session: SyncClientSession, code: str) -> str:
    # (a) A query with variables.
    page = session.execute(COMMUNITIES, variable_values={"f": {"tiers": ["C"], "provinceCodes": ["TH-57"]}})
    communities = page["communities"]
    codes = [node["code"] for node in communities["nodes"]]
    expect("DEMO-001" in codes, f"DEMO-001 is not among the tier C communities in TH-57: {codes}")
    expect(all(node["tourismTier"] == "C" for node in communities["nodes"]), f"a non-C tier in {communities['nodes']}")
    expect(communities["totalCount"] == len(codes), f"totalCount {communities['totalCount']} != {len(codes)} nodes")

    # (b) A mutation with expectedVersion, on a version read first.
    before = read_community(session, code)
    version, tier = before["version"], before["tourismTier"]
    new_tier = "B" if tier != "B" else "A"
    changed = classify(session, before["id"], version, new_tier)
    expect(changed["version"] == version + 1, f"version {version} -> {changed['version']}, expected {version + 1}")
    expect(changed["tourismTier"] == new_tier, f"tier is {changed['tourismTier']}, expected {new_tier}")
    expect(changed["tierAssessedBy"] == {"code": "CDD"}, f"tierAssessedBy is {changed['tierAssessedBy']}")

    # (c) The same stale expectedVersion again: CONFLICT, handled.
    try:
        classify(session, before["id"], version, tier)
    except TransportQueryError as error:
        errors = error.errors or []
        codes_seen = [(e.get("extensions") or {}).get("code") for e in errors]
        expect(codes_seen == ["CONFLICT"], f"expected one CONFLICT error, got {errors}")
        expect(bool((errors[0].get("extensions") or {}).get("requestId")), f"no requestId in {errors[0]}")
        conflict_message = errors[0].get("message", "")
    else:
        raise CheckFailed(f"a stale expectedVersion {version} was accepted")
    current = read_community(session, code)
    expect(current["version"] == version + 1, f"the refused update changed the version: {current}")
    expect(current["tourismTier"] == new_tier, f"the refused update changed the tier: {current}")
    retried = classify(session, current["id"], current["version"], tier)
    expect(retried["version"] == version + 2, f"retry gave version {retried['version']}, expected {version + 2}")
    expect(retried["tourismTier"] == tier, f"retry gave tier {retried['tourismTier']}, expected {tier}")

    return (
        f"(a) {len(codes)} tier C communities in TH-57 incl. DEMO-001; "
        f"(b) {code} {tier}->{new_tier} version {version}->{version + 1}; "
        f"(c) CONFLICT ({conflict_message!r}) handled, retried -> version {version + 2}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the GraphQL endpoint")
    parser.add_argument("--token-file", required=True, type=Path, help="a file holding a CDD bearer token")
    parser.add_argument("--schema", type=Path, default=Path(__file__).resolve().parents[2] / "schema.graphql")
    parser.add_argument("--community", default="DEMO-001", help="the community to reclassify")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request")
    args = parser.parse_args()

    token = args.token_file.read_text().strip()
    transport = RequestsHTTPTransport(
        url=args.url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=args.timeout,
        retries=0,
    )
    client = Client(transport=transport, schema=args.schema.read_text(), fetch_schema_from_transport=False)
    try:
        with client as session:  # one connected session for all the requests
            summary = run(session, args.community)
    except CheckFailed as failure:
        print(f"python gql client: FAILED: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # an unexpected transport or GraphQL error
        print(f"python gql client: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"python gql client: ok: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
