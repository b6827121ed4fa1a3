/* checkout_bench.c: the load generator of bench/checkout_bench.sh. Each of
 * N threads is a buyer loop over one keep-alive connection for D seconds,
 * as a different signed-in user each time. MODE full: hold (best
 * available), checkout (with an Idempotency-Key), pay (pm_card_visa).
 * MODE hold: the hold step alone (the same stack's ceiling). MODE sandbox:
 * create and confirm a PaymentIntent directly at the provider (URL is the
 * sandbox, TOKENS_FILE holds its secret key: the provider's ceiling).
 * Prints paid orders and tickets, per-step status counts and latency
 * percentiles.
 *   checkout_bench MODE URL TOKENS_FILE EVENT_ID QUANTITY THREADS SECONDS */
#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define STEPS 3
#define MAX_SAMPLES 2000000
#define BODY_MAX 65536

static const char *step_names[STEPS] = {"hold", "checkout", "pay"};
static const char *sandbox_step_names[STEPS] = {"create", "confirm", "unused"};

struct buffer {
    char data[BODY_MAX];
    size_t len;
};

struct shared {
    const char *mode;
    const char *url;
    char **tokens;
    size_t token_count;
    long event_id;
    int quantity;
    double deadline;
    pthread_mutex_t lock;
    size_t next_token;
    /* results */
    double *samples[STEPS];
    size_t sample_count[STEPS];
    long status_counts[STEPS][600];
    long paid_orders;
    long paid_tickets;
    long other_outcomes;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *user)
{
    struct buffer *b = user;
    size_t len = size * n;
    if (b->len + len >= sizeof(b->data))
        len = sizeof(b->data) - 1 - b->len;
    memcpy(b->data + b->len, ptr, len);
    b->len += len;
    b->data[b->len] = '\0';
    return size * n;
}

/* One POST; returns the HTTP status (0 on a transport error) and records
 * the latency of step. */
static long post(struct shared *sh, CURL *curl, int step, const char *path, const char *body,
                 struct curl_slist *headers, struct buffer *out)
{
    char url[512];
    long status = 0;
    snprintf(url, sizeof(url), "%s%s", sh->url, path);
    out->len = 0;
    out->data[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    double t0 = now_s();
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    double dt = now_s() - t0;
    pthread_mutex_lock(&sh->lock);
    if (sh->sample_count[step] < MAX_SAMPLES)
        sh->samples[step][sh->sample_count[step]++] = dt;
    sh->status_counts[step][status >= 0 && status < 600 ? status : 0]++;
    pthread_mutex_unlock(&sh->lock);
    return status;
}

static long json_id(const char *text, const char *outer)
{
    json_object *root = json_tokener_parse(text);
    json_object *obj = root, *v = NULL;
    long id = 0;
    if (root != NULL && outer != NULL && !json_object_object_get_ex(root, outer, &obj))
        obj = NULL;
    if (obj != NULL && json_object_object_get_ex(obj, "id", &v))
        id = (long)json_object_get_int64(v);
    json_object_put(root);
    return id;
}

static int json_ticket_count(const char *text)
{
    json_object *root = json_tokener_parse(text);
    json_object *status = NULL, *tickets = NULL;
    int n = -1;
    if (root != NULL && json_object_object_get_ex(root, "status", &status) &&
        strcmp(json_object_get_string(status), "paid") == 0 &&
        json_object_object_get_ex(root, "tickets", &tickets))
        n = (int)json_object_array_length(tickets);
    json_object_put(root);
    return n;
}

static void *buyer(void *arg)
{
    struct shared *sh = arg;
    struct buffer *buf = malloc(sizeof(*buf));
    CURL *curl = curl_easy_init();
    char path[256], body[128], auth[256], key[128];
    unsigned long iteration = 0;

    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    while (now_s() < sh->deadline) {
        pthread_mutex_lock(&sh->lock);
        const char *token = sh->tokens[sh->next_token++ % sh->token_count];
        pthread_mutex_unlock(&sh->lock);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        snprintf(key, sizeof(key), "Idempotency-Key: bench-%lx-%lu-%ld",
                 (unsigned long)pthread_self(), iteration++, (long)time(NULL));
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        h = curl_slist_append(h, auth);
        struct curl_slist *hk = curl_slist_append(NULL, "Content-Type: application/json");
        hk = curl_slist_append(hk, auth);
        hk = curl_slist_append(hk, key);
        if (strcmp(sh->mode, "sandbox") == 0) {
            /* The provider alone: what one paid order costs it. */
            struct curl_slist *hf =
                curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
            hf = curl_slist_append(hf, auth);
            long st =
                post(sh, curl, 0, "/v1/payment_intents", "amount=10000&currency=inr", hf, buf);
            char *id = st == 200 ? strstr(buf->data, "\"id\": \"pi_") : NULL;
            if (id != NULL) {
                char intent[64];
                snprintf(intent, sizeof(intent), "%.30s", id + 7);
                intent[strcspn(intent, "\"")] = '\0';
                snprintf(path, sizeof(path), "/v1/payment_intents/%s/confirm", intent);
                st = post(sh, curl, 1, path, "payment_method=pm_card_visa", hf, buf);
                pthread_mutex_lock(&sh->lock);
                if (st == 200) {
                    sh->paid_orders++;
                    sh->paid_tickets += sh->quantity;
                }
                pthread_mutex_unlock(&sh->lock);
            }
            curl_slist_free_all(hf);
            curl_slist_free_all(h);
            curl_slist_free_all(hk);
            continue;
        }

        snprintf(path, sizeof(path), "/api/events/%ld/holds", sh->event_id);
        snprintf(body, sizeof(body), "{\"quantity\":%d}", sh->quantity);
        long st = post(sh, curl, 0, path, body, h, buf);
        long hold = st == 201 ? json_id(buf->data, NULL) : 0;
        if (hold > 0 && strcmp(sh->mode, "hold") == 0) {
            pthread_mutex_lock(&sh->lock);
            sh->paid_orders++; /* held, for this mode's count */
            sh->paid_tickets += sh->quantity;
            pthread_mutex_unlock(&sh->lock);
        } else if (hold > 0) {
            snprintf(path, sizeof(path), "/api/holds/%ld/checkout", hold);
            st = post(sh, curl, 1, path, "", hk, buf);
            long order = st == 201 ? json_id(buf->data, "order") : 0;
            if (order > 0) {
                snprintf(path, sizeof(path), "/api/orders/%ld/pay", order);
                st = post(sh, curl, 2, path, "{\"payment_method\":\"pm_card_visa\"}", h, buf);
                int tickets = st == 200 ? json_ticket_count(buf->data) : -1;
                pthread_mutex_lock(&sh->lock);
                if (tickets > 0) {
                    sh->paid_orders++;
                    sh->paid_tickets += tickets;
                } else {
                    sh->other_outcomes++;
                }
                pthread_mutex_unlock(&sh->lock);
            }
        }
        curl_slist_free_all(h);
        curl_slist_free_all(hk);
    }
    curl_easy_cleanup(curl);
    free(buf);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i] * 1000.0;
}

int main(int argc, char **argv)
{
    struct shared sh;
    if (argc != 8) {
        fprintf(stderr, "usage: checkout_bench full|hold|sandbox URL TOKENS EVENT_ID QUANTITY "
                        "THREADS SECONDS\n");
        return 2;
    }
    argv++;
    memset(&sh, 0, sizeof(sh));
    sh.mode = argv[0];
    sh.url = argv[1];
    sh.event_id = strtol(argv[3], NULL, 10);
    sh.quantity = (int)strtol(argv[4], NULL, 10);
    int threads = (int)strtol(argv[5], NULL, 10);
    double seconds = strtod(argv[6], NULL);
    FILE *f = fopen(argv[2], "r");
    if (f == NULL || threads < 1 || threads > 1024 || seconds <= 0)
        return 2;
    char line[256];
    size_t cap = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (sh.token_count == cap) {
            cap = cap ? cap * 2 : 1024;
            sh.tokens = realloc(sh.tokens, cap * sizeof(*sh.tokens));
        }
        sh.tokens[sh.token_count++] = strdup(line);
    }
    fclose(f);
    if (sh.token_count == 0)
        return 2;
    for (int s = 0; s < STEPS; s++)
        sh.samples[s] = malloc(MAX_SAMPLES * sizeof(double));
    pthread_mutex_init(&sh.lock, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double start = now_s();
    sh.deadline = start + seconds;
    pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, buyer, &sh);
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    double elapsed = now_s() - start;

    printf("ELAPSED %.2f\n", elapsed);
    printf("PAID_ORDERS %ld\nPAID_TICKETS %ld\nOTHER %ld\n", sh.paid_orders, sh.paid_tickets,
           sh.other_outcomes);
    printf("TICKETS_PER_MIN %.0f\n", (double)sh.paid_tickets / elapsed * 60.0);
    /* The load generator's own CPU, so that its share can be told apart. */
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0)
        printf("CPU_S %.2f\n", (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                                   (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
    bool sandbox = strcmp(sh.mode, "sandbox") == 0;
    for (int s = 0; s < STEPS; s++) {
        if (sh.sample_count[s] == 0)
            continue;
        qsort(sh.samples[s], sh.sample_count[s], sizeof(double), cmp_double);
        printf("STEP %s n=%zu rps=%.0f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f statuses=",
               sandbox ? sandbox_step_names[s] : step_names[s], sh.sample_count[s],
               (double)sh.sample_count[s] / elapsed,
               percentile(sh.samples[s], sh.sample_count[s], 50),
               percentile(sh.samples[s], sh.sample_count[s], 99),
               percentile(sh.samples[s], sh.sample_count[s], 100));
        for (int c = 0; c < 600; c++)
            if (sh.status_counts[s][c] > 0)
                printf("%d:%ld,", c, sh.status_counts[s][c]);
        printf("\n");
    }
    return 0;
}
