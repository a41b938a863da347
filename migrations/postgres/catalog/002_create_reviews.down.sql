DROP VIEW product_ratings;
DROP TABLE reviews;
