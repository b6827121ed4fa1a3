// queue.js: the way from the booking app into the waiting room. The
// waiting room itself is its own page, /waiting-room.html?event=ID (it
// joins the line, solves the proof of work, shows the place, people
// ahead, ETA and progress, and comes back to the event when admitted).
// Joining needs a signed-in buyer, so this route signs them in first.
import { requireUser } from './auth.js';
import { render } from './ui.js';

export async function queue({ parts }) {
  const id = Number(parts[1]);
  if (!(await requireUser('Sign in to join the waiting room. Your place is kept for your account.'))) return;
  render('<h1>Waiting room</h1><p class="loading">Taking you to the waiting room…</p>', 'Waiting room');
  location.assign(`/waiting-room.html?event=${id}`);
}
