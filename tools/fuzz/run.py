#!/usr/bin/env python3
"""Fuzz the running service with Schemathesis, with ids and codes from its data.

    python tools/fuzz/run.py --url http://127.0.0.1:PORT/graphql \
        --token-file cdd.token --token-file foundation.token [--seconds 60]

Schemathesis (hypothesis-graphql underneath) generates queries and mutations
from the schema it loads by introspection. Random ids and codes match no
record, so a mutation would stop at NOT_FOUND before its rules. Before the
run this script reads the ids, codes, versions and cursors of the records
from the service (`Samples.load`); a `flatmap_body` hook then rewrites most
generated ID, code and version arguments with those (`Rewriter`), and leaves
the rest random. Ids and versions the answers return join the samples, so
records the fuzzer creates are updated, signed and transitioned too.

Every operation of the schema gets a share of the time, round after round,
twice as much for mutations. The first token (CDD, every scope) sends most
requests; the others are used now and then.

A failure is an answer with a 5xx status, an error with
`extensions.code == "INTERNAL"`, an answer that is not JSON, or no answer
(the service died or hung). 4xx answers and other error codes are expected.
It prints the number of requests, what each operation got back, and every
distinct failure with its query; the exit status is 1 if there was one.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import random
import sys
import time
from typing import Any

import graphql
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# The record types with global ids (api/src/domain/ids.rs), most specific
# first: an owner type name such as `RotateWebhookSecretInput` or
# `UpdateCommunityInput` names its record type.
KINDS = ["WebhookSubscription", "Commitment", "Community", "Curriculum", "Enrolment", "Programme", "Organization", "Mou"]
OWNER_KINDS = [("Webhook", "WebhookSubscription")] + [(k, k) for k in KINDS]
# ID arguments named after a record type: `programmeId`, `modelCommunityIds`, ...
ID_PREFIXES = {
    "community": "Community",
    "modelCommunity": "Community",
    "mou": "Mou",
    "programme": "Programme",
    "enrolledIn": "Programme",
    "curriculum": "Curriculum",
    "enrolment": "Enrolment",
    "commitment": "Commitment",
}
# Plausible values for a few text arguments (webhooks are not delivered during the run).
# Loopback only: the service checks that a webhook's host resolves, and CI may have no DNS.
URLS = ["http://127.0.0.1:9/hooks/partner", "https://127.0.0.1:9/a?b=c", "http://localhost:9/hook"]
TEXTS = ["บ้านทดสอบ", "Fuzz test", "ชุมชนท่องเที่ยว", "A", "ก\u0e48\u0e38"]
EMAILS = ["someone@example.org", "ผู้ใช้@example.th"]
PHONES = ["+66 81 234 5678", "081-234-5678"]
# ... and wrong ones now and then.
WRONG = ["", "  ", "x" * 301, "NOBODY", "not-a-url", "a@b", "\u0000"]

# How often a matching argument gets a sample instead of the generated value,
# and how often a sample is a wrong value instead.
SAMPLE_P = 0.85
WRONG_P = 0.05


def kind_of(global_id: str) -> str | None:
    """The record type of a global id (`base64url("Type:number")`), or None."""
    try:
        text = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    name, _, number = text.partition(":")
    return name if name in KINDS and number.isdigit() else None


def encode_id(kind: str, number: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{number}".encode()).decode().rstrip("=")


class Samples:
    """Ids, codes, versions and cursors of the service's records."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = collections.defaultdict(list)
        self.codes: dict[str, list[str]] = collections.defaultdict(list)
        self.versions: dict[str, int] = {}
        self.cursors: dict[str, list[str]] = collections.defaultdict(list)

    def add(self, kind: str, global_id: str, code: str | None = None, version: int | None = None) -> None:
        if global_id not in self.versions:
            self.ids[kind].append(global_id)
        if code is not None and code not in self.codes[kind]:
            self.codes[kind].append(code)
        if version is not None or global_id not in self.versions:
            self.versions[global_id] = version if version is not None else 1

    def learn(self, value: Any) -> None:
        """Takes in every record (an object with an `id`) in an answer's data."""
        if isinstance(value, dict):
            global_id = value.get("id")
            kind = kind_of(global_id) if isinstance(global_id, str) else None
            if kind:
                code = value.get("code") if isinstance(value.get("code"), str) else None
                version = value.get("version") if isinstance(value.get("version"), int) else None
                self.add(kind, global_id, code, version)
            for item in value.values():
                self.learn(item)
        elif isinstance(value, list):
            for item in value:
                self.learn(item)

    LOAD = """{
      organizations { id code }
      provinces { code }
      communities(first: 100) { edges { cursor node { id code version } } }
      mous(first: 100) { edges { cursor node { id code version commitments { id version } } } }
      programmes(first: 100) { edges { cursor node { id code version } } }
      curricula(first: 100) { edges { cursor node { id code version } } }
    }"""
    LOAD_MORE = """{
      enrolments(first: 100) { edges { cursor node { id version } } }
      changes(first: 100) { edges { cursor } }
      webhookSubscriptions(first: 100) { edges { cursor node { id version } } }
    }"""

    def load(self, client: Client) -> None:
        for query in (self.LOAD, self.LOAD_MORE):
            data = client.ok(query)
            self.learn(data)
            for field, value in data.items():
                if isinstance(value, dict):  # a connection
                    self.cursors[field] = [edge["cursor"] for edge in value["edges"]]
                elif field == "provinces":
                    self.codes["Province"] = [province["code"] for province in value]

    def refresh_versions(self, client: Client, text: str) -> None:
        """Re-reads the versions of the records whose ids appear in `text`."""
        ids = [i for i in self.versions if i in text][:50]
        if ids:
            fragments = " ".join(f"... on {k} {{ version }}" for k in KINDS if k != "Organization")
            data = client.post(f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ id {fragments} }} }}", {"ids": ids})
            self.learn((data.get("data") or {}).get("nodes"))


class Client:
    """Plain requests to the service, outside the fuzzing (samples and versions)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def post(self, query: str, variables: dict | None = None) -> dict:
        response = self.session.post(self.url, json={"query": query, "variables": variables or {}}, timeout=30)
        return response.json()

    def ok(self, query: str) -> dict:
        answer = self.post(query)
        if answer.get("errors"):
            sys.exit(f"fuzz: loading the samples failed: {answer['errors']}")
        return answer["data"]


class Rewriter(graphql.Visitor):
    """Replaces most ID, code, cursor and version literals of a generated operation with samples."""

    def __init__(self, type_info: graphql.TypeInfo, samples: Samples, rnd: random.Random) -> None:
        super().__init__()
        self.type_info = type_info
        self.samples = samples
        self.rnd = rnd
        # The arguments and input fields the visit is in: (name, owner), where
        # the owner of an argument is "ReturnType/field" and that of an input
        # field its input type.
        self.context: list[tuple[str, str]] = []
        self.fields: list[str] = []

    # -- where a literal is
    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> None:
        field = self.type_info.get_field_def()
        owner = graphql.get_named_type(field.type).name if field else ""
        self.context.append((node.name.value, f"{owner}/{self.fields[-1] if self.fields else ''}"))

    def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_input_type()
        owner = graphql.get_named_type(parent).name if parent else ""
        self.context.append((node.name.value, owner))

    def leave_argument(self, *_: Any) -> None:
        self.context.pop()

    leave_object_field = leave_argument

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, *_: Any) -> None:
        self.fields.pop()

    # -- the literals
    def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> Any:
        return self.replace(node)

    def enter_int_value(self, node: graphql.IntValueNode, *_: Any) -> Any:
        return self.replace(node)

    def enter_float_value(self, node: graphql.FloatValueNode, *_: Any) -> Any:
        return self.replace(node)

    def replace(self, node: graphql.ValueNode) -> Any:
        if not self.context or self.rnd.random() > SAMPLE_P:
            return None
        scalar = graphql.get_named_type(self.type_info.get_input_type())
        name, owner = self.context[-1]
        value = self.sample(scalar.name if scalar else "", name, owner)
        if value is None:
            return None
        if isinstance(value, str):
            return nodes.String(value)
        if isinstance(value, float):
            return nodes.Float(value)
        return nodes.Int(value)

    def pick(self, values: list) -> Any:
        """One of `values` (None if there are none), or now and then a wrong one."""
        if self.rnd.random() < WRONG_P:
            return self.rnd.choice(WRONG)
        return self.rnd.choice(values) if values else None

    def sample(self, scalar: str, name: str, owner: str) -> Any:
        """A value for argument or input field `name` of `owner`, or None to keep the generated one."""
        rnd, samples, pick = self.rnd, self.samples, self.pick
        if scalar == "ID":
            if name.endswith("Ids") or name.endswith("Id") or name == "enrolledIn":
                kind = ID_PREFIXES.get(name.removesuffix("s").removesuffix("Id"))
            else:  # `id`, `ids`: the record type the owner names; `node(id:)`, `entityId`: any
                kind = next((k for part, k in OWNER_KINDS if part in owner), None)
            if kind is None or rnd.random() < 0.05:  # an id of another type, now and then
                kind = rnd.choice([k for k in KINDS if samples.ids[k]])
            return pick(samples.ids[kind])
        if scalar == "String":
            if name == "code":
                kind = next((k for part, k in OWNER_KINDS if part in owner), "Community")
                if owner.startswith("Create") and rnd.random() < 0.6:
                    return f"FZ-{rnd.randrange(16**6):06X}"
                return pick(samples.codes[kind])
            if name in ("provinceCode", "provinceCodes"):
                return pick(samples.codes["Province"])
            if name.endswith("Code") or name.endswith("Codes"):
                return pick(samples.codes["Organization"])
            if name == "entityTypes":
                return pick(KINDS)
            if name in ("after", "before"):
                # A cursor of the same list (`owner` is "Type/field"), or of the change feed.
                cursors = samples.cursors.get(owner.partition("/")[2]) or samples.cursors["changes"]
                return pick(cursors)
            if name == "idempotencyKey":
                return f"fuzz-key-{rnd.randrange(8)}"
            known = {"url": URLS, "email": EMAILS, "phone": PHONES}
            if name in known:
                return pick(known[name])
            if owner.startswith(("Create", "Update")) and rnd.random() < 0.7:
                return pick(TEXTS)
            return None
        if scalar == "Int":
            if name in ("first", "last"):
                return rnd.choice([0, 1, 2, 5, 10, 50, 100, 101, rnd.randrange(120)])
            if name == "year":
                return rnd.randrange(1990, 2036)
            if name in ("households", "villageNo", "capacity"):
                return rnd.randrange(-1, 500)
            if name == "overlapSeconds":
                return rnd.choice([0, 60, 86400, 10**7, -1])
            return None  # expectedVersion: set in leave_object_value, once the id is known
        if scalar == "Float" and name == "hours":
            return rnd.choice([0.0, 1.5, 40.0, -1.0, 1e9])
        return None

    def leave_object_value(self, node: graphql.ObjectValueNode, *_: Any) -> Any:
        """`expectedVersion` is the current version of the `id` beside it, most of the time."""
        fields = {f.name.value: f for f in node.fields}
        id_node, version_node = fields.get("id"), fields.get("expectedVersion")
        if not (isinstance(id_node, graphql.ObjectFieldNode) and version_node and self.rnd.random() < SAMPLE_P):
            return None
        if not isinstance(id_node.value, graphql.StringValueNode):
            return None
        version = self.samples.versions.get(id_node.value.value)
        if version is None:
            return None
        new_field = graphql.ObjectFieldNode(name=version_node.name, value=nodes.Int(version))
        return graphql.ObjectValueNode(fields=tuple(new_field if f is version_node else f for f in node.fields))


class Fuzz:
    def __init__(self, args: argparse.Namespace) -> None:
        self.url = args.url
        self.tokens = [open(path).read().strip() for path in args.token_file]
        self.client = Client(self.url, self.tokens[0])
        self.samples = Samples()
        self.session = requests.Session()
        self.deadline = 0.0
        self.requests = 0
        self.outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.failures: dict[tuple[str, str], tuple[str, int, str, str]] = {}
        self.failure_count = 0
        self.verbose = args.verbose
        self.messages: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    def setup(self) -> schemathesis.schemas.BaseSchema:
        # The demo data has no webhook subscriptions: one for each token's organisation.
        for token in self.tokens:
            Client(self.url, token).ok(
                f'mutation {{ createWebhookSubscription(input: {{url: "{URLS[0]}"}}) {{ subscription {{ id }} }} }}'
            )
        self.samples.load(self.client)
        headers = {"Authorization": f"Bearer {self.tokens[0]}"}
        schema = schemathesis.graphql.from_url(self.url, headers=headers, timeout=30)
        type_info_schema = schema.client_schema
        # Dates: plausible ones mostly, any date sometimes.
        dates = st.one_of(st.dates(), *[st.dates(min_value=_date(2000), max_value=_date(2035))] * 4)
        schemathesis.graphql.scalar("Date", dates.map(str).map(nodes.String))

        @schema.hook
        def flatmap_body(context: Any, body: graphql.DocumentNode) -> st.SearchStrategy:
            def rewrite(rnd: random.Random) -> graphql.DocumentNode:
                type_info = graphql.TypeInfo(type_info_schema)
                rewriter = Rewriter(type_info, self.samples, rnd)
                return graphql.visit(body, graphql.TypeInfoVisitor(type_info, rewriter))

            return st.randoms(use_true_random=True).map(rewrite)

        return schema

    def check(self, case: Any) -> None:
        """Sends one case and records what came back."""
        if time.monotonic() > self.deadline:
            return
        label = case.operation.label
        token = self.tokens[0] if len(self.tokens) == 1 or random.random() < 0.7 else random.choice(self.tokens[1:])
        self.requests += 1
        try:
            response = case.call(session=self.session, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        except requests.RequestException as error:
            self.fail(label, 0, f"no answer: {type(error).__name__}", case.body, str(error))
            return
        status, text = response.status_code, response.text
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if status >= 500 or not isinstance(answer, dict):
            self.fail(label, status, f"status {status}" if status >= 500 else "not JSON", case.body, text)
            self.outcomes[label][f"HTTP {status}"] += 1
            return
        errors = answer.get("errors") or []
        codes = sorted({(e.get("extensions") or {}).get("code", "NO_CODE") for e in errors if isinstance(e, dict)})
        for error in errors:
            if isinstance(error, dict) and (error.get("extensions") or {}).get("code") == "INTERNAL":
                self.fail(label, status, f"INTERNAL: {error.get('message')}", case.body, text)
        for error in errors[:1] if self.verbose else []:
            self.messages[label][str(error.get("message"))[:100]] += 1
        outcome = ",".join(codes) if codes else "ok"
        if status != 200:
            outcome = f"HTTP {status} {outcome}"
        self.outcomes[label][outcome] += 1
        self.samples.learn(answer.get("data"))
        if label.startswith("Mutation.") and (not errors or "CONFLICT" in codes):
            self.samples.refresh_versions(self.client, case.body)

    def fail(self, label: str, status: int, what: str, body: str, text: str) -> None:
        self.failure_count += 1
        self.failures.setdefault((label, what), (label, status, body, text[:2000]))

    def run(self, seconds: float) -> int:
        schema = self.setup()
        operations = [result.ok() for result in schema.get_all_operations()]
        started = time.monotonic()
        self.deadline = started + seconds
        config = settings(
            max_examples=15,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        # One test per operation, built once; each round runs every test once, in a new order.
        tests = []
        for operation in operations:
            examples = 12 if operation.label.startswith("Mutation.") else 6
            tests.append(settings(config, max_examples=examples)(given(operation.as_strategy())(self.check)))
        rounds = 0
        while time.monotonic() < self.deadline:
            rounds += 1
            random.shuffle(tests)
            for test in tests:
                if time.monotonic() > self.deadline:
                    break
                test()
        elapsed = time.monotonic() - started
        return self.report(operations, elapsed, rounds)

    def report(self, operations: list, elapsed: float, rounds: int) -> int:
        mutations = [o for o in operations if o.label.startswith("Mutation.")]
        exercised = [o for o in operations if self.outcomes.get(o.label)]
        print(f"{'operation':38} {'sent':>6}  outcomes (ok = no error; otherwise the error codes)")
        for operation in sorted(operations, key=lambda o: o.label):
            counts = self.outcomes.get(operation.label, collections.Counter())
            shown = ", ".join(f"{k} {v}" for k, v in counts.most_common(6))
            print(f"{operation.label:38} {sum(counts.values()):6}  {shown}")
            for message, count in self.messages[operation.label].most_common(5):
                print(f"{'':46}{count:4} {message}")
        not_ok = [o.label for o in mutations if not self.outcomes[o.label].get("ok")]
        print(f"mutations that never succeeded: {', '.join(not_ok) or 'none'}")
        print(
            f"fuzz: {self.requests} operations in {elapsed:.1f} s ({self.requests / elapsed:.0f}/s, {rounds} rounds); "
            f"{len(exercised)} of {len(operations)} operations exercised, "
            f"{sum(1 for o in mutations if self.outcomes.get(o.label))} of {len(mutations)} mutations"
        )
        for label, status, body, text in self.failures.values():
            print(f"\nFAILED {label}: HTTP {status}\n--- query\n{body}\n--- answer\n{text}")
        print(f"fuzz: {self.failure_count} failures (5xx, INTERNAL or no answer), {len(self.failures)} distinct")
        return 1 if self.failure_count else 0


def _date(year: int) -> Any:
    import datetime

    return datetime.date(year, 1, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the GraphQL endpoint")
    parser.add_argument("--token-file", action="append", required=True, help="a bearer token; the first is used most")
    parser.add_argument("--seconds", type=float, default=60, help="how long to fuzz (default 60)")
    parser.add_argument("--seed", type=int, help="seed the choice of tokens and the order of operations")
    parser.add_argument("--verbose", action="store_true", help="also print the commonest error messages")
    args = parser.parse_args()
    if args.seed is not None:
        random.seed(args.seed)
    return Fuzz(args).run(args.seconds)


if __name__ == "__main__":
    sys.exit(main())
