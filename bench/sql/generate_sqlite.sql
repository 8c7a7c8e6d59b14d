-- Bulk data set for the benchmarks, on SQLite (bench/out/bench.db).
--
-- Run by bench/generate.sh after the service's migrations and demo data:
--   sqlite3 -bail bench/out/bench.db < bench/sql/generate_sqlite.sql
--
-- The same shape and sizes as generate_pg.sql (see there), built with
-- recursive CTEs. SQLite has no hash function, so the pseudo-random choices
-- use a multiplicative hash: the tiers and statuses follow the same
-- distribution as on PostgreSQL, but not the same rows. Timestamps are
-- stored as the service stores them on SQLite (RFC 3339 text, UTC).

PRAGMA foreign_keys = OFF;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;

BEGIN;

CREATE TABLE IF NOT EXISTS bench_generated (
    generator TEXT PRIMARY KEY,
    communities INTEGER NOT NULL,
    enrolments INTEGER NOT NULL,
    at TEXT NOT NULL
);

-- h(x): a 16-bit pseudo-random value of x (Knuth's multiplicative hash, high bits).
-- Written inline as ((x * 2654435761) % 4294967296) >> 16.

-- Programmes -----------------------------------------------------------------
WITH RECURSIVE n(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM n WHERE n < 9)
INSERT INTO programmes (code, name_th, name_en, theme, status, mou_id, lead_id, target_tiers, capacity,
                        starts_on, ends_on, version, created_at, updated_at)
SELECT 'BENCH-P' || n,
       'โครงการทดสอบประสิทธิภาพ ' || n,
       'Benchmark programme ' || n,
       CASE (n - 1) % 4 WHEN 0 THEN 'COMMUNITY_TOURISM' WHEN 1 THEN 'COMMUNITY_FINANCE'
                        WHEN 2 THEN 'MODEL_VILLAGE' ELSE 'COMMUNITY_ENERGY' END,
       'OPEN',
       CASE WHEN n <= 4 THEN (SELECT id FROM mous WHERE code = 'MOU-TOURISM-2020')
            WHEN n <= 6 THEN (SELECT id FROM mous WHERE code = 'MOU-ENERGY') END,
       (SELECT id FROM organizations WHERE code = 'FOUNDATION'),
       '', NULL, '2021-01-01', '2027-12-31', 1,
       '2020-12-01T02:00:00+00:00', '2020-12-01T02:00:00+00:00'
FROM n;

INSERT INTO programme_partners (programme_id, organization_id)
SELECT p.id, o.id
FROM programmes p
JOIN organizations o ON o.code = 'CDD' OR (o.code = 'GSB' AND p.code IN ('BENCH-P7', 'BENCH-P8'))
WHERE p.code LIKE 'BENCH-P%';

-- Communities ----------------------------------------------------------------
CREATE TEMP TABLE prov AS
SELECT code, (row_number() OVER (ORDER BY code) - 1) AS rn FROM provinces;

CREATE TEMP TABLE names (i INTEGER PRIMARY KEY, th TEXT, en TEXT);
INSERT INTO names VALUES
  (0, 'หนองบัว', 'Nong Bua'), (1, 'ดอนแก้ว', 'Don Kaeo'), (2, 'ห้วยทราย', 'Huai Sai'), (3, 'โนนสูง', 'Non Sung'),
  (4, 'ป่าตึง', 'Pa Tueng'), (5, 'แม่กำปอง', 'Mae Kampong'), (6, 'ท่าช้าง', 'Tha Chang'), (7, 'นาต้นจั่น', 'Na Ton Chan'),
  (8, 'คลองโคน', 'Khlong Khon'), (9, 'โคกสะอาด', 'Khok Sa-at'), (10, 'หัวนา', 'Hua Na'), (11, 'ท่าสว่าง', 'Tha Sawang');

WITH RECURSIVE g(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM g WHERE g < 100000),
h AS (
  SELECT g,
         ((g * 2654435761) % 4294967296) >> 16 AS h1,
         (((g + 1000003) * 2654435761) % 4294967296) >> 16 AS h2,
         (((g + 2000003) * 2654435761) % 4294967296) >> 16 AS h3,
         unixepoch('2019-01-01T01:00:00') + g * 900 AS created
  FROM g
),
t AS (
  SELECT h.*,
         CASE WHEN h3 % 100 < 10 THEN 'A' WHEN h3 % 100 < 35 THEN 'B'
              WHEN h3 % 100 < 65 THEN 'C' WHEN h3 % 100 < 85 THEN 'D' END AS tier
  FROM h
)
INSERT INTO communities (code, name_th, name_en, province_code, district, subdistrict, village_no, households,
                         description, tourism_tier, tier_assessed_by, tier_assessed_at, contact_name,
                         contact_phone, contact_email, created_by, version, created_at, updated_at)
SELECT printf('BENCH-%06d', t.g),
       'บ้าน' || nm.th || ' หมู่ ' || (1 + h2 % 15) || ' (' || t.g || ')',
       'Ban ' || nm.en || ' ' || t.g,
       p.code,
       'อำเภอ ' || (1 + h2 % 20),
       'ตำบล ' || (1 + h3 % 12),
       1 + h2 % 15,
       40 + h3 % 460,
       CASE WHEN h1 % 10 = 0 THEN 'ชุมชนทดสอบสำหรับการวัดประสิทธิภาพ' END,
       tier,
       CASE WHEN tier IS NOT NULL THEN (SELECT id FROM organizations WHERE code = 'CDD') END,
       CASE WHEN tier IS NOT NULL THEN strftime('%Y-%m-%dT%H:%M:%S+00:00', created + 30 * 86400, 'unixepoch') END,
       -- Every third community has its village head's contact (personal data).
       CASE WHEN t.g % 3 = 0 THEN 'ผู้ใหญ่บ้าน ' || t.g END,
       CASE WHEN t.g % 3 = 0 THEN printf('08%08d', t.g) END,
       CASE WHEN t.g % 3 = 0 THEN 'head' || t.g || '@example.org' END,
       (SELECT id FROM organizations WHERE code = 'CDD'),
       1,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', created, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', created + (h3 % 400) * 86400, 'unixepoch')
FROM t
JOIN prov p ON p.rn = t.g % 77
JOIN names nm ON nm.i = t.h1 % 12
ORDER BY t.g;

-- Enrolments -----------------------------------------------------------------
CREATE TEMP TABLE bprog AS
SELECT id, CAST(substr(code, 8) AS INTEGER) - 1 AS slot FROM programmes WHERE code LIKE 'BENCH-P%';

CREATE TEMP TABLE bcomm AS
SELECT id, CAST(substr(code, 7) AS INTEGER) AS g, unixepoch(created_at) AS created
FROM communities WHERE code LIKE 'BENCH-%';

CREATE TEMP TABLE paths (status TEXT PRIMARY KEY, steps INTEGER NOT NULL, s1 TEXT, s2 TEXT, s3 TEXT, s4 TEXT);
INSERT INTO paths VALUES
  ('NOMINATED',   1, 'NOMINATED', NULL, NULL, NULL),
  ('ENROLLED',    2, 'NOMINATED', 'ENROLLED', NULL, NULL),
  ('IN_PROGRESS', 3, 'NOMINATED', 'ENROLLED', 'IN_PROGRESS', NULL),
  ('COMPLETED',   4, 'NOMINATED', 'ENROLLED', 'IN_PROGRESS', 'COMPLETED'),
  ('WITHDRAWN',   3, 'NOMINATED', 'ENROLLED', 'WITHDRAWN', NULL),
  ('DECLINED',    2, 'NOMINATED', 'DECLINED', NULL, NULL);

WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < 9),
plan AS (
  SELECT c.id AS community_id, c.g, k.k, c.created,
         ((c.g * 16 + k.k) * 2654435761 % 4294967296) >> 16 AS h
  FROM bcomm c CROSS JOIN k
),
st AS (
  SELECT plan.*,
         CASE WHEN k = 0 THEN (CASE WHEN h % 2 = 0 THEN 'WITHDRAWN' ELSE 'DECLINED' END)
              WHEN h % 100 < 22 THEN 'NOMINATED'
              WHEN h % 100 < 40 THEN 'ENROLLED'
              WHEN h % 100 < 62 THEN 'IN_PROGRESS'
              WHEN h % 100 < 90 THEN 'COMPLETED'
              WHEN h % 100 < 96 THEN 'WITHDRAWN'
              ELSE 'DECLINED' END AS status,
         created + 60 * 86400 + k * 20 * 86400 + (h % 1440) * 60 AS nominated
  FROM plan
)
INSERT INTO enrolments (community_id, programme_id, curriculum_id, status, nominated_by, nominated_at,
                        version, created_at, updated_at)
SELECT st.community_id, bp.id, NULL, st.status,
       CASE WHEN (st.h / 7) % 3 = 0 THEN (SELECT id FROM organizations WHERE code = 'CDD')
            ELSE (SELECT id FROM organizations WHERE code = 'FOUNDATION') END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', st.nominated, 'unixepoch'),
       pa.steps,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', st.nominated, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', st.nominated + (pa.steps - 1) * 14 * 86400, 'unixepoch')
FROM st
JOIN bprog bp ON bp.slot = (st.g + max(st.k, 1)) % 9
JOIN paths pa ON pa.status = st.status
ORDER BY st.g, st.k;

WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 4)
INSERT INTO enrolment_transitions (enrolment_id, from_status, to_status, at, by_org, note)
SELECT e.id,
       CASE s.n WHEN 2 THEN pa.s1 WHEN 3 THEN pa.s2 WHEN 4 THEN pa.s3 END,
       CASE s.n WHEN 1 THEN pa.s1 WHEN 2 THEN pa.s2 WHEN 3 THEN pa.s3 ELSE pa.s4 END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', unixepoch(e.nominated_at) + (s.n - 1) * 14 * 86400, 'unixepoch'),
       CASE WHEN (CASE s.n WHEN 1 THEN pa.s1 WHEN 2 THEN pa.s2 WHEN 3 THEN pa.s3 ELSE pa.s4 END)
                 IN ('NOMINATED', 'WITHDRAWN') THEN e.nominated_by ELSE p.lead_id END,
       NULL
FROM enrolments e
JOIN bcomm c ON c.id = e.community_id
JOIN programmes p ON p.id = e.programme_id
JOIN paths pa ON pa.status = e.status
JOIN s ON s.n <= pa.steps
ORDER BY e.id, s.n;

INSERT INTO bench_generated (generator, communities, enrolments, at)
VALUES ('v1', (SELECT count(*) FROM bcomm),
        (SELECT count(*) FROM enrolments e JOIN bcomm c ON c.id = e.community_id),
        strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));

COMMIT;

ANALYZE;
