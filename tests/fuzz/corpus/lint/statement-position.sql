SET lock_timeout = '5s';
/* a comment
   over lines */ CREATE INDEX users_name_idx
  ON users (name);
