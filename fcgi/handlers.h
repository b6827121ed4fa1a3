/* handlers.h: every request handler, grouped by the file that holds it.
 * Each takes the decoded request and fills the response; route.c maps
 * URLs to them. */
#ifndef BOXOFFICE_HANDLERS_H
#define BOXOFFICE_HANDLERS_H

#include "http.h"

/* h_ops.c */
void h_ops_healthz(struct request *req, struct response *res);
void h_ops_metrics(struct request *req, struct response *res);

/* h_account.c */
void h_account_signup(struct request *req, struct response *res);
void h_account_signin(struct request *req, struct response *res);
void h_account_signout(struct request *req, struct response *res);
void h_account_me(struct request *req, struct response *res);

/* h_event.c */
void h_event_list(struct request *req, struct response *res);
void h_event_show(struct request *req, struct response *res);
void h_event_seats(struct request *req, struct response *res);
void h_venue_show(struct request *req, struct response *res);

/* h_hold.c */
void h_hold_create(struct request *req, struct response *res);
void h_hold_show(struct request *req, struct response *res);
void h_hold_release(struct request *req, struct response *res);

/* h_order.c */
void h_order_checkout(struct request *req, struct response *res);
void h_order_pay(struct request *req, struct response *res);
void h_order_cancel(struct request *req, struct response *res);
void h_order_show(struct request *req, struct response *res);
void h_order_list(struct request *req, struct response *res);

/* h_payment.c */
void h_payment_webhook(struct request *req, struct response *res);

/* h_queue.c */
void h_queue_join(struct request *req, struct response *res);
void h_queue_status(struct request *req, struct response *res);
void h_queue_challenge(struct request *req, struct response *res);
void h_queue_fairness(struct request *req, struct response *res);

/* h_search.c */
void h_search_query(struct request *req, struct response *res);
void h_search_suggest(struct request *req, struct response *res);

/* h_train.c */
void h_train_stations(struct request *req, struct response *res);
void h_train_search(struct request *req, struct response *res);
void h_train_run_show(struct request *req, struct response *res);
void h_train_book(struct request *req, struct response *res);
void h_train_pnr_show(struct request *req, struct response *res);
void h_train_pnr_cancel(struct request *req, struct response *res);
void h_train_import(struct request *req, struct response *res);
void h_train_run_class_set(struct request *req, struct response *res);

/* h_admin.c */
void h_admin_venue_create(struct request *req, struct response *res);
void h_admin_event_create(struct request *req, struct response *res);
void h_admin_event_update(struct request *req, struct response *res);
void h_admin_event_stats(struct request *req, struct response *res);

#endif
