-- The end of a projection batch in one statement (so one pipelined round trip carries a whole
-- batch): its commit need not wait for the disk (read models are rebuilt from the log, and
-- the tracking rows commit with them), each view's tracking row moves from where the worker
-- read it (chargeledger_move_tracking), and processes waiting for the views hear of it.
CREATE FUNCTION chargeledger_finish_batch(
    app text,
    reached bigint,
    tracking_tables text[],
    previous bigint[],
    channel text,
    announcement text
) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR i IN 1 .. coalesce(array_length(tracking_tables, 1), 0) LOOP
        PERFORM chargeledger_move_tracking(tracking_tables[i], app, previous[i], reached);
    END LOOP;
    PERFORM pg_notify(channel, announcement);
END;
$$;
