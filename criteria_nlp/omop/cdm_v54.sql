-- The OMOP CDM v5.4 tables that match reads (condition_occurrence and concept_synonym: for diagnoses) (columns and types as in OHDSI's DDL; value columns
-- DOUBLE PRECISION). Used to build test and demo CDMs in DuckDB or PostgreSQL.
CREATE TABLE concept (
  concept_id INTEGER NOT NULL, concept_name VARCHAR(255) NOT NULL, domain_id VARCHAR(20) NOT NULL,
  vocabulary_id VARCHAR(20) NOT NULL, concept_class_id VARCHAR(20) NOT NULL,
  standard_concept VARCHAR(1) NULL, concept_code VARCHAR(50) NOT NULL,
  valid_start_date DATE NOT NULL, valid_end_date DATE NOT NULL, invalid_reason VARCHAR(1) NULL);
CREATE TABLE concept_synonym (
  concept_id INTEGER NOT NULL, concept_synonym_name VARCHAR(1000) NOT NULL, language_concept_id INTEGER NOT NULL);
CREATE TABLE concept_ancestor (
  ancestor_concept_id INTEGER NOT NULL, descendant_concept_id INTEGER NOT NULL,
  min_levels_of_separation INTEGER NOT NULL, max_levels_of_separation INTEGER NOT NULL);
CREATE TABLE person (
  person_id INTEGER NOT NULL, gender_concept_id INTEGER NOT NULL, year_of_birth INTEGER NOT NULL,
  month_of_birth INTEGER NULL, day_of_birth INTEGER NULL, birth_datetime TIMESTAMP NULL,
  race_concept_id INTEGER NOT NULL, ethnicity_concept_id INTEGER NOT NULL,
  location_id INTEGER NULL, provider_id INTEGER NULL, care_site_id INTEGER NULL,
  person_source_value VARCHAR(50) NULL, gender_source_value VARCHAR(50) NULL,
  gender_source_concept_id INTEGER NULL, race_source_value VARCHAR(50) NULL,
  race_source_concept_id INTEGER NULL, ethnicity_source_value VARCHAR(50) NULL,
  ethnicity_source_concept_id INTEGER NULL);
CREATE TABLE observation_period (
  observation_period_id INTEGER NOT NULL, person_id INTEGER NOT NULL,
  observation_period_start_date DATE NOT NULL, observation_period_end_date DATE NOT NULL,
  period_type_concept_id INTEGER NOT NULL);
CREATE TABLE measurement (
  measurement_id INTEGER NOT NULL, person_id INTEGER NOT NULL, measurement_concept_id INTEGER NOT NULL,
  measurement_date DATE NOT NULL, measurement_datetime TIMESTAMP NULL, measurement_time VARCHAR(10) NULL,
  measurement_type_concept_id INTEGER NOT NULL, operator_concept_id INTEGER NULL,
  value_as_number DOUBLE PRECISION NULL, value_as_concept_id INTEGER NULL, unit_concept_id INTEGER NULL,
  range_low DOUBLE PRECISION NULL, range_high DOUBLE PRECISION NULL, provider_id INTEGER NULL,
  visit_occurrence_id INTEGER NULL, visit_detail_id INTEGER NULL,
  measurement_source_value VARCHAR(50) NULL, measurement_source_concept_id INTEGER NULL,
  unit_source_value VARCHAR(50) NULL, unit_source_concept_id INTEGER NULL,
  value_source_value VARCHAR(50) NULL, measurement_event_id BIGINT NULL,
  meas_event_field_concept_id INTEGER NULL);
CREATE TABLE condition_occurrence (
  condition_occurrence_id INTEGER NOT NULL, person_id INTEGER NOT NULL, condition_concept_id INTEGER NOT NULL,
  condition_start_date DATE NOT NULL, condition_start_datetime TIMESTAMP NULL, condition_end_date DATE NULL,
  condition_end_datetime TIMESTAMP NULL, condition_type_concept_id INTEGER NOT NULL,
  condition_status_concept_id INTEGER NULL, stop_reason VARCHAR(20) NULL, provider_id INTEGER NULL,
  visit_occurrence_id INTEGER NULL, visit_detail_id INTEGER NULL, condition_source_value VARCHAR(50) NULL,
  condition_source_concept_id INTEGER NULL, condition_status_source_value VARCHAR(50) NULL);
