-- Vault's database login (user vault, created by its caller: compose's primary-init.sh, or Terraform in
-- deploy/terraform/vault, both NOINHERIT) may rotate the passwords of the four service roles and do nothing else.
-- PostgreSQL 16 (Aurora runs 16, compose 16.10): ALTER ROLE ... PASSWORD on another role needs CREATEROLE plus
-- ADMIN on that role, and the membership that carries ADMIN also carries:
--   INHERIT FALSE  Vault's login never has the service roles' privileges (no SELECT on their tables);
--   SET FALSE      it cannot SET ROLE to one of them either.
-- So a leaked Vault database credential reads no service data without visibly changing a service's password.
-- PostgreSQL 15 has no INHERIT or SET option on a grant: there, NOINHERIT on the login is what keeps the privileges
-- out, and SET ROLE stays possible (tests/Deploy.Tests/PostgresVaultLoginTests.cs runs what 15 can).
GRANT catalog_app, catalog_migrator, assets_app, assets_migrator TO vault WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;
