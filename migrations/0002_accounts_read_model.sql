-- Read models of EMPs and customers, written only by the accounts projection.

CREATE TABLE emps (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    currency char(3) NOT NULL,
    auto_top_up_threshold_minor bigint NOT NULL,
    auto_top_up_amount_minor bigint NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE customers (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    account_type text NOT NULL,
    currency char(3) NOT NULL,
    external_ref text,
    balance_minor bigint NOT NULL DEFAULT 0,
    card_brand text,
    card_last4 text,
    card_exp_month integer,
    card_exp_year integer,
    auto_top_up_enabled boolean NOT NULL DEFAULT false,
    auto_top_up_threshold_minor bigint NOT NULL,
    auto_top_up_amount_minor bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL
);
CREATE INDEX customers_emp_page ON customers (emp_id, created_at, id);
CREATE UNIQUE INDEX customers_emp_external_ref ON customers (emp_id, external_ref)
    WHERE external_ref IS NOT NULL;
