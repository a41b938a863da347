SELECT 1;
SELECT E'a' 'b\'; SELECT 'never closed;