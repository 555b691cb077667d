-- Databases and least-privilege roles for the services. One source for every environment that is not AWS:
-- ./run.sh, the tests and docker-compose apply this file as the superuser. In AWS the same objects are created by
-- deploy/terraform/vault (Vault's database secrets engine then owns the passwords of these roles).
--
-- Per service: <svc>_migrator owns the schema and runs migrations (the `migrate` Job); <svc>_app is what the
-- service connects as and only has DML on the tables the migrator creates.
--
-- DEV-ONLY CREDENTIALS: the passwords below exist so a laptop works before Vault rotates them. Never reuse them.

CREATE ROLE catalog_migrator LOGIN PASSWORD 'dev-only-catalog-migrator';
CREATE ROLE catalog_app LOGIN PASSWORD 'dev-only-catalog-app';
CREATE DATABASE catalog OWNER catalog_migrator;
REVOKE ALL ON DATABASE catalog FROM PUBLIC;
GRANT CONNECT ON DATABASE catalog TO catalog_app;

CREATE ROLE assets_migrator LOGIN PASSWORD 'dev-only-assets-migrator';
CREATE ROLE assets_app LOGIN PASSWORD 'dev-only-assets-app';
CREATE DATABASE assets OWNER assets_migrator;
REVOKE ALL ON DATABASE assets FROM PUBLIC;
GRANT CONNECT ON DATABASE assets TO assets_app;

\connect catalog
CREATE SCHEMA catalog AUTHORIZATION catalog_migrator;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA catalog TO catalog_app;
ALTER DEFAULT PRIVILEGES FOR ROLE catalog_migrator IN SCHEMA catalog GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO catalog_app;
ALTER DEFAULT PRIVILEGES FOR ROLE catalog_migrator IN SCHEMA catalog GRANT USAGE, SELECT ON SEQUENCES TO catalog_app;

\connect assets
CREATE SCHEMA assets AUTHORIZATION assets_migrator;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA assets TO assets_app;
ALTER DEFAULT PRIVILEGES FOR ROLE assets_migrator IN SCHEMA assets GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO assets_app;
ALTER DEFAULT PRIVILEGES FOR ROLE assets_migrator IN SCHEMA assets GRANT USAGE, SELECT ON SEQUENCES TO assets_app;
