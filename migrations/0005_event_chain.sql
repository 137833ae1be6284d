-- Each event's link in its stream's hash chain, written with the event in one transaction.
CREATE TABLE event_chain (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    link bytea NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
);
