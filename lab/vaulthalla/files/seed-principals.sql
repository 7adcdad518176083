-- Lab seed data (lab/vaulthalla/provision.yml), part 1: principals, roles and the
-- global/provider cost policies. Idempotent: every insert skips existing rows.
\set ON_ERROR_STOP on
INSERT INTO users (name, email, password_hash, role) VALUES
    ('admin', 'admin@vh-lab.invalid', '$lab$not-a-real-hash$admin', 'super_admin'),
    ('alice', 'alice@vh-lab.invalid', '$lab$not-a-real-hash$alice', 'admin'),
    ('bob', 'bob@vh-lab.invalid', '$lab$not-a-real-hash$bob', 'user'),
    ('carol', 'carol@vh-lab.invalid', '$lab$not-a-real-hash$carol', 'user')
ON CONFLICT (name) DO NOTHING;

INSERT INTO groups (name, description) VALUES
    ('engineering', 'Engineering team'),
    ('finance', 'Finance team')
ON CONFLICT (name) DO NOTHING;

INSERT INTO group_members (group_id, user_id)
SELECT g.id, u.id FROM (VALUES ('engineering', 'alice'), ('engineering', 'bob'), ('finance', 'carol'),
                               ('finance', 'alice')) AS m (grp, usr)
JOIN groups g ON g.name = m.grp JOIN users u ON u.name = m.usr
ON CONFLICT DO NOTHING;

INSERT INTO vault_role (name, description, permissions) VALUES
    ('viewer', 'Read files and list directories', '{list,read,download}'),
    ('editor', 'Read and change files', '{list,read,download,upload,rename,delete,share}')
ON CONFLICT (name) DO NOTHING;

INSERT INTO s3_price_budget_policy (scope, mode, max_run_cost, max_daily_cost, max_monthly_cost)
SELECT 'global', 'warn', 5.00, 20.00, 250.00
WHERE NOT EXISTS (SELECT 1 FROM s3_price_budget_policy WHERE scope = 'global');

INSERT INTO s3_price_budget_policy (scope, provider_key, mode, max_daily_cost, max_monthly_cost)
SELECT 'provider', 'aws-s3', 'report', 10.00, 100.00
WHERE NOT EXISTS (SELECT 1 FROM s3_price_budget_policy WHERE scope = 'provider' AND provider_key = 'aws-s3');
