-- Accounts and sessions. Password hashing happens in C (yescrypt); the
-- database stores hashes and session token digests only.

CREATE OR REPLACE FUNCTION user_json(p_user_id bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', id, 'email', email, 'name', name, 'is_admin', is_admin,
                             'created_at', created_at)
    FROM users WHERE id = p_user_id
$$;

-- The user behind a session token digest, when the session is live.
CREATE OR REPLACE FUNCTION session_user_of(p_token_hash bytea)
RETURNS TABLE (user_id bigint, is_admin boolean) LANGUAGE sql STABLE AS $$
    SELECT u.id, u.is_admin FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = p_token_hash AND s.expires_at > now()
$$;
