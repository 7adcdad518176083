-- LAB STAND-IN schema: audit log (the stand-in records key/secret exports here).
CREATE TABLE IF NOT EXISTS audit_log
(
    id          BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    linux_uid   INTEGER,
    action      TEXT NOT NULL,
    target      TEXT,
    detail      JSONB
);
