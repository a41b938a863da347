SELECT 1;
/* never closed; SELECT 2; /* */ 