-- Batch job runs, unpaid debits, invoices, and the outbox of payment-failure mail.

CREATE TABLE job_runs (
    id uuid PRIMARY KEY,
    job text NOT NULL,
    as_of timestamptz NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    triggered_by text NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    processed integer NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX job_runs_started ON job_runs (started_at DESC);

CREATE TABLE debits (
    debit_id uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    emp_id uuid NOT NULL,
    package_code text NOT NULL,
    amount_minor bigint NOT NULL,
    due_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('unpaid', 'paid')),
    settled_by text,
    settled_at timestamptz
);
CREATE INDEX debits_unpaid_due ON debits (due_at) WHERE status = 'unpaid';

CREATE TABLE invoices (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    sequence integer NOT NULL,
    number text NOT NULL,
    period_index integer NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    currency char(3) NOT NULL,
    vat_rate_bp integer NOT NULL,
    lines jsonb NOT NULL,
    net_minor bigint NOT NULL,
    vat_minor bigint NOT NULL,
    total_minor bigint NOT NULL,
    issued_at timestamptz NOT NULL,
    UNIQUE (emp_id, sequence),
    UNIQUE (subscription_id, period_index)
);
CREATE INDEX invoices_customer ON invoices (customer_id, sequence);

CREATE TABLE mail_outbox (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    recipient text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error text,
    sent_at timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';
