-- Service tables: API keys, idempotency records, the simulated gateway's own charges.

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('emp', 'support', 'auditor')),
    secret_sha256 bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_emp ON api_keys (emp_id);

CREATE TABLE idempotency_records (
    scope text NOT NULL,
    idempotency_key text NOT NULL,
    request_sha256 text NOT NULL,
    status_code integer,
    content_type text,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (scope, idempotency_key)
);

CREATE TABLE gateway_charges (
    idempotency_key text PRIMARY KEY,
    charge_id text NOT NULL UNIQUE,
    token text NOT NULL,
    amount_minor bigint NOT NULL,
    currency char(3) NOT NULL,
    approved boolean NOT NULL,
    decline_code text,
    created_at timestamptz NOT NULL DEFAULT now()
);
