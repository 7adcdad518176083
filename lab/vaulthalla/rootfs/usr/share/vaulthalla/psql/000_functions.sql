-- LAB STAND-IN for Vaulthalla's schema files (/usr/share/vaulthalla/psql/*.sql):
-- the daemon applies them itself, in name order, on every start (facts note:
-- "it creates its schema itself from /usr/share/vaulthalla/psql/*.sql").
-- A simplified schema with the tables the backup/restore drills touch.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;
