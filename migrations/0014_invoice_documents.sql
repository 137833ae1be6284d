-- Invoice documents, payments on invoices, credit notes (issue 15): what an invoice was issued
-- with (seller, buyer, due date), what was paid and credited against it, the credit notes, the
-- customers' billing details, and mail with a document attached (rendered when it is sent).

ALTER TABLE invoices
    ADD COLUMN seller jsonb,
    ADD COLUMN buyer jsonb,
    ADD COLUMN due_at timestamptz,
    ADD COLUMN status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid')),
    ADD COLUMN amount_paid_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN credited_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN paid_at timestamptz;

CREATE TABLE invoice_payments (
    id uuid PRIMARY KEY,
    invoice_id uuid NOT NULL,
    emp_id uuid NOT NULL,
    amount_minor bigint NOT NULL,
    paid_at timestamptz NOT NULL,
    reference text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX invoice_payments_invoice ON invoice_payments (invoice_id, paid_at);

CREATE TABLE credit_notes (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    invoice_id uuid NOT NULL,
    invoice_number text NOT NULL,
    invoice_issued_at timestamptz NOT NULL,
    sequence integer NOT NULL,
    number text NOT NULL,
    currency char(3) NOT NULL,
    reason text NOT NULL,
    lines jsonb NOT NULL,
    net_minor bigint NOT NULL,
    vat_minor bigint NOT NULL,
    total_minor bigint NOT NULL,
    seller jsonb,
    buyer jsonb,
    issued_at timestamptz NOT NULL,
    UNIQUE (emp_id, sequence)
);
CREATE INDEX credit_notes_customer ON credit_notes (customer_id, sequence);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id);

-- As JSON text: the inline batch writes its columns as typed arrays, and these are few and small.
ALTER TABLE customers ADD COLUMN billing_json text;

-- A mail may carry a document, rendered from the read models when the mail is sent.
ALTER TABLE mail_outbox
    ADD COLUMN attachment_kind text CHECK (attachment_kind IN ('invoice', 'credit_note')),
    ADD COLUMN attachment_id uuid;
