-- crlf
SELECT 1;

SELEBT 'a;
b';
SELECT 3 -- cSELEC 3 -- 
