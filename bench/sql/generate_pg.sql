-- Bulk data set for the benchmarks, on PostgreSQL (database `bench`).
--
-- Run by bench/generate.sh after the service's migrations and demo data:
--   psql -v ON_ERROR_STOP=1 -d bench -f bench/sql/generate_pg.sql
--
-- Set-based (generate_series), deterministic (hashes of the row number, no
-- random()), in one transaction. Adds:
--   * 9 bench programmes BENCH-P1..BENCH-P9: OPEN, no capacity, any tier,
--     led by FOUNDATION with CDD as partner (and GSB on P7, P8, which have
--     no MOU, so every partner is a party of its programme's MOU); P1-P4 under
--     MOU-TOURISM-2020, P5-P6 under MOU-ENERGY, P7-P9 under no MOU;
--   * 100,000 communities BENCH-000001..BENCH-100000 in the 77 provinces,
--     tiers A 10% / B 25% / C 30% / D 20% / unclassified 15%;
--   * 1,000,000 enrolments, 10 per community: one in each of the 9 bench
--     programmes (NOMINATED 22%, ENROLLED 18%, IN_PROGRESS 22%, COMPLETED
--     28%, WITHDRAWN 6%, DECLINED 4%) plus an older WITHDRAWN or DECLINED one
--     in the programme of its first, so at most one live enrolment per
--     (community, programme) holds (the partial unique index checks it);
--   * each enrolment's full status history (enrolment_transitions, about
--     2.5 M rows), its version being the number of moves.
-- The bulk rows' change events are added by bench/sql/generate_feed_pg.sql.
--
-- Foreign-key triggers are skipped for this session
-- (session_replication_role = replica): the rows are consistent by
-- construction and bench/generate.sh checks the counts afterwards.

\set ON_ERROR_STOP on
\timing on

SET session_replication_role = replica;
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';

BEGIN;

CREATE SCHEMA IF NOT EXISTS bench_meta;
CREATE TABLE IF NOT EXISTS bench_meta.generated (
    generator text PRIMARY KEY,
    communities bigint NOT NULL,
    enrolments bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

-- Programmes -----------------------------------------------------------------
INSERT INTO programmes (code, name_th, name_en, theme, status, mou_id, lead_id, target_tiers, capacity,
                        starts_on, ends_on, version, created_at, updated_at)
SELECT 'BENCH-P' || n,
       'โครงการทดสอบประสิทธิภาพ ' || n,
       'Benchmark programme ' || n,
       (ARRAY['COMMUNITY_TOURISM', 'COMMUNITY_FINANCE', 'MODEL_VILLAGE', 'COMMUNITY_ENERGY'])[1 + (n - 1) % 4],
       'OPEN',
       CASE WHEN n <= 4 THEN (SELECT id FROM mous WHERE code = 'MOU-TOURISM-2020')
            WHEN n <= 6 THEN (SELECT id FROM mous WHERE code = 'MOU-ENERGY') END,
       (SELECT id FROM organizations WHERE code = 'FOUNDATION'),
       '', NULL, DATE '2021-01-01', DATE '2027-12-31', 1,
       TIMESTAMPTZ '2020-12-01 09:00:00+07', TIMESTAMPTZ '2020-12-01 09:00:00+07'
FROM generate_series(1, 9) AS n;

INSERT INTO programme_partners (programme_id, organization_id)
SELECT p.id, o.id
FROM programmes p
JOIN organizations o ON o.code = 'CDD' OR (o.code = 'GSB' AND p.code IN ('BENCH-P7', 'BENCH-P8'))
WHERE p.code LIKE 'BENCH-P%';

-- Communities ----------------------------------------------------------------
CREATE TEMP TABLE prov AS
SELECT code, (row_number() OVER (ORDER BY code) - 1)::int AS rn FROM provinces;
ANALYZE prov;

INSERT INTO communities (code, name_th, name_en, province_code, district, subdistrict, village_no, households,
                         description, tourism_tier, tier_assessed_by, tier_assessed_at, contact_name,
                         contact_phone, contact_email, created_by, version, created_at, updated_at)
SELECT format('BENCH-%s', lpad(g::text, 6, '0')),
       'บ้าน' || (ARRAY['หนองบัว', 'ดอนแก้ว', 'ห้วยทราย', 'โนนสูง', 'ป่าตึง', 'แม่กำปอง', 'ท่าช้าง', 'นาต้นจั่น',
                        'คลองโคน', 'โคกสะอาด', 'หัวนา', 'ท่าสว่าง'])[1 + abs(h1) % 12]
           || ' หมู่ ' || (1 + abs(h2) % 15) || ' (' || g || ')',
       'Ban ' || (ARRAY['Nong Bua', 'Don Kaeo', 'Huai Sai', 'Non Sung', 'Pa Tueng', 'Mae Kampong', 'Tha Chang',
                        'Na Ton Chan', 'Khlong Khon', 'Khok Sa-at', 'Hua Na', 'Tha Sawang'])[1 + abs(h1) % 12]
           || ' ' || g,
       p.code,
       'อำเภอ ' || (1 + abs(h2) % 20),
       'ตำบล ' || (1 + abs(h3) % 12),
       1 + abs(h2) % 15,
       40 + abs(h3) % 460,
       CASE WHEN abs(h1) % 10 = 0 THEN 'ชุมชนทดสอบสำหรับการวัดประสิทธิภาพ' END,
       t.tier,
       CASE WHEN t.tier IS NOT NULL THEN cdd.id END,
       CASE WHEN t.tier IS NOT NULL THEN created + interval '30 days' END,
       -- Every third community has its village head's contact (personal data).
       CASE WHEN g % 3 = 0 THEN 'ผู้ใหญ่บ้าน ' || g END,
       CASE WHEN g % 3 = 0 THEN '08' || lpad(g::text, 8, '0') END,
       CASE WHEN g % 3 = 0 THEN 'head' || g || '@example.org' END,
       cdd.id,
       1,
       created,
       created + (abs(h3) % 400) * interval '1 day'
FROM generate_series(1, 100000) AS g
CROSS JOIN LATERAL (SELECT hashint8(g) AS h1, hashint8(g + 1000003) AS h2, hashint8(g + 2000003) AS h3) AS h
CROSS JOIN LATERAL (SELECT TIMESTAMPTZ '2019-01-01 08:00:00+07' + g * interval '15 minutes' AS created) AS c
CROSS JOIN LATERAL (SELECT CASE WHEN abs(h3) % 100 < 10 THEN 'A'
                                WHEN abs(h3) % 100 < 35 THEN 'B'
                                WHEN abs(h3) % 100 < 65 THEN 'C'
                                WHEN abs(h3) % 100 < 85 THEN 'D' END AS tier) AS t
JOIN prov p ON p.rn = g % 77
CROSS JOIN (SELECT id FROM organizations WHERE code = 'CDD') AS cdd
ORDER BY g;

-- Enrolments -----------------------------------------------------------------
-- Row (g, k): community g; k = 0 is the older ended enrolment, k = 1..9 one
-- per bench programme. Programme of k: BENCH-P(1 + (g + k) % 9); k = 0 uses
-- the programme of k = 1.
CREATE TEMP TABLE bprog AS
SELECT id, (substr(code, 8)::int - 1) AS slot FROM programmes WHERE code LIKE 'BENCH-P%';

CREATE TEMP TABLE bcomm AS
SELECT id, substr(code, 7)::int AS g, created_at FROM communities WHERE code LIKE 'BENCH-%';
ANALYZE bprog;
ANALYZE bcomm;

-- Enrolments above this id are the bulk ones.
CREATE TEMP TABLE mark AS SELECT coalesce(max(id), 0) AS enrolment_id FROM enrolments;

CREATE TEMP TABLE plan AS
SELECT c.id AS community_id,
       bp.id AS programme_id,
       CASE WHEN k = 0 THEN (CASE WHEN abs(h) % 2 = 0 THEN 'WITHDRAWN' ELSE 'DECLINED' END)
            WHEN abs(h) % 100 < 22 THEN 'NOMINATED'
            WHEN abs(h) % 100 < 40 THEN 'ENROLLED'
            WHEN abs(h) % 100 < 62 THEN 'IN_PROGRESS'
            WHEN abs(h) % 100 < 90 THEN 'COMPLETED'
            WHEN abs(h) % 100 < 96 THEN 'WITHDRAWN'
            ELSE 'DECLINED' END AS status,
       CASE WHEN abs(h / 7) % 3 = 0 THEN cdd ELSE fnd END AS nominated_by,
       c.created_at + interval '60 days' + k * interval '20 days' + (abs(h) % 1440) * interval '1 minute'
           AS nominated_at,
       abs(h) AS h,
       c.g, k
FROM bcomm c
CROSS JOIN generate_series(0, 9) AS k
CROSS JOIN LATERAL (SELECT hashint8(c.g * 16 + k) AS h) AS hh
JOIN bprog bp ON bp.slot = (c.g + greatest(k, 1)) % 9
CROSS JOIN (SELECT (SELECT id FROM organizations WHERE code = 'CDD') AS cdd,
                   (SELECT id FROM organizations WHERE code = 'FOUNDATION') AS fnd) AS o;

-- The moves each status went through, in order.
CREATE TEMP TABLE paths (status text PRIMARY KEY, steps text[] NOT NULL);
INSERT INTO paths VALUES
    ('NOMINATED',   ARRAY['NOMINATED']),
    ('ENROLLED',    ARRAY['NOMINATED', 'ENROLLED']),
    ('IN_PROGRESS', ARRAY['NOMINATED', 'ENROLLED', 'IN_PROGRESS']),
    ('COMPLETED',   ARRAY['NOMINATED', 'ENROLLED', 'IN_PROGRESS', 'COMPLETED']),
    ('WITHDRAWN',   ARRAY['NOMINATED', 'ENROLLED', 'WITHDRAWN']),
    ('DECLINED',    ARRAY['NOMINATED', 'DECLINED']);
ANALYZE paths;

INSERT INTO enrolments (community_id, programme_id, curriculum_id, status, nominated_by, nominated_at,
                        version, created_at, updated_at)
SELECT pl.community_id, pl.programme_id, NULL, pl.status, pl.nominated_by, pl.nominated_at,
       cardinality(pa.steps),
       pl.nominated_at,
       pl.nominated_at + (cardinality(pa.steps) - 1) * interval '14 days'
FROM plan pl JOIN paths pa USING (status)
ORDER BY pl.g, pl.k;

ANALYZE enrolments;

-- History: one transition per step. The nomination is by the nominator;
-- acceptance, declining and progress by the lead; withdrawal by the nominator.
INSERT INTO enrolment_transitions (enrolment_id, from_status, to_status, at, by_org, note)
SELECT e.id,
       CASE WHEN s.n > 1 THEN pa.steps[s.n - 1] END,
       pa.steps[s.n],
       e.nominated_at + (s.n - 1) * interval '14 days',
       CASE WHEN pa.steps[s.n] IN ('NOMINATED', 'WITHDRAWN') THEN e.nominated_by ELSE p.lead_id END,
       NULL
FROM enrolments e
JOIN programmes p ON p.id = e.programme_id
JOIN paths pa ON pa.status = e.status
CROSS JOIN LATERAL generate_subscripts(pa.steps, 1) AS s(n)
WHERE e.id > (SELECT enrolment_id FROM mark)
ORDER BY e.id, s.n;

INSERT INTO bench_meta.generated (generator, communities, enrolments)
VALUES ('v1', (SELECT count(*) FROM bcomm),
        (SELECT count(*) FROM enrolments WHERE id > (SELECT enrolment_id FROM mark)));

COMMIT;

RESET session_replication_role;
VACUUM ANALYZE;
