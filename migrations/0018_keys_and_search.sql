-- API keys say who holds them and when they were last used; customers are searched by their
-- name and e-mail folded (NFKD without combining marks, case-folded) in Python, as the
-- embedded PostgreSQL has no unaccent. Rows written before this get lower() here; a rebuild
-- (`chargeledger rebuild`) folds their accents too.
ALTER TABLE api_keys ADD COLUMN name text, ADD COLUMN last_used_at timestamptz;
DROP INDEX api_keys_emp;
CREATE INDEX api_keys_emp_created ON api_keys (emp_id, created_at, id);

ALTER TABLE customers ADD COLUMN name_folded text, ADD COLUMN email_folded text;
UPDATE customers SET name_folded = lower(name), email_folded = lower(email);
CREATE INDEX customers_emp_email_folded ON customers (emp_id, email_folded);

CREATE INDEX emps_page ON emps (created_at, id);
-- Sessions are listed by the existing (emp_id, ended_at) and (customer_id, ended_at) indexes.
