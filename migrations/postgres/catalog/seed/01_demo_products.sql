-- Sample categories and products to click through in development.
-- migrate:env dev
INSERT INTO categories (slug, title) VALUES ('kitchen', 'Kitchen') ON CONFLICT DO NOTHING;
INSERT INTO products (sku, category_id, title, price_cents)
SELECT 'K-' || n, (SELECT id FROM categories WHERE slug = 'kitchen'), 'Kitchen thing ' || n, 100 * n
FROM generate_series(1, 3) AS n
ON CONFLICT DO NOTHING;
