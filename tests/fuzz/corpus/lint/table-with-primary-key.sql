CREATE TABLE page_views (id bigint GENERATED ALWAYS AS IDENTITY, url text, PRIMARY KEY (id));
