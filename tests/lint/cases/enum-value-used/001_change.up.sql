ALTER TYPE mood ADD VALUE 'meh';
UPDATE people SET current_mood = 'meh' WHERE current_mood IS NULL;
