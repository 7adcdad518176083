-- LAB STAND-IN schema: sync policy and state of S3/R2 vaults (`vh vault sync info`).
CREATE TABLE IF NOT EXISTS sync
(
    vault_id         INTEGER PRIMARY KEY REFERENCES vault (id) ON DELETE CASCADE,
    strategy         VARCHAR(12) NOT NULL DEFAULT 'cache' CHECK (strategy IN ('cache', 'sync', 'mirror')),
    conflict_policy  VARCHAR(12) NOT NULL DEFAULT 'keep_both' CHECK (conflict_policy IN ('keep_both', 'overwrite', 'ask')),
    interval_seconds INTEGER NOT NULL DEFAULT 300,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    last_sync_at     TIMESTAMPTZ,
    last_success_at  TIMESTAMPTZ,
    last_result      TEXT
);
