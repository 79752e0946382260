//! The one migration history of both backends. Each migration is written once in portable SQL
//! with a few type placeholders, rendered for the connected backend, and recorded in
//! `schema_migrations`. Applied migrations are never edited; a change is a new migration.
//!
//! Every table that holds people carries `region_code`, the key a distributed PostgreSQL
//! shards on and the column region scope is enforced with.

use crate::{on_tx, Backend, Result, Tx};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    /// Backend-specific statements run after `sql`.
    pub extra: fn(Backend) -> &'static [&'static str],
    /// Tables this migration makes append-only, after `extra`.
    pub append_only: &'static [&'static str],
}

/// PostgreSQL's trigger function behind every append-only table, made by the first migration,
/// and the audit log's guard against TRUNCATE (a statement trigger, which SQLite does not have).
fn audit_log_guards(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &[],
        Backend::Postgres => &[
            "CREATE FUNCTION jiuzhu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
               FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_append_only()",
        ],
    }
}

/// The triggers that refuse UPDATE and DELETE on `table`, written once for both backends.
fn append_only(backend: Backend, table: &str) -> Vec<String> {
    match backend {
        Backend::Sqlite => ["update", "delete"]
            .iter()
            .map(|op| {
                format!(
                    "CREATE TRIGGER {table}_no_{op} BEFORE {} ON {table}
                       BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
                    op.to_uppercase()
                )
            })
            .collect(),
        Backend::Postgres => vec![format!(
            "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
               FOR EACH ROW EXECUTE FUNCTION jiuzhu_append_only()"
        )],
    }
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "regions, catalogue, people, households, users, sessions, tokens, audit, calendar",
        sql: r#"
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT REFERENCES regions(code)
);
CREATE INDEX regions_parent ON regions(parent_code);

CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE items (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    department_code TEXT NOT NULL REFERENCES departments(code),
    time_limit_days BIGINT NOT NULL CHECK (time_limit_days > 0),
    time_limit_source TEXT NOT NULL,
    materials TEXT NOT NULL,
    guide TEXT NOT NULL,
    revision BIGINT NOT NULL,
    updated_at {ts} NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE persons (
    id {id},
    region_code TEXT NOT NULL REFERENCES regions(code),
    id_number_cipher {blob} NOT NULL,
    id_number_index TEXT NOT NULL,
    id_number_masked TEXT NOT NULL,
    name TEXT NOT NULL,
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date {date} NOT NULL,
    hukou_region TEXT NOT NULL,
    residence_since {date},
    phone_cipher {blob},
    phone_masked TEXT,
    disability_grade BIGINT CHECK (disability_grade BETWEEN 1 AND 4),
    disability_kind TEXT,
    serious_illness TEXT,
    labour_capacity TEXT NOT NULL,
    self_care TEXT NOT NULL,
    residence_permit BOOLEAN NOT NULL,
    revision BIGINT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX persons_id_number ON persons(id_number_index);
CREATE INDEX persons_region_name ON persons(region_code, name);
CREATE INDEX persons_name ON persons(name);
CREATE INDEX persons_pinyin ON persons(name_pinyin);

CREATE TABLE households (
    id {id},
    region_code TEXT NOT NULL REFERENCES regions(code),
    address TEXT NOT NULL,
    head_person_id BIGINT NOT NULL REFERENCES persons(id),
    revision BIGINT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX households_region ON households(region_code);
CREATE INDEX households_head ON households(head_person_id);

CREATE TABLE household_members (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    region_code TEXT NOT NULL,
    relation TEXT NOT NULL,
    from_date {date} NOT NULL,
    to_date {date},
    CHECK (to_date IS NULL OR to_date > from_date)
);
CREATE INDEX household_members_household ON household_members(household_id);
CREATE INDEX household_members_person ON household_members(person_id);
-- A person belongs to at most one household at a time.
CREATE UNIQUE INDEX household_members_current ON household_members(person_id) WHERE to_date IS NULL;

-- Monthly incomes as declared or as found in a department feed, per person and kind.
CREATE TABLE incomes (
    id {id},
    person_id BIGINT NOT NULL REFERENCES persons(id),
    region_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    monthly_fen BIGINT NOT NULL CHECK (monthly_fen >= 0),
    since {date} NOT NULL,
    source TEXT NOT NULL,
    recorded_at {ts} NOT NULL
);
CREATE INDEX incomes_person ON incomes(person_id);

CREATE TABLE users (
    id {id},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    department_code TEXT REFERENCES departments(code),
    password_hash TEXT NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until {ts},
    active BOOLEAN NOT NULL,
    created_at {ts} NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at {ts} NOT NULL,
    last_seen_at {ts} NOT NULL,
    expires_at {ts} NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    read_only BOOLEAN NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at {ts} NOT NULL,
    expires_at {ts},
    revoked_at {ts},
    last_used_at {ts}
);

CREATE TABLE audit_log (
    id {id},
    at {ts} NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    interface TEXT NOT NULL,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    region_code TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_name, at);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);

CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    schedule TEXT NOT NULL,
    loaded_at {ts} NOT NULL,
    loaded_by TEXT NOT NULL
);
"#,
        extra: audit_log_guards,
        append_only: &["audit_log"],
    },
    Migration {
        version: 2,
        name: "cases: applications, their events, item projection, organisations, counters",
        sql: r#"
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE organisations (
    id {id},
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    services TEXT NOT NULL,
    contact TEXT NOT NULL,
    active BOOLEAN NOT NULL
);

CREATE TABLE cases (
    id {id},
    region_code TEXT NOT NULL REFERENCES regions(code),
    household_id BIGINT NOT NULL REFERENCES households(id),
    applicant_person_id BIGINT NOT NULL REFERENCES persons(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    filed_at {ts} NOT NULL,
    filed_by TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX cases_idempotency ON cases(idempotency_key);
CREATE INDEX cases_region ON cases(region_code, filed_at);
CREATE INDEX cases_household ON cases(household_id);

-- What happened to each case, in order; the case's state is folded from these.
CREATE TABLE case_events (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    region_code TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at {ts} NOT NULL,
    actor TEXT NOT NULL,
    department TEXT,
    interface TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE UNIQUE INDEX case_events_seq ON case_events(case_id, seq);

-- One row per requested item, rewritten from the folded state after each event: the inboxes,
-- the overdue board and the register read this instead of replaying every case.
CREATE TABLE case_items (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    item_code TEXT NOT NULL REFERENCES items(code),
    region_code TEXT NOT NULL,
    department_code TEXT NOT NULL,
    stage TEXT NOT NULL,
    form_no TEXT,
    next_due {date},
    next_due_kind TEXT,
    late BOOLEAN NOT NULL,
    updated_at {ts} NOT NULL,
    PRIMARY KEY (case_id, item_code)
);
CREATE INDEX case_items_department ON case_items(department_code, stage);
CREATE INDEX case_items_due ON case_items(next_due);
CREATE UNIQUE INDEX case_items_form_no ON case_items(form_no);
"#,
        extra: no_extra,
        append_only: &["case_events"],
    },
    Migration {
        version: 3,
        name: "policy values and evaluations",
        sql: r#"
-- Parameter values added by administrators on top of the shipped packs. Never edited: a
-- later value supersedes from its own date.
CREATE TABLE policy_values (
    id {id},
    pack_id TEXT NOT NULL,
    name TEXT NOT NULL,
    from_date {date} NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at {ts} NOT NULL,
    UNIQUE (pack_id, name, from_date)
);

-- Evaluations of a case's household, with every parameter value they used.
CREATE TABLE evaluations (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    region_code TEXT NOT NULL,
    household_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    result TEXT NOT NULL,
    evaluated_by TEXT NOT NULL,
    evaluated_at {ts} NOT NULL
);
CREATE INDEX evaluations_case ON evaluations(case_id);
"#,
        extra: no_extra,
        append_only: &["policy_values", "evaluations"],
    },
    Migration {
        version: 4,
        name: "department feeds",
        sql: r#"
-- A department's file, imported once (the same bytes in the same category are recognised).
CREATE TABLE feed_files (
    id {id},
    category TEXT NOT NULL,
    department TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    encoding TEXT NOT NULL,
    accepted BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at {ts} NOT NULL,
    UNIQUE (category, sha256)
);

-- What a department knows about a person, by the blind index of the identity number, so facts
-- about people not yet registered match them when they are.
CREATE TABLE facts (
    id {id},
    file_id BIGINT NOT NULL REFERENCES feed_files(id),
    category TEXT NOT NULL,
    row_no BIGINT NOT NULL,
    person_index TEXT NOT NULL,
    fact_date {date},
    amount_fen BIGINT,
    detail TEXT NOT NULL
);
CREATE INDEX facts_person ON facts(person_index, category);
CREATE INDEX facts_file ON facts(file_id);

CREATE TABLE feed_rejections (
    file_id BIGINT NOT NULL REFERENCES feed_files(id),
    row_no BIGINT NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX feed_rejections_file ON feed_rejections(file_id);

-- 核对报告: what the departments' facts show about a case's household, kept with the case.
CREATE TABLE verification_reports (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    region_code TEXT NOT NULL,
    household_id BIGINT NOT NULL,
    report TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX verification_reports_case ON verification_reports(case_id);
"#,
        extra: no_extra,
        append_only: &["verification_reports"],
    },
    Migration {
        version: 5,
        name: "facts keyed by 64 bits of the blind index",
        sql: r#"
-- Facts are looked up by the first 64 bits of the identity number's blind index, a number:
-- the index over ten million facts is then a quarter of the size. A fact is named by its file
-- and row, which also give its category; it has no other key and one index, and the file is
-- referenced without a foreign key (PostgreSQL checks one with a query per row): each of those
-- cost an import of ten million rows a large share of its time. Facts are written only by an
-- import, after its file.
CREATE TABLE facts_v5 (
    file_id BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    person_key BIGINT NOT NULL,
    fact_date {date},
    amount_fen BIGINT,
    detail TEXT NOT NULL
);
INSERT INTO facts_v5 (file_id, row_no, person_key, fact_date, amount_fen, detail)
    SELECT file_id, row_no, {key_of_person_index}, fact_date, amount_fen, detail FROM facts;
DROP TABLE facts;
ALTER TABLE facts_v5 RENAME TO facts;
CREATE INDEX facts_person ON facts(person_key);
"#,
        extra: no_extra,
        append_only: &[],
    },
    Migration {
        version: 6,
        name: "masked identity numbers keep their first and last character only",
        // The first four and last four characters, with the birth date and the place stored
        // beside them, gave the whole number back.
        sql: r#"
UPDATE persons SET id_number_masked =
    substr(id_number_masked, 1, 1) || '****************' || substr(id_number_masked, 18, 1);
"#,
        extra: no_extra,
        append_only: &[],
    },
    Migration {
        version: 7,
        name: "the audit log sealed as a chain",
        // Each new row carries its place in the chain and a keyed seal over its content and the
        // seal before it; the rows written before this migration are sealed together as the
        // chain's first link (`audit_chain.genesis`) when the store first opens.
        sql: r#"
ALTER TABLE audit_log ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_log ADD COLUMN seal TEXT;
CREATE UNIQUE INDEX audit_log_chain ON audit_log(chain_seq);
CREATE TABLE audit_chain (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    last_seal TEXT NOT NULL,
    genesis_rows BIGINT NOT NULL,
    genesis_seal TEXT NOT NULL
);
"#,
        extra: no_extra,
        append_only: &[],
    },
    Migration {
        version: 8,
        name: "failed logins counted per account and address",
        // Keyed by a keyed digest of the name as typed, so unknown names count like known ones
        // (the answer does not tell which exist) and no typed name is kept in the clear.
        sql: r#"
CREATE TABLE login_failures (
    name_key TEXT NOT NULL,
    ip TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until {ts},
    PRIMARY KEY (name_key, ip)
);
"#,
        extra: no_extra,
        append_only: &[],
    },
    Migration {
        version: 9,
        name: "system accounts of department systems",
        sql: r#"
ALTER TABLE users ADD COLUMN system_account BOOLEAN NOT NULL DEFAULT FALSE;
"#,
        extra: no_extra,
        append_only: &[],
    },
    Migration {
        version: 10,
        name: "password age and forced change",
        sql: r#"
ALTER TABLE users ADD COLUMN password_changed_at {ts};
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET password_changed_at = created_at;
"#,
        extra: no_extra,
        append_only: &[],
    },
    Migration {
        version: 11,
        name: "two-factor sign-in of administrators",
        // The secret is encrypted like any personal field; the last accepted time step stops a
        // code from being used twice. Sessions opened before this had no second factor: all end.
        sql: r#"
ALTER TABLE users ADD COLUMN totp_secret {blob};
ALTER TABLE users ADD COLUMN totp_confirmed_at {ts};
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN second_factor_pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sessions ADD COLUMN second_factor_failures BIGINT NOT NULL DEFAULT 0;
DELETE FROM sessions;
"#,
        extra: no_extra,
        append_only: &[],
    },
    Migration {
        version: 12,
        name: "recipients: enrolments and their changes, one-off awards, reviews, plans, visits",
        sql: r#"
ALTER TABLE items ADD COLUMN recurring BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE items SET recurring = TRUE WHERE code IN ('dibao', 'tekun', 'near_dibao', 'disability_subsidies');
CREATE TABLE enrolments (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    person_id BIGINT REFERENCES persons(id),
    program TEXT NOT NULL,
    region_code TEXT NOT NULL,
    case_id BIGINT REFERENCES cases(id),
    evaluation_id BIGINT,
    report_id BIGINT,
    amount_fen BIGINT NOT NULL,
    members TEXT NOT NULL,
    first_month {date} NOT NULL,
    stage TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    reviewed_by TEXT,
    reviewed_at {ts},
    review_note TEXT NOT NULL DEFAULT '',
    confirmed_by TEXT,
    confirmed_at {ts},
    next_review {date},
    created_at {ts} NOT NULL
);
CREATE INDEX enrolments_region ON enrolments(region_code, program);
CREATE INDEX enrolments_household ON enrolments(household_id);
CREATE UNIQUE INDEX enrolments_case ON enrolments(case_id, program);
CREATE TABLE enrolment_changes (
    id {id},
    enrolment_id BIGINT NOT NULL REFERENCES enrolments(id),
    region_code TEXT NOT NULL,
    month {date} NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX enrolment_changes_enrolment ON enrolment_changes(enrolment_id, id);
CREATE INDEX enrolment_changes_region ON enrolment_changes(region_code);
CREATE TABLE awards (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    case_id BIGINT REFERENCES cases(id),
    item TEXT NOT NULL,
    region_code TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    note TEXT NOT NULL,
    stages TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at {ts} NOT NULL
);
CREATE INDEX awards_household ON awards(household_id);
CREATE TABLE enrolment_reviews (
    id {id},
    enrolment_id BIGINT NOT NULL REFERENCES enrolments(id),
    region_code TEXT NOT NULL,
    month {date} NOT NULL,
    outcome TEXT NOT NULL,
    change_body TEXT,
    basis TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    proposed_at {ts} NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at {ts},
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX enrolment_reviews_enrolment ON enrolment_reviews(enrolment_id);
CREATE INDEX enrolment_reviews_region ON enrolment_reviews(region_code, status);
CREATE TABLE plans (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    region_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    causes TEXT NOT NULL,
    needs TEXT NOT NULL,
    changes TEXT NOT NULL,
    based_on TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    approved_by TEXT,
    approved_at {ts}
);
CREATE UNIQUE INDEX plans_version ON plans(household_id, version);
CREATE TABLE visits (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    region_code TEXT NOT NULL,
    visit_date {date} NOT NULL,
    visitor TEXT NOT NULL,
    findings TEXT NOT NULL,
    follow_up TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX visits_household ON visits(household_id, visit_date);
CREATE INDEX visits_region ON visits(region_code);
"#,
        extra: no_extra,
        append_only: &["enrolment_changes", "awards", "visits"],
    },
    Migration {
        version: 13,
        name: "payments: payees, monthly rolls and their lines, bank returns",
        sql: r#"
CREATE TABLE payees (
    id {id},
    enrolment_id BIGINT REFERENCES enrolments(id),
    award_id BIGINT REFERENCES awards(id),
    household_id BIGINT NOT NULL REFERENCES households(id),
    region_code TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    holder_name TEXT NOT NULL,
    bank TEXT NOT NULL,
    account_cipher {blob} NOT NULL,
    account_masked TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX payees_enrolment ON payees(enrolment_id);
CREATE UNIQUE INDEX payees_award ON payees(award_id);
CREATE TABLE rolls (
    id {id},
    month {date} NOT NULL,
    program TEXT,
    region_code TEXT NOT NULL,
    stage TEXT NOT NULL,
    lines BIGINT NOT NULL,
    total_fen BIGINT NOT NULL,
    digest TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    checked_by TEXT,
    checked_at {ts},
    approved_by TEXT,
    approved_at {ts},
    sent_at {ts},
    closed_at {ts}
);
CREATE INDEX rolls_region ON rolls(region_code, month);
CREATE TABLE roll_lines (
    id {id},
    roll_id BIGINT NOT NULL REFERENCES rolls(id),
    seq BIGINT NOT NULL,
    enrolment_id BIGINT REFERENCES enrolments(id),
    award_id BIGINT REFERENCES awards(id),
    household_id BIGINT NOT NULL,
    program TEXT NOT NULL,
    month {date} NOT NULL,
    region_code TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    holder_name TEXT NOT NULL,
    account_cipher {blob} NOT NULL,
    account_masked TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    reissue_of BIGINT,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    locked BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX roll_lines_seq ON roll_lines(roll_id, seq);
CREATE UNIQUE INDEX roll_lines_enrolment_once ON roll_lines(enrolment_id, month)
    WHERE locked AND status <> 'failed' AND enrolment_id IS NOT NULL;
CREATE UNIQUE INDEX roll_lines_award_once ON roll_lines(award_id)
    WHERE locked AND status <> 'failed' AND award_id IS NOT NULL;
CREATE TABLE bank_returns (
    id {id},
    roll_id BIGINT NOT NULL REFERENCES rolls(id),
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    paid BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    errors TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at {ts} NOT NULL
);
CREATE UNIQUE INDEX bank_returns_once ON bank_returns(roll_id, sha256);
CREATE TABLE receivables (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    enrolment_id BIGINT REFERENCES enrolments(id),
    line_id BIGINT REFERENCES roll_lines(id),
    region_code TEXT NOT NULL,
    month {date},
    amount_fen BIGINT NOT NULL,
    cause TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE UNIQUE INDEX receivables_line ON receivables(line_id);
CREATE INDEX receivables_region ON receivables(region_code);
CREATE TABLE recoveries (
    id {id},
    receivable_id BIGINT NOT NULL REFERENCES receivables(id),
    region_code TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    method TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at {ts} NOT NULL
);
CREATE INDEX recoveries_receivable ON recoveries(receivable_id);
"#,
        extra: no_extra,
        append_only: &["bank_returns", "receivables", "recoveries"],
    },
    Migration {
        version: 14,
        name: "payments: award stages, guardians, deductions, what a draft is due, bank templates",
        sql: r#"
DROP INDEX roll_lines_award_once;
CREATE UNIQUE INDEX roll_lines_award_once ON roll_lines(award_id, month)
    WHERE locked AND status <> 'failed' AND award_id IS NOT NULL;
CREATE INDEX roll_lines_roll_status ON roll_lines(roll_id, status);
CREATE INDEX roll_lines_reissue ON roll_lines(reissue_of);
CREATE INDEX roll_lines_household ON roll_lines(household_id);
CREATE INDEX roll_lines_month ON roll_lines(month, region_code);
CREATE INDEX roll_lines_failed ON roll_lines(region_code) WHERE status = 'failed';
ALTER TABLE roll_lines ADD COLUMN deduction_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE roll_lines ADD COLUMN persons BIGINT NOT NULL DEFAULT 1;
ALTER TABLE roll_lines ADD COLUMN receivable_id BIGINT REFERENCES receivables(id);
ALTER TABLE payees ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
CREATE TABLE roll_dues (
    roll_id BIGINT NOT NULL REFERENCES rolls(id),
    enrolment_id BIGINT REFERENCES enrolments(id),
    award_id BIGINT REFERENCES awards(id),
    month {date} NOT NULL,
    amount_fen BIGINT NOT NULL,
    deduction_fen BIGINT NOT NULL,
    receivable_id BIGINT,
    reissue_of BIGINT,
    persons BIGINT NOT NULL
);
CREATE INDEX roll_dues_roll ON roll_dues(roll_id);
CREATE TABLE receivable_deductions (
    id {id},
    receivable_id BIGINT NOT NULL REFERENCES receivables(id),
    region_code TEXT NOT NULL,
    per_month_fen BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    set_at {ts} NOT NULL
);
CREATE INDEX receivable_deductions_receivable ON receivable_deductions(receivable_id);
CREATE TABLE bank_templates (
    id {id},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
"#,
        extra: no_extra,
        append_only: &["receivable_deductions"],
    },
    Migration {
        version: 15,
        name: "monitoring: monthly runs, graded warnings and their handling, households registered as in difficulty",
        sql: r#"
CREATE TABLE monitor_runs (
    id {id},
    month {date} NOT NULL,
    attempt BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    started_at {ts} NOT NULL,
    files TEXT NOT NULL,
    parameters TEXT NOT NULL,
    facts_read BIGINT NOT NULL,
    warnings BIGINT NOT NULL,
    digest TEXT NOT NULL,
    UNIQUE (month, attempt)
);
CREATE TABLE warnings (
    id {id},
    run_id BIGINT NOT NULL REFERENCES monitor_runs(id),
    month {date} NOT NULL,
    region_code TEXT NOT NULL,
    household_id BIGINT REFERENCES households(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    rule TEXT NOT NULL,
    grade TEXT NOT NULL,
    discovery BOOLEAN NOT NULL,
    fingerprint TEXT NOT NULL,
    fact_date {date},
    figure_fen BIGINT,
    basis TEXT NOT NULL,
    due {date} NOT NULL,
    status TEXT NOT NULL,
    assigned_to TEXT,
    visit_date {date},
    visit_findings TEXT,
    outcome TEXT,
    outcome_note TEXT,
    case_id BIGINT REFERENCES cases(id),
    closed_on {date},
    closed_by TEXT,
    created_at {ts} NOT NULL,
    revision BIGINT NOT NULL
);
CREATE UNIQUE INDEX warnings_once ON warnings(person_id, fingerprint);
CREATE INDEX warnings_region ON warnings(region_code, status);
CREATE INDEX warnings_run ON warnings(run_id);
CREATE TABLE monitored_households (
    household_id BIGINT NOT NULL REFERENCES households(id),
    region_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    registered_at {ts} NOT NULL
);
CREATE INDEX monitored_households_household ON monitored_households(household_id);
"#,
        extra: no_extra,
        append_only: &["monitor_runs"],
    },
    Migration {
        version: 16,
        name: "openness: public notices and objections, complaints, random inspections",
        sql: r#"
CREATE TABLE notices (
    id {id},
    program TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    title TEXT NOT NULL,
    decided_from {date} NOT NULL,
    decided_to {date} NOT NULL,
    published_on {date} NOT NULL,
    ends_on {date} NOT NULL,
    mask TEXT NOT NULL,
    contact TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX notices_region ON notices(region_code, ends_on);
-- What a notice published, as published: later changes to the household do not rewrite it.
CREATE TABLE notice_entries (
    id {id},
    notice_id BIGINT NOT NULL REFERENCES notices(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    decision TEXT NOT NULL,
    enrolment_id BIGINT NOT NULL REFERENCES enrolments(id),
    region_code TEXT NOT NULL,
    masked_name TEXT NOT NULL,
    members BIGINT NOT NULL,
    per_capita_fen BIGINT,
    amount_fen BIGINT NOT NULL,
    place TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE UNIQUE INDEX notice_entries_seq ON notice_entries(notice_id, seq);
CREATE INDEX notice_entries_enrolment ON notice_entries(enrolment_id);
CREATE TABLE objections (
    id {id},
    number TEXT NOT NULL UNIQUE,
    query_code TEXT NOT NULL,
    notice_id BIGINT NOT NULL REFERENCES notices(id),
    entry_id BIGINT NOT NULL REFERENCES notice_entries(id),
    enrolment_id BIGINT NOT NULL REFERENCES enrolments(id),
    region_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    content TEXT NOT NULL,
    contact_cipher {blob},
    recorded_by TEXT,
    received_at {ts} NOT NULL,
    status TEXT NOT NULL,
    method TEXT,
    visit_date {date},
    findings TEXT,
    participants TEXT,
    votes_for BIGINT,
    votes_against BIGINT,
    votes_abstain BIGINT,
    upheld BOOLEAN,
    reply TEXT,
    answered_by TEXT,
    answered_at {ts}
);
CREATE INDEX objections_enrolment ON objections(enrolment_id, status);
CREATE INDEX objections_region ON objections(region_code, status);
CREATE TABLE complaints (
    id {id},
    number TEXT NOT NULL UNIQUE,
    query_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    content TEXT NOT NULL,
    anonymous BOOLEAN NOT NULL,
    contact_cipher {blob},
    about_user TEXT,
    about_unit TEXT,
    household_id BIGINT REFERENCES households(id),
    received_by TEXT,
    owner_unit TEXT NOT NULL,
    offered_unit TEXT,
    received_on {date} NOT NULL,
    due {date} NOT NULL,
    status TEXT NOT NULL,
    finding TEXT,
    reply TEXT,
    recovered_fen BIGINT,
    receivable_id BIGINT,
    answered_by TEXT,
    answered_on {date},
    revision BIGINT NOT NULL
);
CREATE INDEX complaints_owner ON complaints(owner_unit, status);
CREATE INDEX complaints_region ON complaints(region_code, status);
CREATE TABLE complaint_events (
    id {id},
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    kind TEXT NOT NULL,
    unit TEXT,
    note TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX complaint_events_complaint ON complaint_events(complaint_id);
CREATE TABLE inspection_plans (
    id {id},
    title TEXT NOT NULL,
    month {date} NOT NULL,
    scope TEXT NOT NULL,
    programs TEXT NOT NULL,
    percent BIGINT NOT NULL,
    seed TEXT NOT NULL,
    pool TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    published_at {ts}
);
CREATE TABLE inspection_targets (
    id {id},
    plan_id BIGINT NOT NULL REFERENCES inspection_plans(id),
    enrolment_id BIGINT NOT NULL REFERENCES enrolments(id),
    household_id BIGINT NOT NULL REFERENCES households(id),
    region_code TEXT NOT NULL,
    program TEXT NOT NULL,
    inspector TEXT NOT NULL,
    result TEXT,
    findings TEXT,
    amount_fen BIGINT,
    receivable_id BIGINT,
    checked_on {date},
    follow_up TEXT
);
CREATE INDEX inspection_targets_plan ON inspection_targets(plan_id);
CREATE INDEX inspection_targets_inspector ON inspection_targets(inspector);
"#,
        extra: no_extra,
        append_only: &["complaint_events", "notice_entries"],
    },
    Migration {
        version: 17,
        name: "social forces and self-service: organisation accounts, consents, needs and commitments, projects, volunteers and points, residence permits",
        sql: r#"
ALTER TABLE users ADD COLUMN organisation_id BIGINT REFERENCES organisations(id);
CREATE TABLE consents (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    case_id BIGINT REFERENCES cases(id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    given_at {ts} NOT NULL,
    recorded_by TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX consents_household ON consents(household_id, kind);
CREATE INDEX consents_case ON consents(case_id);
CREATE TABLE published_needs (
    id {id},
    household_id BIGINT NOT NULL REFERENCES households(id),
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    need_index BIGINT NOT NULL,
    region_code TEXT NOT NULL,
    cause TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit TEXT NOT NULL,
    status TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at {ts} NOT NULL,
    revision BIGINT NOT NULL
);
CREATE UNIQUE INDEX published_needs_once ON published_needs(plan_id, need_index);
CREATE INDEX published_needs_region ON published_needs(region_code, status);
CREATE TABLE need_commitments (
    id {id},
    need_id BIGINT NOT NULL REFERENCES published_needs(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    quantity BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    committed_by TEXT NOT NULL,
    committed_at {ts} NOT NULL,
    delivered_by TEXT,
    delivered_at {ts}
);
CREATE INDEX need_commitments_need ON need_commitments(need_id);
CREATE TABLE projects (
    id {id},
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    organisation_id BIGINT REFERENCES organisations(id),
    region_code TEXT NOT NULL REFERENCES regions(code),
    year BIGINT NOT NULL,
    target_fen BIGINT NOT NULL,
    raised_fen BIGINT NOT NULL,
    city_fen BIGINT NOT NULL,
    township_fen BIGINT NOT NULL,
    government_bought BOOLEAN NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX projects_year ON projects(year, region_code);
CREATE TABLE volunteers (
    id {id},
    name TEXT NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    region_code TEXT NOT NULL REFERENCES regions(code),
    show_on_board BOOLEAN NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE service_logs (
    id {id},
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    household_id BIGINT REFERENCES households(id),
    region_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    service_date {date} NOT NULL,
    hours_tenths BIGINT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    logged_by TEXT NOT NULL,
    logged_at {ts} NOT NULL,
    verified_by TEXT,
    verified_at {ts}
);
CREATE INDEX service_logs_volunteer ON service_logs(volunteer_id);
CREATE TABLE point_entries (
    id {id},
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    service_log_id BIGINT REFERENCES service_logs(id),
    points BIGINT NOT NULL,
    reason TEXT NOT NULL,
    month {date} NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX point_entries_volunteer ON point_entries(volunteer_id);
CREATE TABLE residence_permits (
    person_id BIGINT PRIMARY KEY REFERENCES persons(id),
    region_code TEXT NOT NULL REFERENCES regions(code),
    issued_on {date} NOT NULL,
    resident_since {date} NOT NULL,
    working BOOLEAN NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at {ts} NOT NULL
);
CREATE TABLE permit_points (
    id {id},
    person_id BIGINT NOT NULL REFERENCES persons(id),
    points BIGINT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at {ts} NOT NULL
);
CREATE INDEX permit_points_person ON permit_points(person_id);
"#,
        extra: no_extra,
        append_only: &["consents", "point_entries", "permit_points"],
    },
    Migration {
        version: 18,
        name: "materials an applicant uploads, kept as files and referenced here",
        sql: r#"
CREATE TABLE case_materials (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    region_code TEXT NOT NULL,
    material TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    stored_as TEXT NOT NULL,
    uploaded_at {ts} NOT NULL,
    ip TEXT NOT NULL
);
CREATE UNIQUE INDEX case_materials_once ON case_materials(case_id, sha256);
"#,
        extra: no_extra,
        append_only: &["case_materials"],
    },
];

fn no_extra(_: Backend) -> &'static [&'static str] {
    &[]
}

/// SQL for the 64-bit key of `person_index` (see `crypto::blind_key_of_index`): PostgreSQL reads
/// hexadecimal through a bit string; SQLite adds up the sixteen digits, the first one signed.
fn key_of_person_index(backend: Backend) -> String {
    match backend {
        Backend::Postgres => "('x' || substr(person_index, 1, 16))::bit(64)::bigint".to_string(),
        Backend::Sqlite => {
            let digit =
                |i: usize| format!("(instr('0123456789abcdef', substr(person_index, {i}, 1)) - 1)");
            let mut terms = vec![format!(
                "({0} - 16 * ({0} >= 8)) * {1}",
                digit(1),
                1i64 << 60
            )];
            for i in 2..=16 {
                terms.push(format!("{} * {}", digit(i), 1i64 << (4 * (16 - i))));
            }
            terms.join(" + ")
        }
    }
}

/// Renders the type placeholders for one backend.
fn render(sql: &str, backend: Backend) -> String {
    let (id, ts, date, blob) = match backend {
        Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "TEXT", "BLOB"),
        Backend::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "TIMESTAMPTZ",
            "DATE",
            "BYTEA",
        ),
    };
    sql.replace("{id}", id)
        .replace("{key_of_person_index}", &key_of_person_index(backend))
        .replace("{ts}", ts)
        .replace("{date}", date)
        .replace("{blob}", blob)
}

/// Splits a portable script into statements: each ends with `;` at the end of a line.
fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

pub(crate) async fn migrate(tx: &mut Tx) -> Result<Vec<&'static str>> {
    migrate_until(tx, i64::MAX).await
}

/// Applies the migrations up to and including `until` (tests upgrade from older versions).
pub(crate) async fn migrate_until(tx: &mut Tx, until: i64) -> Result<Vec<&'static str>> {
    let backend = tx.backend();
    if backend == Backend::Postgres {
        // Serialises concurrent starts of several application servers.
        on_tx!(tx, c => sqlx::query("SELECT pg_advisory_xact_lock(7235810)").execute(c).await.map(|r| r.rows_affected()))?;
    }
    let create = render(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at {ts} NOT NULL)",
        backend,
    );
    on_tx!(tx, c => sqlx::query(&create).execute(c).await.map(|r| r.rows_affected()))?;
    let done: Vec<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(c)
        .await)?;
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version <= until) {
        if done.contains(&m.version) {
            continue;
        }
        let mut script = statements(&render(m.sql, backend));
        script.extend((m.extra)(backend).iter().map(|s| s.to_string()));
        for table in m.append_only {
            script.extend(append_only(backend, table));
        }
        for statement in script {
            on_tx!(tx, c => sqlx::query(&statement).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let now = chrono::Utc::now();
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
        applied.push(m.name);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_splits_into_whole_statements() {
        let s = statements(&render(MIGRATIONS[0].sql, Backend::Sqlite));
        assert!(s.iter().all(|st| st.trim_end().ends_with(';')));
        assert!(s.iter().any(|st| st.contains("WHERE to_date IS NULL")));
        assert_eq!(
            s.iter().filter(|st| st.starts_with("CREATE TABLE")).count(),
            13
        );
    }

    /// The database file holds personal data: nobody but its owner reads it.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_sqlite_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("jiuzhu-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("p.db");
        let _ = std::fs::remove_file(&db);
        let store = crate::Store::connect(
            &format!("sqlite://{}", db.display()),
            crate::FieldCipher::new(&[7u8; 32], 1),
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        // An older file left readable by others is narrowed on the next start.
        drop(store);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        crate::Store::connect(
            &format!("sqlite://{}", db.display()),
            crate::FieldCipher::new(&[7u8; 32], 1),
        )
        .await
        .unwrap();
        let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Migration 5 re-keys stored facts in SQL; its keys must equal those new imports compute.
    #[tokio::test]
    async fn the_migrated_fact_key_equals_the_computed_one() {
        let indexes = [
            "0000000000000000aaaa",
            "7fffffffffffffff0000",
            "8000000000000000ffff",
            "ffffffffffffffff1234",
            "3a9c0e1f22b4d5e6f708",
            "c4f1a2b3d4e5f60718293",
        ];
        let sqlite = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let sql = format!(
            "SELECT {} FROM (SELECT $1 AS person_index)",
            key_of_person_index(Backend::Sqlite)
        );
        for ix in indexes {
            let key: i64 = sqlx::query_scalar(&sql)
                .bind(ix)
                .fetch_one(&sqlite)
                .await
                .unwrap();
            assert_eq!(Some(key), crate::blind_key_of_index(ix), "SQLite, {ix}");
        }
        let Ok(url) = std::env::var("JIUZHU_TEST_POSTGRES_URL") else {
            return;
        };
        let pg = sqlx::PgPool::connect(&url).await.unwrap();
        let sql = format!(
            "SELECT {} FROM (SELECT $1::text AS person_index) AS t",
            key_of_person_index(Backend::Postgres)
        );
        for ix in indexes {
            let key: i64 = sqlx::query_scalar(&sql)
                .bind(ix)
                .fetch_one(&pg)
                .await
                .unwrap();
            assert_eq!(Some(key), crate::blind_key_of_index(ix), "PostgreSQL, {ix}");
        }
    }

    /// Facts imported under version 4 keep their provenance and are found by their new key.
    async fn upgrade_facts_from_version_4(url: &str) {
        let cipher = crate::FieldCipher::new(&[9u8; 32], 1);
        let index = cipher.blind_index(crate::crypto_contexts::ID_NUMBER, "11010519491231002X");
        let store = crate::Store::connect(url, cipher).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        migrate_until(&mut tx, 4).await.unwrap();
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO feed_files (id, category, department, file_name, sha256, encoding, accepted,
                rejected, imported_by, imported_at)
             VALUES (1, 'wage', '人社局', 'w.csv', 'ab', 'UTF-8', 2, 0, 'admin', $1)")
            .bind(chrono::Utc::now()).execute(c).await.map(|r| r.rows_affected())).unwrap();
        for (id, ix) in [(1i64, index.as_str()), (2, "8000000000000000ffff")] {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO facts (id, file_id, category, row_no, person_index, fact_date, amount_fen, detail)
                 VALUES ($1, 1, 'wage', $2, $3, NULL, 450000, '{}')")
                .bind(id).bind(id + 1).bind(ix).execute(c).await.map(|r| r.rows_affected())).unwrap();
        }
        tx.commit().await.unwrap();
        store.migrate().await.unwrap();

        let key = store
            .cipher()
            .blind_key(crate::crypto_contexts::ID_NUMBER, "11010519491231002X");
        let mut tx = store.begin().await.unwrap();
        let rows: Vec<(i64, i64, i64)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT file_id, row_no, person_key FROM facts ORDER BY row_no").fetch_all(c).await)
        .unwrap();
        assert_eq!(rows, [(1, 2, key), (1, 3, i64::MIN)]);
        tx.commit().await.unwrap();
        store.close().await;
    }

    #[tokio::test]
    async fn facts_are_rekeyed_on_sqlite() {
        let path = std::env::temp_dir().join(format!("jiuzhu-v5-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        upgrade_facts_from_version_4(&format!("sqlite://{}", path.display())).await;
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn facts_are_rekeyed_on_postgres() {
        let Ok(base) = std::env::var("JIUZHU_TEST_POSTGRES_URL") else {
            return;
        };
        let name = format!("jiuzhu_v5_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&admin)
            .await;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        upgrade_facts_from_version_4(&url).await;
        sqlx::query(&format!("DROP DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
    }

    #[test]
    fn placeholders_are_rendered_for_each_backend() {
        assert!(render(MIGRATIONS[0].sql, Backend::Postgres).contains("TIMESTAMPTZ"));
        assert!(!render(MIGRATIONS[0].sql, Backend::Sqlite).contains('{'));
    }
}
