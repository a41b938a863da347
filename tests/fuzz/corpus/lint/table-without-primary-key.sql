CREATE TABLE page_views (url text, seen_at timestamptz);
