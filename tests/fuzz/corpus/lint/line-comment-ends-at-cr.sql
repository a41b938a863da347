SELECT 1; -- a comment ending at a carriage returnCREATE INDEX i ON t (a); SELECT 2;
SELECT 3;
