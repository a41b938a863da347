SET lock_timeout = '5s';
ALTER TABLE orders ADD C'NSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
