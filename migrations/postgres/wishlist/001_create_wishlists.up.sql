-- Disabled in config.yaml: shows that a module directory can wait for its feature flag.
CREATE TABLE wishlists (
    user_id     bigint NOT NULL REFERENCES users (id),
    product_id  bigint NOT NULL REFERENCES products (id),
    PRIMARY KEY (user_id, product_id)
);
