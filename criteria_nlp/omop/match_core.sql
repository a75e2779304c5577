-- The fixed part of the match query (DuckDB dialect; transpiled with sqlglot). query.py puts
-- four CTEs in front of it -- rule_spec (one row per executable rule), unit_factor (one row per
-- rule and convertible UCUM unit), cond_spec (one row per population/exception condition the data
-- can resolve) and index_person (person_id, index_date) -- and a SELECT after it that pivots
-- `evaluated` and `membership` to one row per person and applies each criterion's logic.
WITH rule_concept AS (
  SELECT rs.rule_key, c.concept_id
  FROM rule_spec AS rs
  JOIN concept AS c ON c.vocabulary_id = 'LOINC' AND c.concept_code = rs.loinc
  WHERE rs.kind = 'measurement'
  UNION
  SELECT rs.rule_key, rs.concept_id  -- a concept id from the concept map
  FROM rule_spec AS rs
  WHERE rs.kind = 'measurement' AND rs.concept_id IS NOT NULL
), rule_descendant AS (
  SELECT rc.rule_key, ca.descendant_concept_id AS concept_id
  FROM rule_concept AS rc
  JOIN concept_ancestor AS ca ON ca.ancestor_concept_id = rc.concept_id
), rule_measurement_concept AS (
  SELECT rule_key, concept_id FROM rule_concept
  UNION
  SELECT rule_key, concept_id FROM rule_descendant
), in_window AS (
  SELECT ip.person_id, rmc.rule_key, m.measurement_date, m.value_as_number, m.range_low,
         m.range_high, m.unit_concept_id,
         ROW_NUMBER() OVER (PARTITION BY ip.person_id, rmc.rule_key
                            ORDER BY m.measurement_date DESC, m.measurement_datetime DESC,
                                     m.measurement_id DESC) AS recency
  FROM index_person AS ip
  JOIN measurement AS m ON m.person_id = ip.person_id
  JOIN rule_measurement_concept AS rmc ON rmc.concept_id = m.measurement_concept_id
  JOIN rule_spec AS rs ON rs.rule_key = rmc.rule_key
  WHERE m.value_as_number IS NOT NULL
    AND DATE_DIFF('day', ip.index_date, m.measurement_date) BETWEEN rs.win_lo AND rs.win_hi
), measured AS (
  SELECT l.person_id, l.rule_key, l.measurement_date,
         CASE WHEN rs.ratio = 'ULN' THEN l.value_as_number / NULLIF(l.range_high, 0)
              WHEN rs.ratio = 'LLN' THEN l.value_as_number / NULLIF(l.range_low, 0)
              WHEN uf.factor IS NOT NULL THEN l.value_as_number * uf.factor + uf.shift
              WHEN rs.unitless_ok = 1 AND COALESCE(l.unit_concept_id, 0) = 0 THEN l.value_as_number
         END AS value,
         CASE WHEN rs.ratio = 'ULN' AND COALESCE(l.range_high, 0) = 0 THEN 'no_range_high'
              WHEN rs.ratio = 'LLN' AND COALESCE(l.range_low, 0) = 0 THEN 'no_range_low'
              WHEN rs.ratio IS NOT NULL OR uf.factor IS NOT NULL THEN NULL
              WHEN rs.unitless_ok = 1 AND COALESCE(l.unit_concept_id, 0) = 0 THEN NULL
              WHEN COALESCE(l.unit_concept_id, 0) = 0 THEN 'no_unit'
              WHEN u.concept_id IS NULL THEN 'unit_not_ucum'
              ELSE 'unit_not_convertible'
         END AS reason
  FROM in_window AS l
  JOIN rule_spec AS rs ON rs.rule_key = l.rule_key
  LEFT JOIN concept AS u ON u.concept_id = l.unit_concept_id AND u.vocabulary_id = 'UCUM'
  LEFT JOIN unit_factor AS uf ON uf.rule_key = l.rule_key AND uf.ucum = u.concept_code
  WHERE l.recency = 1
), birth AS (
  SELECT ip.person_id, ip.index_date, p.gender_concept_id,
         COALESCE(EXTRACT(YEAR FROM p.birth_datetime), p.year_of_birth) AS birth_y,
         COALESCE(EXTRACT(MONTH FROM p.birth_datetime), p.month_of_birth) AS birth_m,
         COALESCE(EXTRACT(DAY FROM p.birth_datetime), p.day_of_birth) AS birth_d,
         EXTRACT(YEAR FROM ip.index_date) AS index_y, EXTRACT(MONTH FROM ip.index_date) AS index_m,
         EXTRACT(DAY FROM ip.index_date) AS index_d
  FROM index_person AS ip
  JOIN person AS p ON p.person_id = ip.person_id
), age AS (
  -- completed years (or months) at the index date; a missing birth month/day gives the youngest
  -- (latest birthday) and the oldest (earliest birthday) possible age
  SELECT b.person_id, rs.rule_key,
         CASE WHEN rs.age_unit = 'a'
              THEN b.index_y - b.birth_y - CASE WHEN b.index_m * 100 + b.index_d < COALESCE(b.birth_m, 12) * 100 + COALESCE(b.birth_d, 31) THEN 1 ELSE 0 END
              ELSE (b.index_y - b.birth_y) * 12 + b.index_m - COALESCE(b.birth_m, 12) - CASE WHEN b.index_d < COALESCE(b.birth_d, 31) THEN 1 ELSE 0 END
         END AS youngest,
         CASE WHEN rs.age_unit = 'a'
              THEN b.index_y - b.birth_y - CASE WHEN b.index_m * 100 + b.index_d < COALESCE(b.birth_m, 1) * 100 + COALESCE(b.birth_d, 1) THEN 1 ELSE 0 END
              ELSE (b.index_y - b.birth_y) * 12 + b.index_m - COALESCE(b.birth_m, 1) - CASE WHEN b.index_d < COALESCE(b.birth_d, 1) THEN 1 ELSE 0 END
         END AS oldest
  FROM birth AS b
  CROSS JOIN rule_spec AS rs
  WHERE rs.kind = 'age' AND b.birth_y IS NOT NULL
), birth_age AS (
  -- completed years at the index date, youngest and oldest possible (see age)
  SELECT b.person_id, b.gender_concept_id, b.birth_y,
         b.index_y - b.birth_y - CASE WHEN b.index_m * 100 + b.index_d < COALESCE(b.birth_m, 12) * 100 + COALESCE(b.birth_d, 31) THEN 1 ELSE 0 END AS age_young,
         b.index_y - b.birth_y - CASE WHEN b.index_m * 100 + b.index_d < COALESCE(b.birth_m, 1) * 100 + COALESCE(b.birth_d, 1) THEN 1 ELSE 0 END AS age_old
  FROM birth AS b
), cond_concept AS (
  -- the concepts of diagnosis conditions (concept map), with descendants
  SELECT cs.cond_key, c.concept_id
  FROM cond_spec AS cs
  JOIN concept AS c ON c.vocabulary_id = cs.vocabulary_id AND c.concept_code = cs.concept_code
  WHERE cs.kind = 'diagnosis'
  UNION
  SELECT cs.cond_key, cs.concept_id FROM cond_spec AS cs WHERE cs.kind = 'diagnosis' AND cs.concept_id IS NOT NULL
), cond_descendant AS (
  SELECT cc.cond_key, ca.descendant_concept_id AS concept_id
  FROM cond_concept AS cc
  JOIN concept_ancestor AS ca ON ca.ancestor_concept_id = cc.concept_id
), cond_all_concept AS (
  SELECT cond_key, concept_id FROM cond_concept
  UNION
  SELECT cond_key, concept_id FROM cond_descendant
), diagnosed AS (
  -- persons with a diagnosis condition recorded on or before the index date
  SELECT DISTINCT co.person_id, cac.cond_key
  FROM condition_occurrence AS co
  JOIN cond_all_concept AS cac ON cac.concept_id = co.condition_concept_id
  JOIN index_person AS ip ON ip.person_id = co.person_id
  WHERE co.condition_start_date <= ip.index_date
), membership AS (
  -- 1 the person belongs to the condition's group, 0 does not, NULL unknown. Sex: the OMOP
  -- Gender concepts 8507 (male) and 8532 (female); any other value is unknown.
  SELECT ba.person_id, cs.cond_key,
         NULLIF(LEAST(
           CASE WHEN cs.sex IS NULL THEN 1
                WHEN ba.gender_concept_id = cs.sex THEN CASE WHEN cs.sex_partial = 1 THEN 0.5 ELSE 1 END
                WHEN ba.gender_concept_id IN (8507, 8532) THEN 0
                ELSE 0.5 END,
           CASE WHEN cs.age_low IS NULL AND cs.age_high IS NULL THEN 1
                WHEN ba.birth_y IS NULL THEN 0.5
                WHEN (cs.age_low IS NULL OR ba.age_young >= cs.age_low) AND (cs.age_high IS NULL OR ba.age_young < cs.age_high)
                 AND (cs.age_low IS NULL OR ba.age_old >= cs.age_low) AND (cs.age_high IS NULL OR ba.age_old < cs.age_high) THEN 1
                WHEN ((cs.age_low IS NOT NULL AND ba.age_young < cs.age_low) OR (cs.age_high IS NOT NULL AND ba.age_young >= cs.age_high))
                 AND ((cs.age_low IS NOT NULL AND ba.age_old < cs.age_low) OR (cs.age_high IS NOT NULL AND ba.age_old >= cs.age_high)) THEN 0
                ELSE 0.5 END,
           CASE WHEN cs.kind <> 'diagnosis' THEN 1 WHEN dx.person_id IS NOT NULL THEN 1 ELSE 0 END
         ), 0.5) AS member
  FROM birth_age AS ba
  CROSS JOIN cond_spec AS cs
  LEFT JOIN diagnosed AS dx ON dx.person_id = ba.person_id AND dx.cond_key = cs.cond_key
), evaluated AS (
  SELECT ms.person_id, ms.rule_key, ms.measurement_date, ms.value, ms.reason,
         CASE WHEN ms.value IS NULL THEN NULL
              WHEN (rs.lo IS NULL OR (rs.lo_strict = 1 AND ms.value > rs.lo) OR (rs.lo_strict = 0 AND ms.value >= rs.lo))
               AND (rs.hi IS NULL OR (rs.hi_strict = 1 AND ms.value < rs.hi) OR (rs.hi_strict = 0 AND ms.value <= rs.hi))
              THEN 1 ELSE 0 END AS verdict
  FROM measured AS ms
  JOIN rule_spec AS rs ON rs.rule_key = ms.rule_key
  UNION ALL
  SELECT a.person_id, a.rule_key, NULL AS measurement_date,
         CASE WHEN a.youngest = a.oldest THEN a.youngest END AS value,
         CASE WHEN a.youngest <> a.oldest THEN 'birth_date_incomplete' END AS reason,
         CASE WHEN a.young_ok = 1 AND a.old_ok = 1 THEN 1 WHEN a.young_ok = 0 AND a.old_ok = 0 THEN 0 END AS verdict
  FROM (
    SELECT a0.person_id, a0.rule_key, a0.youngest, a0.oldest,
           CASE WHEN (rs.lo IS NULL OR (rs.lo_strict = 1 AND a0.youngest > rs.lo) OR (rs.lo_strict = 0 AND a0.youngest >= rs.lo))
                 AND (rs.hi IS NULL OR (rs.hi_strict = 1 AND a0.youngest < rs.hi) OR (rs.hi_strict = 0 AND a0.youngest <= rs.hi))
                THEN 1 ELSE 0 END AS young_ok,
           CASE WHEN (rs.lo IS NULL OR (rs.lo_strict = 1 AND a0.oldest > rs.lo) OR (rs.lo_strict = 0 AND a0.oldest >= rs.lo))
                 AND (rs.hi IS NULL OR (rs.hi_strict = 1 AND a0.oldest < rs.hi) OR (rs.hi_strict = 0 AND a0.oldest <= rs.hi))
                THEN 1 ELSE 0 END AS old_ok
    FROM age AS a0
    JOIN rule_spec AS rs ON rs.rule_key = a0.rule_key
  ) AS a
)
SELECT 1
