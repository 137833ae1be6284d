-- Card payments with Stripe (commands/stripe_gateway.py, docs/payments.md).
-- A charge the PSP is still processing: its outcome comes by webhook, no worker charges again.
ALTER TABLE card_payments DROP CONSTRAINT card_payments_status_check;
ALTER TABLE card_payments ADD CONSTRAINT card_payments_status_check
    CHECK (status IN ('pending', 'processing', 'approved', 'declined'));
-- The Stripe Customer made for each ledger customer.
CREATE TABLE stripe_customers (
    customer_id uuid PRIMARY KEY,
    stripe_customer_id text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- SetupIntents handed to the EMP's front end; a newer card request (a setup or a card stored
-- directly) supersedes older ones, so a late setup_intent.succeeded does not replace a newer card.
CREATE TABLE stripe_card_setups (
    setup_intent_id text PRIMARY KEY,
    customer_id uuid NOT NULL,
    emp_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    superseded boolean NOT NULL DEFAULT false
);
CREATE INDEX stripe_card_setups_customer ON stripe_card_setups (customer_id) WHERE NOT superseded;
