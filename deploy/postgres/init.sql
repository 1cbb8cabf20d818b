-- Runs once, when the docker-compose PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
-- One schema per service; each service's migrations own the tables inside its schema.
CREATE SCHEMA IF NOT EXISTS gateway;
CREATE SCHEMA IF NOT EXISTS connector;
CREATE SCHEMA IF NOT EXISTS router;
