-- A save's NOTIFY says how far the log now reaches (its last notification id): a projection
-- worker that has applied that far knows there is nothing to read, and wakes for its own
-- process's saves without reading the log back. Otherwise the same steps as 0007.
CREATE OR REPLACE FUNCTION chargeledger_record_events(
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
DECLARE
    ids bigint[];
BEGIN
    PERFORM set_config('lock_timeout', lock_timeout, true);
    EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', events_table);
    -- Ids come from the sequence in insertion order (the lock admits one writer at a time).
    EXECUTE format(
        'WITH inserted AS (INSERT INTO %I (originator_id, originator_version, topic, state)'
        ' SELECT * FROM unnest($1, $2, $3, $4) RETURNING notification_id)'
        ' SELECT array_agg(notification_id ORDER BY notification_id) FROM inserted',
        events_table
    ) INTO ids USING originator_ids, versions, topics, states;
    PERFORM pg_notify(channel, ids[array_upper(ids, 1)]::text);
    -- After the events: a repeated event fails as itself (a unique violation on the log).
    INSERT INTO event_chain (originator_id, originator_version, link)
    SELECT * FROM unnest(originator_ids, versions, links);
    RETURN QUERY SELECT unnest(ids);
END;
$$;
