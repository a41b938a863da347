CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET seen = now();
  RETURN NEW;
END $$;
