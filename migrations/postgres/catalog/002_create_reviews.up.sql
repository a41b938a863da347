-- Reviews of products by users, with a view of each product's average rating.
CREATE TABLE reviews (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id),
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product_id, user_id)
);
CREATE VIEW product_ratings AS
    SELECT product_id, avg(rating)::numeric(3, 2) AS average, count(*) AS reviews
    FROM reviews GROUP BY product_id;
