// app.js: the shell (navigation, who is signed in) and the hash router.
// Pages live in their own modules and are loaded when first visited.
import { currentUser, del, setCurrentUser } from './api.js';
import { esc, leave, main, parseHash, render } from './ui.js';

const routes = [
  [/^\/?$/, () => import('./home.js'), 'home'],
  [/^\/search$/, () => import('./home.js'), 'home'],
  [/^\/signin$/, () => import('./auth.js'), 'signin'],
  [/^\/signup$/, () => import('./auth.js'), 'signup'],
  [/^\/event\/\d+$/, () => import('./event.js'), 'event'],
  [/^\/hold\/\d+$/, () => import('./checkout.js'), 'hold'],
  [/^\/order\/\d+$/, () => import('./checkout.js'), 'order'],
  [/^\/orders$/, () => import('./checkout.js'), 'orders'],
  [/^\/queue\/\d+$/, () => import('./queue.js'), 'queue'],
  [/^\/trains$/, () => import('./trains.js'), 'trains'],
  [/^\/train\/[^/]+\/[^/]+$/, () => import('./trains.js'), 'train'],
  [/^\/pnr(\/[^/]+)?$/, () => import('./trains.js'), 'pnr'],
  [/^\/admin$/, () => import('./admin.js'), 'admin'],
  [/^\/admin\/event\/\d+$/, () => import('./admin.js'), 'adminEvent'],
];

async function route() {
  leave();
  const { path, parts, query } = parseHash();
  for (const a of document.querySelectorAll('#nav a')) {
    const href = a.getAttribute('href').slice(1);
    const current = href === '/' ? path === '/' || path === '' || path.startsWith('/event') : path.startsWith(href);
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.getElementById('nav').classList.remove('open');
  const hit = routes.find(([re]) => re.test(path));
  if (!hit) {
    render('<h1>Page not found</h1><p><a href="#/">See what is on</a></p>', 'Not found');
    return;
  }
  main().setAttribute('aria-busy', 'true');
  try {
    const mod = await hit[1]();
    await mod[hit[2]]({ parts, query });
  } catch (e) {
    console.error(e);
    render(`<h1>Something went wrong</h1><p class="alert error" role="alert">${esc(e.friendly || 'This page could not be shown. Please reload.')}</p><p><a href="#/">Back to events</a></p>`, 'Error');
  } finally {
    main().removeAttribute('aria-busy');
  }
}

export async function refreshWho() {
  const who = document.getElementById('who');
  let u = null;
  try { u = await currentUser(); } catch { u = null; }
  document.querySelector('[data-admin]').hidden = !(u && u.is_admin);
  if (u) {
    who.innerHTML = `<span>Signed in as ${esc(u.name || u.email)}</span> <button type="button" id="signout">Sign out</button>`;
    document.getElementById('signout').addEventListener('click', async () => {
      try { await del('/api/sessions'); } catch { /* signed out anyway */ }
      setCurrentUser(null);
      refreshWho();
      location.hash = '#/';
    });
  } else {
    const next = encodeURIComponent(location.hash || '#/');
    who.innerHTML = `<a href="#/signin?next=${next}">Sign in</a> <a href="#/signup?next=${next}">Sign up</a>`;
  }
}

document.querySelector('.menu-toggle').addEventListener('click', (e) => {
  const nav = document.getElementById('nav');
  const open = nav.classList.toggle('open');
  e.currentTarget.setAttribute('aria-expanded', String(open));
});
window.addEventListener('hashchange', () => { route(); refreshWho(); });
window.addEventListener('offline', () => {
  const b = document.getElementById('net-banner');
  b.textContent = 'You are offline. We will carry on when the connection is back.';
  b.hidden = false;
});
window.addEventListener('online', () => { document.getElementById('net-banner').hidden = true; });
refreshWho();
route();
