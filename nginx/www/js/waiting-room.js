// waiting-room.js: the standalone waiting-room page
// (/waiting-room.html?event=ID): joins the line once (solving the
// proof of work in a Web Worker when the sale asks for it), then polls its
// place as often as the server says, and moves on to the event page when
// admitted (the access cookie is set by the status answer).
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const eventId = Number(params.get('event'));
  const $ = (id) => document.getElementById(id);
  const storeKey = 'queue-token-' + eventId;
  let firstAhead = null;

  function say(text, kind) {
    const el = $('state');
    el.textContent = text;
    el.className = kind || '';
  }

  function duration(s) {
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.round(s / 60) + ' min';
    return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
  }

  async function call(method, path, body) {
    const res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let json = null;
    try { json = await res.json(); } catch (e) { /* no body */ }
    return { status: res.status, json, retryAfter: Number(res.headers.get('Retry-After')) || 0 };
  }

  function solve(challenge, bits) {
    return new Promise((resolve, reject) => {
      const worker = new Worker('/js/pow-worker.js');
      worker.onmessage = (m) => {
        if (m.data.nonce !== undefined) { worker.terminate(); resolve(m.data.nonce); }
        else say('Proving you are not a bot… (' + m.data.tried + ' tries)');
      };
      worker.onerror = (e) => { worker.terminate(); reject(e); };
      worker.postMessage({ challenge, bits });
    });
  }

  async function join() {
    let r = await call('POST', '/api/queue/' + eventId + '/join');
    if (r.status === 403 && r.json && r.json.error.code === 'pow_required') {
      const ch = await call('GET', '/api/queue/' + eventId + '/challenge');
      if (ch.status !== 200) return ch;
      say('Proving you are not a bot…');
      const nonce = await solve(ch.json.challenge, ch.json.pow_bits);
      r = await call('POST', '/api/queue/' + eventId + '/join', { challenge: ch.json.challenge, nonce });
    }
    return r;
  }

  function show(s) {
    $('position').textContent = s.position == null ? 'drawn when the sale opens' : s.position;
    $('ahead').textContent = s.ahead == null ? '–' : s.ahead.toLocaleString();
    $('eta').textContent = s.eta_s == null ? '–' : duration(s.eta_s);
    if (s.ahead != null) {
      if (firstAhead === null || s.ahead > firstAhead) firstAhead = Math.max(s.ahead, 1);
      const pct = Math.round(100 * (1 - s.ahead / firstAhead));
      $('bar').value = pct;
      $('bar').textContent = pct + '%';
    }
  }

  async function poll(token) {
    const r = await call('GET', '/api/queue/' + eventId + '/status?token=' + encodeURIComponent(token));
    if (r.status === 429) return setTimeout(() => poll(token), (r.retryAfter || 2) * 1000);
    if (r.status === 401) { sessionStorage.removeItem(storeKey); return start(); }
    if (r.status !== 200) return setTimeout(() => poll(token), 5000);
    const s = r.json;
    if (s.token) { token = s.token; sessionStorage.setItem(storeKey, token); }
    show(s);
    switch (s.state) {
      case 'admitted':
      case 'open':
        $('bar').value = 100;
        say("It's your turn! Taking you to the event…", 'good');
        setTimeout(() => { location.href = '/#/event/' + eventId; }, 800);
        return;
      case 'sold_out':
        say('Sorry, this sale is sold out. If tickets come back, this page will tell you.', 'bad');
        break;
      case 'expired':
        say('Your turn has passed. Your admission lasted a limited time.', 'bad');
        return;
      default:
        say(s.pre_queue ? 'You are in the line before the sale opens: places are drawn at random when it opens.'
                        : 'You are in line. Please keep this page open.');
    }
    setTimeout(() => poll(token), Math.max(1, s.poll_after_s || 5) * 1000);
  }

  async function start() {
    const saved = sessionStorage.getItem(storeKey);
    if (saved) return poll(saved);
    const r = await join();
    if (r.status === 401) {
      say('Please sign in first, then come back to this page.', 'bad');
      $('back').href = '/#/queue/' + eventId;
      $('back').textContent = 'Sign in';
      return;
    }
    if (r.status === 429) return setTimeout(start, (r.retryAfter || 2) * 1000);
    if (r.status !== 200) {
      say((r.json && r.json.error && r.json.error.message) || 'Could not join the line.', 'bad');
      return;
    }
    sessionStorage.setItem(storeKey, r.json.token);
    show({ position: r.json.position });
    poll(r.json.token);
  }

  if (!(eventId > 0)) {
    say('No event given.', 'bad');
    return;
  }
  $('back').href = '/#/event/' + eventId;
  fetch('/api/events/' + eventId).then((r) => r.json()).then((e) => {
    $('event').textContent = 'for ' + e.title;
  }).catch(() => { $('event').textContent = 'for event ' + eventId; });
  start().catch(() => say('Something went wrong; reload the page to try again.', 'bad'));
})();
