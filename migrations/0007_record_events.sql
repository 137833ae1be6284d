-- A save in one statement: the log's table lock, the wake-up NOTIFY, the events and their chain
-- links, and the events' notification ids back, in one round trip and one transaction. The
-- same steps as the eventsourcing recorder's pipelined transaction, with none of its client
-- work per event. The lock is held to the commit, so events commit in notification-id order.
CREATE FUNCTION chargeledger_record_events(
    events_table text,
    channel text,
    lock_timeout text,
    originator_ids uuid[],
    versions bigint[],
    topics text[],
    states bytea[],
    links bytea[]
) RETURNS SETOF bigint
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('lock_timeout', lock_timeout, true);
    EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', events_table);
    EXECUTE format('NOTIFY %I', channel);
    RETURN QUERY EXECUTE format(
        'INSERT INTO %I (originator_id, originator_version, topic, state)'
        ' SELECT * FROM unnest($1, $2, $3, $4) RETURNING notification_id',
        events_table
    ) USING originator_ids, versions, topics, states;
    -- After the events: a repeated event fails as itself (a unique violation on the log).
    INSERT INTO event_chain (originator_id, originator_version, link)
    SELECT * FROM unnest(originator_ids, versions, links);
END;
$$;
