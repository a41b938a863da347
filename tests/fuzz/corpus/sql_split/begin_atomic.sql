CREATE OR REPLACE FUNCTION f(x int) RETURNS text LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN x > 0 THEN 'pos' ELSE 'neg' END;
  SELECT (CASE WHEN true THEN 1 END);
END;
create procedure p() begin atomic select 1e5end; select .5; end;
SELECT f(1);
