/* payment.h: the client of the payment provider's HTTP API (Stripe's, or
 * the local sandbox that speaks the same subset): PaymentIntents and
 * refunds over libcurl, answers read with json-c. */
#ifndef BOXOFFICE_PAYMENT_H
#define BOXOFFICE_PAYMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAYMENT_URL_MAX 512
#define PAYMENT_KEY_MAX 256
#define PAYMENT_ID_MAX 128 /* pi_..., re_..., ch_..., pm_... */
#define PAYMENT_CLIENT_SECRET_MAX 256
#define PAYMENT_CODE_MAX 64
#define PAYMENT_MESSAGE_MAX 256
#define PAYMENT_IDEMPOTENCY_KEY_MAX 255   /* Stripe's limit */
#define PAYMENT_FORM_MAX 4096             /* an encoded request body */
#define PAYMENT_RESPONSE_MAX (256 * 1024) /* a larger answer is treated as a network error */

/* What the caller passes in; payment_open copies it. */
struct payment_config {
    const char *base_url;    /* "https://api.stripe.com" or "http://127.0.0.1:12111", no
                                trailing path */
    const char *secret_key;  /* secret: sent as a bearer token, never logged */
    long timeout_ms;         /* whole of one attempt, connect included */
    long connect_timeout_ms; /* 0: min(timeout_ms, 3000) */
    int max_retries;         /* attempts after the first, on 429, 5xx and network errors */
    long retry_base_ms;      /* first backoff; doubles per retry, capped at 8 s; 0: 250 */
};

struct payment_client;

/* The outcome of one call, as the caller must act on it. */
enum payment_outcome {
    PAYMENT_SUCCEEDED = 0,           /* intent succeeded, or refund succeeded */
    PAYMENT_REQUIRES_PAYMENT_METHOD, /* created, or back to waiting for a card (no charge) */
    PAYMENT_DECLINED,                /* 402: the card was declined; error_code, decline_code and
                                        error_message say why; no money moved */
    PAYMENT_PROCESSING,      /* accepted but not final (processing, requires_action, a pending
                                refund): the webhook or a later retrieve settles it */
    PAYMENT_CANCELED,        /* the intent is canceled */
    PAYMENT_UNKNOWN,         /* the provider could not be reached or kept failing (timeouts,
                                429, 5xx after every retry, an unreadable 2xx): it MAY have acted;
                                reconcile later with payment_retrieve_intent or the webhook */
    PAYMENT_INVALID_REQUEST, /* the provider (or this client, before sending) refused the
                                request: bad parameters, unknown id, wrong state; error_code
                                and error_message say why; nothing changed */
    PAYMENT_AUTH_ERROR       /* 401/403: the secret key is wrong; an operator problem */
};

/* The provider's status of a PaymentIntent. */
enum payment_intent_status {
    PAYMENT_STATUS_NONE = 0, /* not known (no intent in the answer) */
    PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD,
    PAYMENT_STATUS_REQUIRES_CONFIRMATION,
    PAYMENT_STATUS_REQUIRES_ACTION,
    PAYMENT_STATUS_PROCESSING,
    PAYMENT_STATUS_REQUIRES_CAPTURE,
    PAYMENT_STATUS_CANCELED,
    PAYMENT_STATUS_SUCCEEDED,
    PAYMENT_STATUS_OTHER /* a status this client does not know */
};

/* Everything a call learned. Strings are NUL-terminated and empty when
 * absent; numbers are 0 when absent. Fixed size: nothing to free. */
struct payment_result {
    enum payment_outcome outcome;
    enum payment_intent_status status;
    int http_status; /* of the last attempt; 0 when no answer arrived */
    int attempts;    /* requests sent, retries included */
    bool replayed;   /* the provider answered from its idempotency store */
    char intent_id[PAYMENT_ID_MAX];
    char client_secret[PAYMENT_CLIENT_SECRET_MAX]; /* for the browser; not a server secret */
    char status_text[32];                          /* the provider's status word */
    int64_t amount;
    int64_t amount_received;
    char currency[8];
    char latest_charge[PAYMENT_ID_MAX];
    char refund_id[PAYMENT_ID_MAX];
    int64_t refund_amount;
    char error_type[PAYMENT_CODE_MAX];   /* card_error, invalid_request_error, ... */
    char error_code[PAYMENT_CODE_MAX];   /* card_declined, expired_card, resource_missing, ... */
    char decline_code[PAYMENT_CODE_MAX]; /* insufficient_funds, generic_decline, ... */
    char error_param[PAYMENT_CODE_MAX];
    char error_message[PAYMENT_MESSAGE_MAX]; /* the provider's, or the network error's */
};

/* Opens a client with one reused curl handle (keep-alive to the provider).
 * Returns NULL when cfg is unusable (no base URL or key, too long, timeout
 * <= 0, max_retries < 0) or out of memory. One client per process or
 * thread: it is not safe to share. Call curl_global_init once before the
 * first client when the program has threads. */
struct payment_client *payment_open(const struct payment_config *cfg);
void payment_close(struct payment_client *client);

/* Every call below fills *out completely (cleared first) and returns
 * out->outcome. Ids, payment methods and idempotency keys are checked
 * first (ids and payment methods: 1..PAYMENT_ID_MAX-1 of [A-Za-z0-9_];
 * idempotency keys: 1..255 printable ASCII bytes); a bad one is
 * PAYMENT_INVALID_REQUEST with error_code "invalid_argument" and nothing is
 * sent. Retries (429, 5xx, network errors, timeouts) reuse the same
 * idempotency key, so at most one charge results; 4xx and 402 are never
 * retried. A call can take up to (max_retries+1) * timeout_ms plus the
 * backoff. */

/* POST /v1/payment_intents: amount (minor units, >= 1), currency (three
 * letters), metadata[hold_id] (the hold being bought: checkout makes the
 * intent before the order), payment_method_types[]=card. Success is
 * PAYMENT_REQUIRES_PAYMENT_METHOD with intent_id and client_secret. */
enum payment_outcome payment_create_intent(struct payment_client *client, int64_t amount,
                                           const char *currency, int64_t hold_id,
                                           const char *idempotency_key, struct payment_result *out)
    __attribute__((warn_unused_result));

/* POST /v1/payment_intents/{id}/confirm with payment_method. Use a fresh
 * idempotency key per attempt with a new card: the provider replays a
 * decline to a reused key. */
enum payment_outcome payment_confirm_intent(struct payment_client *client, const char *intent_id,
                                            const char *payment_method, const char *idempotency_key,
                                            struct payment_result *out)
    __attribute__((warn_unused_result));

/* GET /v1/payment_intents/{id}: how reconciliation learns the truth. */
enum payment_outcome payment_retrieve_intent(struct payment_client *client, const char *intent_id,
                                             struct payment_result *out)
    __attribute__((warn_unused_result));

/* POST /v1/payment_intents/{id}/cancel. */
enum payment_outcome payment_cancel_intent(struct payment_client *client, const char *intent_id,
                                           const char *idempotency_key, struct payment_result *out)
    __attribute__((warn_unused_result));

/* POST /v1/refunds with payment_intent and, when amount > 0, amount (0:
 * whatever is left). Success is PAYMENT_SUCCEEDED with refund_id and
 * refund_amount. */
enum payment_outcome payment_refund(struct payment_client *client, const char *intent_id,
                                    int64_t amount, const char *idempotency_key,
                                    struct payment_result *out) __attribute__((warn_unused_result));

/* One name=value pair of a form; both are raw text (bracket keys such as
 * "metadata[order_id]" included) that the encoder escapes. */
struct payment_form_field {
    const char *name;
    const char *value;
};

/* Writes fields as application/x-www-form-urlencoded ("a=1&b=2") into out
 * (cap bytes, NUL-terminated): A-Z a-z 0-9 and "*-._" stay, a space
 * becomes '+', every other byte (UTF-8 included) becomes %XX in upper-case
 * hex. Returns the length written, or -1 when it would not fit (out is then
 * an empty string). */
long payment_form_encode(const struct payment_form_field *fields, size_t count, char *out,
                         size_t cap) __attribute__((warn_unused_result));

/* Reads one provider answer (http_status and its JSON body, body_len bytes)
 * into *out, as every call does after its last attempt; exposed so tests
 * can feed sample bodies. Fills outcome, status, ids, amounts and error
 * fields, and returns out->outcome. A 2xx body that is not a payment_intent
 * or refund object is PAYMENT_UNKNOWN. Does not clear *out first (attempts
 * and replayed survive). */
enum payment_outcome payment_parse_response(int http_status, const char *body, size_t body_len,
                                            struct payment_result *out);

/* Our API's error for a call that did not succeed: a snake_case code, a
 * sentence for the customer and the HTTP status to answer with. */
struct payment_api_error {
    int http_status;
    const char *code; /* static strings: nothing to free */
    const char *message;
};

/* Maps result to our API error. Declines keep the card's reason where the
 * customer can act on it (expired_card, incorrect_cvc, insufficient_funds)
 * and read "card_declined" otherwise (lost, stolen, fraudulent: Stripe asks
 * merchants not to reveal those). Returns false, leaving *out untouched,
 * for outcomes that are not errors (succeeded, requires_payment_method,
 * processing, canceled). */
bool payment_api_error_from_result(const struct payment_result *result,
                                   struct payment_api_error *out);

/* Short lowercase names for logs and JSON ("succeeded", "declined",
 * "unknown", ...; "requires_payment_method", "processing", ...). */
const char *payment_outcome_name(enum payment_outcome outcome);
const char *payment_intent_status_name(enum payment_intent_status status);

#endif
