-- Lab seed data (lab/vaulthalla/provision.yml), part 2, after the vaults exist:
-- role assignments, a share link and a vault-scoped cost policy. Idempotent.
\set ON_ERROR_STOP on
INSERT INTO vault_role_assignments (vault_id, subject_type, subject_id, role_id)
SELECT v.id, 'group', g.id, r.id FROM vault v, groups g, vault_role r
WHERE v.name = 'local-docs' AND g.name = 'engineering' AND r.name = 'editor'
ON CONFLICT DO NOTHING;

INSERT INTO vault_role_assignments (vault_id, subject_type, subject_id, role_id)
SELECT v.id, 'user', u.id, r.id FROM vault v, users u, vault_role r
WHERE v.name = 's3-secure' AND u.name = 'carol' AND r.name = 'viewer'
ON CONFLICT DO NOTHING;

INSERT INTO share_link (token_hash, vault_id, root_path, link_type, access_mode, created_by, expires_at)
SELECT 'sha256:5f0c6a1e8c1b4b0d9b7e7d1f2a3c4e5f60718293a4b5c6d7e8f9011223344556', v.id, '/docs', 'access',
       'public', u.id, TIMESTAMPTZ '2030-01-01 00:00:00+00'
FROM vault v, users u WHERE v.name = 'local-docs' AND u.name = 'alice'
ON CONFLICT (token_hash) DO NOTHING;

INSERT INTO s3_price_budget_policy (scope, vault_id, mode, max_run_cost, max_daily_cost, max_monthly_cost)
SELECT 'vault', v.id, 'enforce', 1.50, 3.00, 40.00 FROM vault v
WHERE v.name = 's3-secure'
  AND NOT EXISTS (SELECT 1 FROM s3_price_budget_policy p WHERE p.scope = 'vault' AND p.vault_id = v.id);
