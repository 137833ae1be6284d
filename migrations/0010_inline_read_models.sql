-- The accounts read model is written in the transaction of the events that cause it
-- (docs/architecture.md): it has no tracking row any more, and its batch function is gone.
-- Transactions say what they are in words; sessions say which invoice holds them (postpaid),
-- so Invoice Production reads the uninvoiced ones from here instead of from the customer.
ALTER TABLE transactions ADD COLUMN description text;
ALTER TABLE sessions ADD COLUMN invoice_id uuid;
CREATE INDEX sessions_customer_uninvoiced ON sessions (customer_id, ended_at) WHERE invoice_id IS NULL;
DROP FUNCTION chargeledger_finish_batch(text, bigint, text[], bigint[], text, text);
DROP TABLE IF EXISTS accounts_tracking;
TRUNCATE card_payments, debits;  -- now the payments projection's, rebuilt from the log

-- The asynchronous projections' tracked positions (one row per application), and what each
-- one's runner last reported, so that every process's /health shows a failing projection.
CREATE TABLE IF NOT EXISTS subscriptions_tracking (application_name text PRIMARY KEY, notification_id bigint);
CREATE TABLE IF NOT EXISTS payments_tracking (application_name text PRIMARY KEY, notification_id bigint);
CREATE TABLE projection_status (
    name text PRIMARY KEY,
    restarts integer NOT NULL DEFAULT 0,
    last_error text,
    failed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
