CREATE TABLE wishlists (id bigserial PRIMARY KEY, user_id bigint NOT NULL);
