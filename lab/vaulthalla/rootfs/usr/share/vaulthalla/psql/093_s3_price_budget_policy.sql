-- LAB STAND-IN schema: cost control for S3 vaults (facts note: scope
-- global/provider/vault, mode off/report/warn/enforce, max run/daily/monthly cost).
CREATE TABLE IF NOT EXISTS s3_price_budget_policy
(
    id               SERIAL PRIMARY KEY,
    scope            VARCHAR(8) NOT NULL CHECK (scope IN ('global', 'provider', 'vault')),
    provider_key     TEXT,
    vault_id         INTEGER REFERENCES vault (id) ON DELETE CASCADE,
    mode             VARCHAR(8) NOT NULL DEFAULT 'off' CHECK (mode IN ('off', 'report', 'warn', 'enforce')),
    currency         VARCHAR(8) NOT NULL DEFAULT 'USD',
    max_run_cost     NUMERIC(20, 8),
    max_daily_cost   NUMERIC(20, 8),
    max_monthly_cost NUMERIC(20, 8),
    is_active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((scope = 'global' AND provider_key IS NULL AND vault_id IS NULL)
        OR (scope = 'provider' AND provider_key IS NOT NULL AND vault_id IS NULL)
        OR (scope = 'vault' AND vault_id IS NOT NULL))
);

CREATE UNIQUE INDEX IF NOT EXISTS s3_price_budget_policy_one_global
    ON s3_price_budget_policy (scope) WHERE scope = 'global';
CREATE UNIQUE INDEX IF NOT EXISTS s3_price_budget_policy_one_per_provider
    ON s3_price_budget_policy (provider_key) WHERE scope = 'provider';
CREATE UNIQUE INDEX IF NOT EXISTS s3_price_budget_policy_one_per_vault
    ON s3_price_budget_policy (vault_id) WHERE scope = 'vault';
