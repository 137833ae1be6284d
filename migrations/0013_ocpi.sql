-- OCPI 2.2.1 (the EMP as an eMSP): its own identity, the charge point operators it connects
-- with, its drivers' tokens, and every CDR as received. Inline read models, written with the
-- events (projections/accounts.py); tokens only as SHA-256 digests.

ALTER TABLE emps
    ADD COLUMN ocpi_country_code text,
    ADD COLUMN ocpi_party_id text;

CREATE TABLE ocpi_parties (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    country_code text NOT NULL,
    party_id text NOT NULL,
    name text NOT NULL,
    markup_bp integer NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'connected', 'unregistered')),
    token_a_sha256 text NOT NULL,
    token_c_sha256 text,
    versions_url text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX ocpi_parties_emp ON ocpi_parties (emp_id, created_at, id);
CREATE INDEX ocpi_parties_token_a ON ocpi_parties (token_a_sha256);
CREATE INDEX ocpi_parties_token_c ON ocpi_parties (token_c_sha256);

CREATE TABLE customer_tokens (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    uid text NOT NULL,
    type text NOT NULL,
    contract_id text NOT NULL,
    visual_number text,
    valid boolean NOT NULL,
    created_at timestamptz NOT NULL,
    last_updated timestamptz NOT NULL
);
CREATE INDEX customer_tokens_emp_updated ON customer_tokens (emp_id, last_updated, id);
CREATE INDEX customer_tokens_customer ON customer_tokens (customer_id);

CREATE TABLE ocpi_cdrs (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    party uuid NOT NULL,
    session_id text NOT NULL,
    token_uid text NOT NULL,
    customer_id uuid,
    credit boolean NOT NULL,
    cost_minor bigint NOT NULL,
    currency text NOT NULL,
    body text NOT NULL,
    received_at timestamptz NOT NULL,
    assigned_at timestamptz
);
CREATE INDEX ocpi_cdrs_unmatched ON ocpi_cdrs (emp_id, received_at, id) WHERE customer_id IS NULL;
