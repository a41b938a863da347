SELECT E'it\'s; \\', e'\x41;' -- escapes
  '\'; continued';
SELECT 'plain \'; SELECT U&'d\0061t;a', B'10', X'1F', N'n;';
