-- A projection's tracked position moves only from where its worker read it, checked in the
-- worker's own pipelined transaction: no round trip of its own, and a worker that lost the race
-- to another (one per process, by mistake) fails its whole batch with a unique violation.
CREATE FUNCTION chargeledger_move_tracking(
    tracking_table text, app text, previous bigint, reached bigint
) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    moved integer;
BEGIN
    IF previous = 0 THEN
        EXECUTE format(
            'INSERT INTO %I (application_name, notification_id) VALUES ($1, $2)'
            ' ON CONFLICT (application_name) DO NOTHING', tracking_table
        ) USING app, reached;
    ELSE
        EXECUTE format(
            'UPDATE %I SET notification_id = $2 WHERE application_name = $1 AND notification_id = $3',
            tracking_table
        ) USING app, reached, previous;
    END IF;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved = 0 THEN
        RAISE unique_violation USING MESSAGE = format(
            '%s: %s is no longer at %s; another worker moved it', tracking_table, app, previous
        );
    END IF;
END;
$$;
