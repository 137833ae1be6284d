-- Sign-ins to the support page (api/support_sessions.py): the browser holds a random session id,
-- the server its SHA-256 and the key it was opened with (id and role, never the key itself).
CREATE TABLE support_sessions (
    id_sha256 bytea PRIMARY KEY,
    key_id uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    emp_id uuid NOT NULL,
    role text NOT NULL,
    -- Sent back in every form of the session and checked on each POST (cross-site request forgery).
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_sessions_key ON support_sessions (key_id);
CREATE INDEX support_sessions_created ON support_sessions (created_at);
