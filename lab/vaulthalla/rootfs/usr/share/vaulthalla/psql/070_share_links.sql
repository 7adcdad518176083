-- LAB STAND-IN schema: public share links.
CREATE TABLE IF NOT EXISTS share_link
(
    id          SERIAL PRIMARY KEY,
    token_hash  TEXT UNIQUE NOT NULL,
    vault_id    INTEGER NOT NULL REFERENCES vault (id) ON DELETE CASCADE,
    root_path   TEXT NOT NULL DEFAULT '/',
    link_type   VARCHAR(8) NOT NULL DEFAULT 'access' CHECK (link_type IN ('access', 'upload')),
    access_mode VARCHAR(8) NOT NULL DEFAULT 'public' CHECK (access_mode IN ('public', 'email', 'password')),
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
