-- The change feed of the bench data set, on PostgreSQL (database `bench`).
--
-- Run by bench/generate.sh after bench/sql/generate_pg.sql, when the feed
-- has fewer than 1,000,000 events (a data set generated before the feed
-- was benchmarked gets it added without a --regenerate):
--   psql -v ON_ERROR_STOP=1 -d bench -f bench/sql/generate_feed_pg.sql
--
-- The events the bulk rows would have recorded had they been written
-- through the API, in the order of their timestamps:
--   * Community CREATED (100,000; CDD, which registered them) and Community
--     UPDATED `tierAssessedAt tierAssessedBy tourismTier` for each assessed
--     community (about 85,000; CDD);
--   * Enrolment CREATED for each bench enrolment (1,000,000; the nominating
--     organisation, at its nomination) and Enrolment UPDATED `history status`
--     for each later status move (about 1.6 million; the organisation that
--     made the move, at its time): the feed replays enrolment_transitions;
--   * Programme CREATED for the 9 bench programmes (FOUNDATION);
--   * MOU UPDATED events of the demo data's unsigned MOUs (MOU-TOURISM-2020,
--     NEGOTIATING, and MOU-ENERGY, DRAFT; parties FOUNDATION and CDD, not GSB
--     nor VILLAGE_FUND): one every ~500 events over the whole period, by
--     FOUNDATION (drafting rounds), so that a partner that is not a party
--     (GSB in W5) has about 0.2% of the feed filtered out by MOU visibility.
-- Positions (change_events.id) follow the events already in the feed (the
-- demo data's), in timestamp order. The sequencer's pass lock is held, so a
-- service running meanwhile cannot number inbox events in between.
--
-- Deterministic (hashes of ids, no random()), in one transaction.

\set ON_ERROR_STOP on
\timing on

SET session_replication_role = replica;
SET client_min_messages = warning;
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';

BEGIN;

-- The lock a sequencing pass takes (api/src/feed/sequencer.rs, PASS_LOCK).
SELECT pg_advisory_xact_lock(x'50465351'::int, hashtext(current_schema()));

CREATE SCHEMA IF NOT EXISTS bench_meta;
CREATE TABLE IF NOT EXISTS bench_meta.feed (
    generator text PRIMARY KEY,
    first_id bigint NOT NULL,
    last_id bigint NOT NULL,
    events bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

CREATE TEMP TABLE orgs AS SELECT id, code FROM organizations;

CREATE TEMP TABLE feed (
    at timestamptz NOT NULL,
    operation text NOT NULL,
    entity_type text NOT NULL,
    entity_id bigint NOT NULL,
    actor_org_id bigint NOT NULL,
    changed_fields text NOT NULL,
    tie int NOT NULL
);

-- Communities: registered, then (most) assessed.
INSERT INTO feed
SELECT c.created_at, 'CREATED', 'Community', c.id, c.created_by, '*', 0
FROM communities c WHERE c.code LIKE 'BENCH-%';
INSERT INTO feed
SELECT c.tier_assessed_at, 'UPDATED', 'Community', c.id, c.tier_assessed_by,
       'tierAssessedAt tierAssessedBy tourismTier', 1
FROM communities c WHERE c.code LIKE 'BENCH-%' AND c.tier_assessed_at IS NOT NULL;

-- Programmes.
INSERT INTO feed
SELECT p.created_at, 'CREATED', 'Programme', p.id, p.lead_id, '*', 0
FROM programmes p WHERE p.code LIKE 'BENCH-P%';

-- Enrolments: the nomination creates, each later move updates.
INSERT INTO feed
SELECT t.at, CASE WHEN t.from_status IS NULL THEN 'CREATED' ELSE 'UPDATED' END, 'Enrolment', t.enrolment_id, t.by_org,
       CASE WHEN t.from_status IS NULL THEN '*' ELSE 'history status' END,
       CASE WHEN t.from_status IS NULL THEN 2 ELSE 3 END
FROM enrolment_transitions t
JOIN enrolments e ON e.id = t.enrolment_id
JOIN programmes p ON p.id = e.programme_id AND p.code LIKE 'BENCH-P%';

-- The unsigned MOUs' drafting rounds, spread evenly over the period.
INSERT INTO feed
SELECT lo + (hi - lo) * (g::float8 / n), 'UPDATED', 'Mou', m.ids[1 + g % cardinality(m.ids)],
       (SELECT id FROM orgs WHERE code = 'FOUNDATION'),
       (ARRAY['purpose', 'titleEn titleTh', 'endsOn startsOn', 'purpose titleEn'])[1 + (g / 2) % 4], 4
FROM (SELECT min(at) AS lo, max(at) AS hi, count(*) / 500 AS n FROM feed) AS r
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM mous WHERE status IN ('DRAFT', 'NEGOTIATING')) AS m
CROSS JOIN LATERAL generate_series(1, r.n::int) AS g
WHERE cardinality(m.ids) > 0;

CREATE TEMP TABLE base AS SELECT coalesce(max(id), 0) AS last FROM change_events;

INSERT INTO change_events (id, at, operation, entity_type, entity_id, actor_org_id, subject, changed_fields)
SELECT base.last + row_number() OVER (ORDER BY f.at, f.tie, f.entity_id),
       f.at, f.operation, f.entity_type, f.entity_id, f.actor_org_id,
       lower(o.code) || '-officer-' || (1 + abs(hashint8(f.entity_id)) % 40),
       f.changed_fields
FROM feed f JOIN orgs o ON o.id = f.actor_org_id CROSS JOIN base;

INSERT INTO bench_meta.feed (generator, first_id, last_id, events)
SELECT 'feed-v1', base.last + 1, (SELECT max(id) FROM change_events), (SELECT count(*) FROM feed)
FROM base;

COMMIT;

RESET session_replication_role;
VACUUM ANALYZE change_events;
