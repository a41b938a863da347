/* leading; comment */ -- and a line; comment
SELECT /* a /* b; */ still; */ 1;
SELECT 2*/* x; */3, 4<--;
5;
/* /* */ ; */ SELECT 6;
