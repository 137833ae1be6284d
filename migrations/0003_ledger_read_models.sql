-- Read models of balance movements, sessions, card payments, the catalog and subscriptions.

CREATE TABLE transactions (
    id uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    emp_id uuid NOT NULL,
    sequence integer NOT NULL,
    type text NOT NULL,
    amount_minor bigint NOT NULL,
    balance_after_minor bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    reference text,
    UNIQUE (customer_id, sequence)
);
CREATE INDEX transactions_emp_recorded ON transactions (emp_id, recorded_at);

CREATE TABLE sessions (
    emp_id uuid NOT NULL,
    session_id text NOT NULL,
    customer_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL,
    energy_wh bigint NOT NULL,
    cost_minor bigint NOT NULL,
    location text,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (emp_id, session_id)
);
CREATE INDEX sessions_emp_ended ON sessions (emp_id, ended_at);
CREATE INDEX sessions_customer_ended ON sessions (customer_id, ended_at);

CREATE TABLE card_payments (
    payment_id uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    emp_id uuid NOT NULL,
    purpose text NOT NULL,
    amount_minor bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    requested_at timestamptz NOT NULL,
    completed_at timestamptz,
    charge_id text,
    decline_code text
);
CREATE INDEX card_payments_pending ON card_payments (requested_at) WHERE status = 'pending';

CREATE TABLE packages (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    recurring boolean NOT NULL,
    payment text NOT NULL,
    price_minor bigint NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (emp_id, code)
);

CREATE TABLE subscriptions (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    tariff text NOT NULL,
    billing_day integer NOT NULL,
    started_at timestamptz NOT NULL
);
CREATE INDEX subscriptions_customer ON subscriptions (customer_id);

CREATE TABLE subscription_packages (
    id uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES subscriptions (id),
    package_id uuid NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    recurring boolean NOT NULL,
    payment text NOT NULL,
    price_minor bigint NOT NULL,
    acquired_at timestamptz NOT NULL,
    status text NOT NULL,
    cancelled_at timestamptz
);
CREATE INDEX subscription_packages_subscription ON subscription_packages (subscription_id, acquired_at);
