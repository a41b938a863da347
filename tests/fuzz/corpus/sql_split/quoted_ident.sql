SELECT 1 AS "a;b", 2 AS "x"";y", 3 AS U&"d\0061;";
SELECT "unterminated; ident
