-- crlf
SELECT 1;

SELECT 'a;
b';
SELECT 3 -- cSELECT 4;
