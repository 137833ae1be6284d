-- Webhooks: the EMP's endpoints (service data), the messages (an asynchronous read model of the
-- events: one per business event, its body kept as sent), and each endpoint's deliveries of
-- them (the outbox the delivery worker empties). A rebuild replays the messages and deliveries
-- it already has as they are (their ids come from the events), so none is sent twice.

CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    url text NOT NULL,
    event_types text[],  -- NULL: every type
    description text,
    enabled boolean NOT NULL DEFAULT true,
    secret text NOT NULL,
    previous_secret text,
    previous_secret_until timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_emp ON webhook_endpoints (emp_id, created_at, id);

CREATE TABLE webhook_messages (
    id uuid PRIMARY KEY,
    emp_id uuid NOT NULL,
    position bigint NOT NULL,  -- the causing event's place in the log: the feed's order
    type text NOT NULL,
    timestamp timestamptz NOT NULL,
    body text NOT NULL  -- the JSON body delivered, exactly
);
CREATE INDEX webhook_messages_feed ON webhook_messages (emp_id, position);

CREATE TABLE webhook_deliveries (
    message_id uuid NOT NULL REFERENCES webhook_messages (id),
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    emp_id uuid NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error text,
    next_attempt_at timestamptz NOT NULL,
    lease_until timestamptz,  -- a worker is delivering it until then
    created_at timestamptz NOT NULL,
    delivered_at timestamptz,
    PRIMARY KEY (message_id, endpoint_id)
);
-- The worker takes each endpoint's next due deliveries, so no endpoint's backlog hides another's.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (endpoint_id) WHERE state = 'failed';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at, message_id);

CREATE TABLE webhooks_tracking (application_name text PRIMARY KEY, notification_id bigint);
