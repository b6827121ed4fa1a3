/* session_memory.c: a fixed table of recently confirmed session digests in
 * shared memory. Each slot is guarded by a sequence number (odd while being
 * written), so readers never see half an entry and nobody ever waits: a
 * writer that finds a slot busy simply does not remember (it is a cache). */
#include "session_memory.h"

#include "crypto.h"

#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#define SESSION_MEMORY_SLOTS 16384 /* a power of two; ~1 MB */
#define SESSION_MEMORY_WAYS 4      /* neighbouring slots a digest may live in */
#define SESSION_DIGEST_WORDS 4     /* 32 bytes as 64-bit words */

struct session_slot {
    uint64_t seq;                          /* odd while a writer is inside */
    uint64_t digest[SESSION_DIGEST_WORDS];
    int64_t until_ms;                      /* 0: empty or forgotten */
};

static struct session_slot *session_slots;

bool session_memory_init(void)
{
    size_t size = sizeof(struct session_slot) * SESSION_MEMORY_SLOTS;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    memset(p, 0, size);
    session_slots = p;
    return true;
}

void session_memory_close(void)
{
    if (session_slots != NULL)
        munmap(session_slots, sizeof(struct session_slot) * SESSION_MEMORY_SLOTS);
    session_slots = NULL;
}

/* Decodes 64 hex digits into four words; false for anything else. */
static bool session_digest(const char *hex, uint64_t out[SESSION_DIGEST_WORDS])
{
    if (hex == NULL || strlen(hex) != 2 * 8 * SESSION_DIGEST_WORDS)
        return false;
    for (int w = 0; w < SESSION_DIGEST_WORDS; w++) {
        uint64_t word = 0;
        for (int i = 0; i < 16; i++) {
            int v = crypto_hex_value(hex[w * 16 + i]);
            if (v < 0)
                return false;
            word = word << 4 | (uint64_t)v;
        }
        out[w] = word;
    }
    return true;
}

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Reads a slot consistently; false when it was being written meanwhile. */
static bool session_read(struct session_slot *slot, uint64_t digest[SESSION_DIGEST_WORDS],
                         int64_t *until_ms)
{
    uint64_t before = load(&slot->seq);
    if (before & 1)
        return false;
    for (int w = 0; w < SESSION_DIGEST_WORDS; w++)
        digest[w] = load(&slot->digest[w]);
    *until_ms = (int64_t)load((uint64_t *)&slot->until_ms);
    return load(&slot->seq) == before;
}

/* Takes a slot for writing (seq made odd); false when another writer has it. */
static bool session_lock(struct session_slot *slot, uint64_t *seq)
{
    uint64_t expected = load(&slot->seq);
    if (expected & 1)
        return false;
    if (!__atomic_compare_exchange_n(&slot->seq, &expected, expected + 1, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return false;
    *seq = expected + 1;
    return true;
}

static void session_write(struct session_slot *slot, uint64_t seq,
                          const uint64_t digest[SESSION_DIGEST_WORDS], int64_t until_ms)
{
    for (int w = 0; w < SESSION_DIGEST_WORDS; w++)
        store(&slot->digest[w], digest[w]);
    store((uint64_t *)&slot->until_ms, (uint64_t)until_ms);
    store(&slot->seq, seq + 1);
}

static struct session_slot *session_way(const uint64_t digest[SESSION_DIGEST_WORDS], int way)
{
    /* The digest is uniformly random: its first word is the hash. */
    return &session_slots[(digest[0] + (uint64_t)way) & (SESSION_MEMORY_SLOTS - 1)];
}

static bool session_same(const uint64_t a[SESSION_DIGEST_WORDS],
                         const uint64_t b[SESSION_DIGEST_WORDS])
{
    uint64_t diff = 0;
    for (int w = 0; w < SESSION_DIGEST_WORDS; w++)
        diff |= a[w] ^ b[w];
    return diff == 0;
}

void session_memory_remember(const char *token_hash_hex, int64_t now_ms, int64_t ttl_ms)
{
    uint64_t digest[SESSION_DIGEST_WORDS], seen[SESSION_DIGEST_WORDS];
    int64_t until;
    struct session_slot *target = NULL;
    int64_t target_until = INT64_MAX;

    if (session_slots == NULL || ttl_ms <= 0 || !session_digest(token_hash_hex, digest))
        return;
    /* The digest's own slot if it has one, else the one that lapses first. */
    for (int way = 0; way < SESSION_MEMORY_WAYS; way++) {
        struct session_slot *slot = session_way(digest, way);
        if (!session_read(slot, seen, &until))
            continue;
        if (session_same(seen, digest)) {
            target = slot;
            break;
        }
        if (until < target_until) {
            target = slot;
            target_until = until;
        }
    }
    uint64_t seq;
    if (target != NULL && session_lock(target, &seq))
        session_write(target, seq, digest, now_ms + ttl_ms);
}

bool session_memory_knows(const char *token_hash_hex, int64_t now_ms)
{
    uint64_t digest[SESSION_DIGEST_WORDS], seen[SESSION_DIGEST_WORDS];
    int64_t until;

    if (session_slots == NULL || !session_digest(token_hash_hex, digest))
        return false;
    for (int way = 0; way < SESSION_MEMORY_WAYS; way++) {
        struct session_slot *slot = session_way(digest, way);
        if (session_read(slot, seen, &until) && session_same(seen, digest))
            return until > now_ms;
    }
    return false;
}

void session_memory_forget(const char *token_hash_hex)
{
    uint64_t digest[SESSION_DIGEST_WORDS], seen[SESSION_DIGEST_WORDS];
    int64_t until;
    static const uint64_t none[SESSION_DIGEST_WORDS];

    if (session_slots == NULL || !session_digest(token_hash_hex, digest))
        return;
    for (int way = 0; way < SESSION_MEMORY_WAYS; way++) {
        struct session_slot *slot = session_way(digest, way);
        /* Writers are a few stores long: retry rather than miss the entry.
         * A slot left odd by a writer that died mid-write never reads as
         * valid again, so giving up on it forgets nothing that counts. */
        uint64_t seq;
        bool locked = false;
        for (int attempt = 0; attempt < 1000 && !locked; attempt++) {
            if (!session_read(slot, seen, &until))
                continue;
            if (!session_same(seen, digest))
                break;
            locked = session_lock(slot, &seq);
        }
        if (locked)
            session_write(slot, seq, none, 0);
    }
}
