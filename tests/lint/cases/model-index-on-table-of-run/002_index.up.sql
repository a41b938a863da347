-- invoices was created by the file before, in the same run: it has no rows, no readers
CREATE INDEX invoices_account ON invoices (account_id);
ALTER TABLE invoices ADD CONSTRAINT invoices_total_positive CHECK (total > 0);
ALTER TABLE invoices ALTER COLUMN total SET NOT NULL;
