-- Dunning (domain/dunning.py): a customer's state in dunning, as GET /v1/customers/{id} shows it
-- ({"since", "step", "overdue_minor", "blocked"}; NULL: not in dunning), written inline with
-- the customer's events; the Recurring Payment job also finds the customers to dun by it.
ALTER TABLE customers ADD COLUMN dunning_json text;
CREATE INDEX customers_in_dunning ON customers (emp_id, id) WHERE dunning_json IS NOT NULL;
CREATE INDEX invoices_open_due ON invoices (due_at) WHERE status = 'open';
