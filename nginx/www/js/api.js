// api.js: the one way the UI talks to /api/. JSON in and out, the session
// cookie rides along. A lost connection, a 502/503/504 or a 429 is retried
// with backoff while a banner says so; every API error becomes an ApiError
// whose .friendly is worded for a buyer.

const banner = () => document.getElementById('net-banner');

function say(text) {
  const b = banner();
  if (!b) return;
  if (text) {
    b.textContent = text;
    b.hidden = false;
  } else {
    b.hidden = true;
    b.textContent = '';
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || (status === 0 ? 'network' : `http_${status}`);
    this.details = err;
    this.friendly = friendly(this.code, err, status);
  }
}

const PLAIN = {
  seats_unavailable: 'Sorry, someone else just took {seats}. We have marked them as taken; please pick other seats.',
  sold_out: 'Sold out: there are no seats left that match what you asked for.',
  hold_expired: 'Your hold ran out of time and the seats were released. Please pick your seats again.',
  hold_not_found: 'That hold no longer exists. Please pick your seats again.',
  limit_exceeded: 'You have reached the limit of tickets one person can buy for this event.',
  not_admitted: 'This sale uses a waiting room, and it is not your turn yet. Join the queue and we will bring you back.',
  not_on_sale: 'Tickets for this event are not on sale yet.',
  sale_closed: 'The sale for this event has closed.',
  unauthorized: 'Please sign in to continue.',
  forbidden: 'This page is for box office staff only.',
  bad_credentials: 'That email and password do not match an account.',
  email_taken: 'There is already an account with this email. Sign in instead.',
  unknown_category: 'There is no such price category for this event.',
  event_not_found: 'We could not find this event.',
  order_not_found: 'We could not find this order.',
  rate_limited: 'Lots of people are buying right now. Please try again in a moment.',
  unavailable: 'The box office is briefly unavailable. Please try again in a moment.',
  database_unavailable: 'The box office is briefly unavailable. Please try again in a moment.',
  network: 'We could not reach the box office. Check your connection and try again.',
  card_declined: 'Your card was declined. You have not been charged; please try another card.',
  expired_card: 'Your card has expired. You have not been charged; please try another card.',
  incorrect_cvc: "Your card's security code is incorrect. You have not been charged; please try another card.",
  processing_error: 'The card could not be processed. You have not been charged; please try again.',
  insufficient_funds: 'Your card has insufficient funds. You have not been charged; please try another card.',
  order_expired: 'This order ran out of time before it was paid. Please pick your seats again.',
  not_cancellable: 'This order can no longer be cancelled.',
  no_seats: 'There are not enough seats left on this train for everyone in this booking.',
  pnr_not_found: 'We could not find a booking with that PNR.',
};

export function friendly(code, err = {}, status = 0) {
  if (code === 'seats_unavailable') {
    const n = (err.unavailable || []).length;
    return PLAIN[code].replace('{seats}', n === 1 ? 'a seat you picked' : n > 1 ? `${n} of the seats you picked` : 'some of the seats you picked');
  }
  if (PLAIN[code]) return PLAIN[code];
  if (code && code.startsWith('invalid_')) {
    const field = code.slice(8).replace(/_/g, ' ');
    return `Please check the ${field}${err.message ? `: ${err.message}` : '.'}`;
  }
  if (status === 404) return 'We could not find what you were looking for.';
  if (status >= 500) return 'Something went wrong at the box office. Please try again.';
  return err.message || 'Something went wrong. Please try again.';
}

// A decline from the payment provider, as the pay endpoint reports it.
export function paymentErrorText(pe) {
  if (!pe) return '';
  if (typeof pe === 'string') return PLAIN[pe] || pe;
  const code = pe.decline_code && PLAIN[pe.decline_code] ? pe.decline_code : pe.code;
  return PLAIN[code] || (pe.message ? `${pe.message} You have not been charged.` : PLAIN.card_declined);
}

// The server's clock minus ours (from the Date header), for countdowns.
let clockSkew = 0;
export const serverNow = () => Date.now() + clockSkew;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// request(method, path, body, opts): the parsed JSON (null for 204).
// opts.retry: retry on a lost connection (default: true for GET/DELETE or
// when an Idempotency-Key is given). 429 is always retried (not processed).
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const safe = opts.retry ?? (method === 'GET' || method === 'DELETE' || !!headers['Idempotency-Key']);
  const maxTries = opts.tries ?? 6;
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        signal: opts.signal,
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      if (!safe || attempt >= maxTries) {
        say('');
        throw new ApiError(0, null);
      }
      say(`Connection lost. Retrying in ${Math.round(delay / 1000) || 1} s (attempt ${attempt + 1} of ${maxTries})…`);
      await sleep(delay);
      delay = Math.min(delay * 2, 8000);
      continue;
    }
    const retryable = res.status === 429 || ((res.status === 502 || res.status === 503 || res.status === 504) && safe);
    if (retryable && attempt < maxTries) {
      const after = Number(res.headers.get('Retry-After')) * 1000 || delay;
      say(res.status === 429
        ? 'Lots of people are buying right now. Trying again in a moment…'
        : `The box office is briefly unavailable. Retrying in ${Math.round(after / 1000) || 1} s…`);
      await sleep(after);
      delay = Math.min(delay * 2, 8000);
      continue;
    }
    say('');
    const d = Date.parse(res.headers.get('Date') || '');
    // The header has whole seconds: correct only a clear difference.
    if (Number.isFinite(d)) {
      const skew = d + 500 - Date.now();
      clockSkew = Math.abs(skew) > 1500 ? skew : 0;
    }
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }
}

export const get = (p, o) => request('GET', p, undefined, o);
export const post = (p, b, o) => request('POST', p, b ?? {}, o);
export const patch = (p, b, o) => request('PATCH', p, b, o);
export const del = (p, o) => request('DELETE', p, undefined, o);

// The signed-in user, cached for the page's life (null when signed out).
let me;
export async function currentUser(force = false) {
  if (me !== undefined && !force) return me;
  try {
    me = await get('/api/me', { tries: 3 });
  } catch (e) {
    if (e.status === 401) me = null;
    else throw e;
  }
  return me;
}
export function setCurrentUser(u) { me = u; }

// Money in minor units -> "₹1,500.00".
export function money(amount, currency = 'INR') {
  try {
    return new Intl.NumberFormat('en-IN', { style: 'currency', currency }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// A random key for Idempotency-Key headers.
export function randomKey() {
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}
