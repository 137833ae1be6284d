-- Personal-data erasure by crypto-shredding (issue 17): each customer's data key, apart from
-- the events it seals (a destroyed key leaves its row with no key), the reseal links of events
-- stored before sealing and rewritten by an erasure, and read models that may hold no personal
-- data any more (an erased customer's name, e-mail and mail recipient are NULL).
CREATE TABLE personal_data_keys (
    subject_id uuid PRIMARY KEY,
    data_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz
);

CREATE TABLE event_reseals (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    link bytea NOT NULL,
    resealed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (originator_id, originator_version)
);

ALTER TABLE customers ALTER COLUMN name DROP NOT NULL, ALTER COLUMN email DROP NOT NULL;

-- An erased customer's mail keeps its row (what was sent, when) without recipient or body;
-- one not sent yet is never sent.
ALTER TABLE mail_outbox ALTER COLUMN recipient DROP NOT NULL;
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_status_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_status_check CHECK (status IN ('pending', 'sent', 'erased'));
