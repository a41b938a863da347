ANALYZE users;
