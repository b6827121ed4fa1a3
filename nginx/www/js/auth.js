// auth.js: sign up, sign in, and the guard pages use when they need a user.
import { currentUser, post, setCurrentUser } from './api.js';
import { $, esc, focusHeading, go, render, showError } from './ui.js';
import { refreshWho } from './app.js';

function nextFrom(query) {
  const n = query.get('next') || '#/';
  return n.startsWith('#/') && !n.startsWith('#/sign') ? n : '#/';
}

// requireUser(): the user, or null after sending them to sign in.
export async function requireUser(why) {
  const u = await currentUser();
  if (u) return u;
  go(`#/signin?next=${encodeURIComponent(location.hash)}${why ? `&why=${encodeURIComponent(why)}` : ''}`);
  return null;
}

export async function signin({ query }) {
  const next = nextFrom(query);
  const why = query.get('why');
  render(`
    <section class="card narrow">
      <h1>Sign in</h1>
      ${why ? `<p class="alert info">${esc(why)}</p>` : ''}
      <form id="f" novalidate>
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" required>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <p id="msg" class="alert" aria-live="assertive"></p>
        <div class="actions"><button type="submit">Sign in</button></div>
      </form>
      <p>New here? <a href="#/signup?next=${encodeURIComponent(next)}">Create an account</a></p>
    </section>`, 'Sign in');
  focusHeading();
  $('#f').addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = $('#email').value.trim();
    const password = $('#password').value;
    if (!email || !password) { showError($('#msg'), 'Please enter your email and password.'); return; }
    const btn = e.submitter || $('#f button');
    btn.disabled = true;
    try {
      const r = await post('/api/sessions', { email, password });
      setCurrentUser(r.user);
      await refreshWho();
      go(next);
    } catch (err) {
      showError($('#msg'), err);
      btn.disabled = false;
    }
  });
}

export async function signup({ query }) {
  const next = nextFrom(query);
  render(`
    <section class="card narrow">
      <h1>Create an account</h1>
      <form id="f" novalidate>
        <label for="name">Your name</label>
        <input id="name" name="name" autocomplete="name" required>
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" required>
        <label for="password">Password <span class="hint">(at least 8 characters)</span></label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
        <p id="msg" class="alert" aria-live="assertive"></p>
        <div class="actions"><button type="submit">Create account</button></div>
      </form>
      <p>Already have an account? <a href="#/signin?next=${encodeURIComponent(next)}">Sign in</a></p>
    </section>`, 'Sign up');
  focusHeading();
  $('#f').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('#name').value.trim();
    const email = $('#email').value.trim();
    const password = $('#password').value;
    if (!name || !email) { showError($('#msg'), 'Please enter your name and email.'); return; }
    if (password.length < 8) { showError($('#msg'), 'Please choose a password of at least 8 characters.'); return; }
    const btn = $('#f button');
    btn.disabled = true;
    try {
      await post('/api/users', { email, password, name });
      const r = await post('/api/sessions', { email, password });
      setCurrentUser(r.user);
      await refreshWho();
      go(next);
    } catch (err) {
      showError($('#msg'), err);
      btn.disabled = false;
    }
  });
}
