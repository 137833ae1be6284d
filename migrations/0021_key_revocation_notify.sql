-- Every process remembers the keys it verified a moment ago (api/verified_keys.py) and forgets
-- one when it hears this: however a key stops working - the API's DELETE, an UPDATE of
-- revoked_at by hand, the row deleted - a NOTIFY carries its id when that transaction commits.
CREATE FUNCTION chargeledger_api_key_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('chargeledger_api_key_revoked', OLD.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_key_revoked
AFTER UPDATE OF revoked_at OR DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION chargeledger_api_key_revoked();
