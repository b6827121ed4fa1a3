/* session_memory.h: sessions the database confirmed a moment ago, shared by
 * every worker process (one anonymous shared mapping made before fork).
 *
 * It exists for one purpose: a flash sale's late arrivals are answered
 * "sold out" from memory, and that answer must still go only to someone
 * signed in (a forged or ended token gets 401, never a hint about stock).
 * Only answers that change nothing may rely on it; whatever writes checks
 * the session in the database, as before. Keys are the SHA-256 digests of
 * session tokens (hex, as req->token_hash holds them), never tokens.
 *
 * A session that ends elsewhere (sign-out on another host, expiry) may still
 * hear "sold out" for up to session_memory_ms (default 60 s); it can do
 * nothing else. Shorter times send a crowd's retries back to the database:
 * each user costs one database trip per period per host. */
#ifndef BOXOFFICE_SESSION_MEMORY_H
#define BOXOFFICE_SESSION_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

/* Maps the shared table; call once before forking. False when the mapping
 * failed (nothing is then remembered, and every question says no). */
bool session_memory_init(void) __attribute__((warn_unused_result));

/* Unmaps the table (tests; the server keeps it for its lifetime). */
void session_memory_close(void);

/* Remembers that the session with this token digest was valid at now_ms,
 * trusting it until now_ms + ttl_ms. A digest that is not 64 hex digits is
 * ignored. Lock-free; a concurrent writer to the same slot may win. */
void session_memory_remember(const char *token_hash_hex, int64_t now_ms, int64_t ttl_ms);

/* True when the digest was remembered and has not lapsed at now_ms. */
bool session_memory_knows(const char *token_hash_hex, int64_t now_ms);

/* Forgets the digest at once (the user signed out through this host). */
void session_memory_forget(const char *token_hash_hex);

#endif
