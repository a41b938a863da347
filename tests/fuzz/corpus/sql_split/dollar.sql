DO $$ BEGIN PERFORM 1; END $$;
SELECT $a$ one; $b$ two; $ab$ three; $A$ four $a$;
SELECT $fn$ $$nested;$$ $fn$, a$b$, x$$;
PREPARE p(int) AS SELECT $1, $12$;
SELECT $abc; SELECT $;
