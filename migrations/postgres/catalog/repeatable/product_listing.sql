-- What the shop's listing page reads: one row per product with its category.
-- A repeatable migration: edit it in place; `migrate up` applies it again when it changes.
CREATE OR REPLACE VIEW product_listing AS
SELECT p.id, p.sku, p.title, p.price_cents, c.slug AS category, p.created_at
FROM products p
JOIN categories c ON c.id = p.category_id;
