// seatmap.js: a venue's seats drawn on one canvas from the layout
// coordinates. Stays responsive at 20,000 seats: drawing is batched per
// colour into one path, only visible seats are drawn, and hit-testing uses
// a grid hash. Zoom (wheel, pinch, buttons, clicking a section), pan
// (drag), pick (click/tap), and full keyboard operation with a live region
// that reads each seat out for screen readers.
//
// Colours: the Okabe-Ito palette (safe for the common colour-vision
// deficiencies); status is also shown by shape: available = filled disc,
// held = hollow ring, sold = grey with a cross, selected = dark ring with a
// tick, keyboard focus = dashed square.

export const CATEGORY_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const GREY = '#9a9a9a';
const DARK = '#1a1a1a';

export class SeatMap {
  constructor(root, { venue, seats, prices, currency, money, maxSelect = 8, onChange }) {
    this.root = root;
    this.venue = venue;
    this.seats = seats;
    this.money = money;
    this.currency = currency;
    this.maxSelect = maxSelect;
    this.onChange = onChange || (() => {});
    this.selected = new Set();
    this.byId = new Map();
    this.grid = new Map();
    this.priceOf = new Map((prices || []).map((p) => [p.category, p.amount]));
    const cats = [...new Set([...(prices || []).map((p) => p.category), ...seats.map((s) => s.category)])].sort();
    this.colourOf = new Map(cats.map((c, i) => [c, CATEGORY_COLOURS[i % CATEGORY_COLOURS.length]]));
    for (const s of seats) {
      this.byId.set(s.id, s);
      const k = `${Math.floor(s.x)},${Math.floor(s.y)}`;
      const cell = this.grid.get(k);
      if (cell) cell.push(s); else this.grid.set(k, [s]);
    }
    // World bounds: the venue's box, or the seats' when it has none.
    let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
    for (const s of seats) {
      minX = Math.min(minX, s.x); minY = Math.min(minY, s.y); maxX = Math.max(maxX, s.x); maxY = Math.max(maxY, s.y);
    }
    for (const sec of venue.sections || []) {
      minX = Math.min(minX, sec.x); minY = Math.min(minY, sec.y);
      maxX = Math.max(maxX, sec.x + sec.width); maxY = Math.max(maxY, sec.y + sec.height);
    }
    if (!Number.isFinite(minX)) { minX = 0; minY = 0; maxX = 10; maxY = 10; }
    this.world = { x: minX - 1, y: minY - 1, w: maxX - minX + 2, h: maxY - minY + 2 };
    this.sections = (venue.sections || []).map((s) => ({ ...s }));
    this.focus = null;
    this.build();
  }

  build() {
    this.root.classList.add('seatmap');
    this.root.innerHTML = '';
    const tools = document.createElement('div');
    tools.className = 'seatmap-tools';
    tools.innerHTML = `
      <button type="button" data-act="in" aria-label="Zoom in">+</button>
      <button type="button" data-act="out" aria-label="Zoom out">−</button>
      <button type="button" data-act="fit">Whole venue</button>
      <span class="seatmap-hint">Click a section to zoom in, then pick seats. Keyboard: arrows move, Enter picks, + and − zoom.</span>`;
    tools.addEventListener('click', (e) => {
      const act = e.target.closest('button')?.dataset.act;
      if (act === 'in') this.zoomBy(1.6);
      else if (act === 'out') this.zoomBy(1 / 1.6);
      else if (act === 'fit') this.fit();
    });
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'application');
    this.canvas.setAttribute('aria-roledescription', 'seat map');
    this.canvas.setAttribute('aria-label', `Seat map of ${this.venue.name || 'the venue'}, ${this.seats.length} seats. Use the arrow keys to move from seat to seat, Enter or Space to pick or unpick a seat, plus and minus to zoom, Escape to see the whole venue.`);
    this.live = document.createElement('p');
    this.live.className = 'visually-hidden';
    this.live.setAttribute('aria-live', 'polite');
    this.live.id = 'seat-announcer';
    this.tip = document.createElement('div');
    this.tip.className = 'seatmap-tip';
    this.tip.hidden = true;
    const wrap = document.createElement('div');
    wrap.className = 'seatmap-canvas-wrap';
    wrap.append(this.canvas, this.tip);
    this.root.append(tools, wrap, this.live, this.legend(), this.sectionList());
    this.ctx = this.canvas.getContext('2d');
    this.resize();
    this.fit();
    this.ro = new ResizeObserver(() => { this.resize(); this.clampView(); this.draw(); });
    this.ro.observe(wrap);
    this.bindPointer();
    this.bindKeys();
  }

  legend() {
    const el = document.createElement('ul');
    el.className = 'seatmap-legend';
    const item = (kind, colour, text) => {
      const li = document.createElement('li');
      const c = document.createElement('canvas');
      c.width = 22; c.height = 22;
      c.setAttribute('aria-hidden', 'true');
      const g = c.getContext('2d');
      this.drawSeat(g, 11, 11, 8, kind, colour);
      li.append(c, document.createTextNode(text));
      return li;
    };
    for (const [cat, colour] of this.colourOf) {
      const price = this.priceOf.get(cat);
      el.append(item('available', colour, `Category ${cat}${price != null ? ` · ${this.money(price, this.currency)}` : ''}`));
    }
    el.append(item('selected', this.colourOf.values().next().value || CATEGORY_COLOURS[0], 'Your pick (ring with tick)'));
    el.append(item('held', GREY, 'Held by someone (hollow ring)'));
    el.append(item('sold', GREY, 'Sold (cross)'));
    return el;
  }

  sectionList() {
    const det = document.createElement('details');
    det.className = 'seatmap-sections';
    const sum = document.createElement('summary');
    sum.textContent = 'Sections';
    det.append(sum);
    const ul = document.createElement('ul');
    this.sectionButtons = new Map();
    for (const sec of this.sections) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.addEventListener('click', () => { this.zoomToSection(sec); this.focusFirstIn(sec.name); this.canvas.focus(); });
      this.sectionButtons.set(sec.name, b);
      li.append(b);
      ul.append(li);
    }
    det.append(ul);
    this.updateSectionList();
    return det;
  }

  updateSectionList() {
    if (!this.sectionButtons) return;
    const free = new Map();
    for (const s of this.seats) if (s.status === 'available') free.set(s.section, (free.get(s.section) || 0) + 1);
    for (const sec of this.sections) {
      const price = this.priceOf.get(sec.category);
      this.sectionButtons.get(sec.name).textContent =
        `${sec.name} · category ${sec.category}${price != null ? ` · ${this.money(price, this.currency)}` : ''} · ${free.get(sec.name) || 0} free`;
    }
  }

  resize() {
    const wrap = this.canvas.parentElement;
    const w = Math.max(200, wrap.clientWidth);
    const aspect = this.world.h / this.world.w;
    const h = Math.round(Math.min(Math.max(260, w * aspect), window.innerHeight * 0.7));
    const dpr = window.devicePixelRatio || 1;
    this.cssW = w; this.cssH = h; this.dpr = dpr;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
  }

  // View transform: screen = (world - origin) * scale.
  fit() {
    this.scale = Math.min(this.cssW / this.world.w, this.cssH / this.world.h);
    this.ox = this.world.x - (this.cssW / this.scale - this.world.w) / 2;
    this.oy = this.world.y - (this.cssH / this.scale - this.world.h) / 2;
    this.minScale = this.scale;
    this.draw();
  }

  clampView() {
    if (this.scale < this.minScale) this.scale = this.minScale;
  }

  zoomAt(factor, sx, sy) {
    const wx = this.ox + sx / this.scale; const wy = this.oy + sy / this.scale;
    this.scale = Math.min(Math.max(this.scale * factor, this.minScale || 0.1), 80);
    this.ox = wx - sx / this.scale; this.oy = wy - sy / this.scale;
    this.draw();
  }

  zoomBy(factor) {
    if (this.focus && this.isVisible(this.focus)) {
      const [sx, sy] = this.toScreen(this.focus.x, this.focus.y);
      this.zoomAt(factor, sx, sy);
    } else this.zoomAt(factor, this.cssW / 2, this.cssH / 2);
  }

  zoomToSection(sec) {
    const pad = 1.5;
    const w = sec.width + pad * 2; const h = sec.height + pad * 2;
    this.scale = Math.min(this.cssW / w, this.cssH / h, 60);
    this.ox = sec.x - pad - (this.cssW / this.scale - w) / 2;
    this.oy = sec.y - pad - (this.cssH / this.scale - h) / 2;
    this.zoomedSection = sec.name;
    this.draw();
  }

  toScreen(x, y) { return [(x - this.ox) * this.scale, (y - this.oy) * this.scale]; }
  toWorld(sx, sy) { return [this.ox + sx / this.scale, this.oy + sy / this.scale]; }
  isVisible(s) {
    const [sx, sy] = this.toScreen(s.x, s.y);
    return sx >= 0 && sy >= 0 && sx <= this.cssW && sy <= this.cssH;
  }
  // Seats are big enough to pick one by one.
  get detailed() { return this.scale >= 7; }

  // For tests and tools: where seat `id` is on the page now.
  seatClientPoint(id) {
    const s = this.byId.get(id);
    if (!s) return null;
    const r = this.canvas.getBoundingClientRect();
    const [sx, sy] = this.toScreen(s.x, s.y);
    return { x: r.left + sx, y: r.top + sy };
  }

  sectionAt(wx, wy) {
    return this.sections.find((s) => wx >= s.x && wx <= s.x + s.width && wy >= s.y && wy <= s.y + s.height);
  }

  seatAt(wx, wy) {
    let best = null; let bd = 0.36; // within ~0.6 seat pitch
    const cx = Math.floor(wx); const cy = Math.floor(wy);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const s of this.grid.get(`${cx + dx},${cy + dy}`) || []) {
          const d = (s.x - wx) ** 2 + (s.y - wy) ** 2;
          if (d < bd) { bd = d; best = s; }
        }
      }
    }
    return best;
  }

  draw() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => { this.pending = 0; this.paint(); });
  }

  paint() {
    const g = this.ctx;
    g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    g.fillStyle = '#fbfbf8';
    g.fillRect(0, 0, this.cssW, this.cssH);
    const sc = this.scale;
    // Sections: a tinted box and a name.
    g.lineWidth = 1;
    for (const sec of this.sections) {
      const [x, y] = this.toScreen(sec.x, sec.y);
      g.fillStyle = '#eeede6';
      g.strokeStyle = '#c9c7bb';
      g.fillRect(x, y, sec.width * sc, sec.height * sc);
      g.strokeRect(x + 0.5, y + 0.5, sec.width * sc, sec.height * sc);
    }
    const [vx0, vy0] = this.toWorld(-2, -2);
    const [vx1, vy1] = this.toWorld(this.cssW + 2, this.cssH + 2);
    const visible = [];
    for (const s of this.seats) if (s.x >= vx0 && s.x <= vx1 && s.y >= vy0 && s.y <= vy1) visible.push(s);
    if (!this.detailed) {
      // Overview: a bitmap of every seat made once (and again when a status
      // changes), drawn with the current transform: pans and zooms over
      // 20,000 seats cost one drawImage.
      const cache = this.overview();
      const [x0, y0] = this.toScreen(this.world.x, this.world.y);
      g.imageSmoothingEnabled = sc < cache.k;
      g.drawImage(cache.canvas, x0, y0, this.world.w * sc, this.world.h * sc);
      const size = Math.max(2, sc * 0.8);
      g.fillStyle = DARK;
      for (const id of this.selected) {
        const s = this.byId.get(id);
        const [x, y] = this.toScreen(s.x, s.y);
        g.fillRect(x - size / 2, y - size / 2, size, size);
      }
    } else {
      const r = Math.min(sc * 0.4, 18);
      for (const s of visible) {
        const [x, y] = this.toScreen(s.x, s.y);
        const kind = this.selected.has(s.id) ? 'selected' : s.status;
        this.drawSeat(g, x, y, r, kind, this.colourOf.get(s.category));
      }
      if (sc >= 18) {
        g.fillStyle = '#555';
        g.font = `${Math.min(12, sc * 0.35)}px system-ui, sans-serif`;
        g.textAlign = 'right';
        g.textBaseline = 'middle';
        const firsts = new Map();
        for (const s of visible) {
          const k = `${s.section}|${s.row}`;
          const f = firsts.get(k);
          if (!f || s.x < f.x) firsts.set(k, s);
        }
        for (const s of firsts.values()) {
          const [x, y] = this.toScreen(s.x, s.y);
          g.fillText(s.row, x - r - 3, y);
        }
      }
    }
    // Section names on top.
    g.textAlign = 'center';
    g.textBaseline = 'bottom';
    g.font = '600 12px system-ui, sans-serif';
    for (const sec of this.sections) {
      const [x, y] = this.toScreen(sec.x + sec.width / 2, sec.y);
      if (sec.width * sc < 40) continue;
      g.fillStyle = '#333';
      g.fillText(sec.name, x, y - 1);
    }
    if (this.focus && document.activeElement === this.canvas) {
      const [x, y] = this.toScreen(this.focus.x, this.focus.y);
      const h = Math.max(6, Math.min(sc * 0.55, 22));
      g.setLineDash([3, 2]);
      g.lineWidth = 2;
      g.strokeStyle = '#000';
      g.strokeRect(x - h, y - h, h * 2, h * 2);
      g.setLineDash([]);
    }
  }

  overview() {
    if (this.cache && !this.cacheDirty) return this.cache;
    const k = Math.max(1, Math.min(4, Math.floor(2400 / Math.max(this.world.w, this.world.h))));
    const c = this.cache?.canvas || document.createElement('canvas');
    c.width = Math.ceil(this.world.w * k);
    c.height = Math.ceil(this.world.h * k);
    const g = c.getContext('2d');
    g.clearRect(0, 0, c.width, c.height);
    const size = Math.max(1, k * 0.8);
    const groups = new Map();
    for (const s of this.seats) {
      const col = s.status === 'available' ? this.colourOf.get(s.category) : '#d6d6d6';
      let arr = groups.get(col);
      if (!arr) groups.set(col, (arr = []));
      arr.push(s);
    }
    for (const [col, arr] of groups) {
      g.fillStyle = col;
      g.beginPath();
      for (const s of arr) g.rect((s.x - this.world.x) * k - size / 2, (s.y - this.world.y) * k - size / 2, size, size);
      g.fill();
    }
    this.cache = { canvas: c, k };
    this.cacheDirty = false;
    return this.cache;
  }

  drawSeat(g, x, y, r, kind, colour) {
    g.lineWidth = Math.max(1.5, r * 0.28);
    if (kind === 'available') {
      g.fillStyle = colour;
      g.beginPath(); g.arc(x, y, r, 0, Math.PI * 2); g.fill();
    } else if (kind === 'held') {
      g.strokeStyle = GREY;
      g.beginPath(); g.arc(x, y, r * 0.8, 0, Math.PI * 2); g.stroke();
    } else if (kind === 'sold') {
      g.fillStyle = '#dedede';
      g.beginPath(); g.arc(x, y, r, 0, Math.PI * 2); g.fill();
      g.strokeStyle = '#6b6b6b';
      const d = r * 0.55;
      g.beginPath(); g.moveTo(x - d, y - d); g.lineTo(x + d, y + d); g.moveTo(x + d, y - d); g.lineTo(x - d, y + d); g.stroke();
    } else if (kind === 'selected') {
      g.fillStyle = colour;
      g.beginPath(); g.arc(x, y, r, 0, Math.PI * 2); g.fill();
      g.strokeStyle = DARK;
      g.beginPath(); g.arc(x, y, r, 0, Math.PI * 2); g.stroke();
      g.strokeStyle = '#fff';
      g.lineWidth = Math.max(1.5, r * 0.3);
      g.beginPath(); g.moveTo(x - r * 0.45, y); g.lineTo(x - r * 0.1, y + r * 0.4); g.lineTo(x + r * 0.5, y - r * 0.4); g.stroke();
    }
  }

  describe(s) {
    const price = this.priceOf.get(s.category);
    const state = this.selected.has(s.id) ? 'picked by you' : s.status === 'available' ? 'available' : s.status === 'held' ? 'held by someone else' : 'sold';
    return `${s.section}, row ${s.row}, seat ${s.number}. Category ${s.category}${price != null ? `, ${this.money(price, this.currency)}` : ''}. ${state}.`;
  }

  announce(text) {
    this.live.textContent = '';
    // A fresh text node so repeated messages are read again.
    setTimeout(() => { this.live.textContent = text; }, 20);
  }

  toggle(s) {
    if (!s) return;
    if (this.selected.has(s.id)) {
      this.selected.delete(s.id);
      this.announce(`Unpicked ${this.describe(s)}`);
    } else if (s.status !== 'available') {
      this.announce(`${this.describe(s)} It cannot be picked.`);
      this.flash(`${s.section} row ${s.row} seat ${s.number} is ${s.status === 'held' ? 'held by someone else' : 'sold'}.`);
      return;
    } else if (this.selected.size >= this.maxSelect) {
      this.announce(`You can pick at most ${this.maxSelect} seats.`);
      this.flash(`You can pick at most ${this.maxSelect} seats.`);
      return;
    } else {
      this.selected.add(s.id);
      this.announce(`Picked ${this.describe(s)}`);
    }
    this.draw();
    this.onChange(this.selectedSeats());
  }

  flash(text) {
    this.tip.textContent = text;
    this.tip.hidden = false;
    clearTimeout(this.tipTimer);
    this.tipTimer = setTimeout(() => { this.tip.hidden = true; }, 2500);
  }

  unselect(id) {
    this.selected.delete(id);
    this.draw();
    this.onChange(this.selectedSeats());
  }

  clearSelection() {
    this.selected.clear();
    this.draw();
    this.onChange(this.selectedSeats());
  }

  selectedSeats() { return [...this.selected].map((id) => this.byId.get(id)); }

  // New statuses from the server: [{id, status}] or a full seat list.
  update(seats) {
    for (const n of seats) {
      const s = this.byId.get(n.id);
      if (!s) continue;
      s.status = n.status;
      if (s.status !== 'available' && this.selected.has(s.id)) this.selected.delete(s.id);
    }
    this.cacheDirty = true;
    this.updateSectionList();
    this.draw();
    this.onChange(this.selectedSeats());
  }

  markTaken(ids) { this.update(ids.map((id) => ({ id, status: 'held' }))); }

  bindPointer() {
    const c = this.canvas;
    const pts = new Map();
    let drag = null; let pinch = null; let moved = false;
    c.addEventListener('pointerdown', (e) => {
      c.setPointerCapture(e.pointerId);
      pts.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
      moved = false;
      if (pts.size === 1) drag = { x: e.offsetX, y: e.offsetY, ox: this.ox, oy: this.oy };
      if (pts.size === 2) {
        const [a, b] = [...pts.values()];
        pinch = { d: Math.hypot(a.x - b.x, a.y - b.y), scale: this.scale };
        drag = null;
      }
    });
    c.addEventListener('pointermove', (e) => {
      if (!pts.has(e.pointerId)) {
        this.hover(e.offsetX, e.offsetY);
        return;
      }
      pts.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
      if (pinch && pts.size === 2) {
        const [a, b] = [...pts.values()];
        const d = Math.hypot(a.x - b.x, a.y - b.y);
        const f = (pinch.scale * (d / pinch.d)) / this.scale;
        this.zoomAt(f, (a.x + b.x) / 2, (a.y + b.y) / 2);
        moved = true;
      } else if (drag) {
        const dx = e.offsetX - drag.x; const dy = e.offsetY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 5) moved = true;
        if (moved) {
          this.ox = drag.ox - dx / this.scale;
          this.oy = drag.oy - dy / this.scale;
          this.draw();
        }
      }
    });
    const end = (e) => {
      const wasTap = pts.size === 1 && !moved && drag;
      pts.delete(e.pointerId);
      if (pts.size < 2) pinch = null;
      if (wasTap && e.type === 'pointerup') this.tap(e.offsetX, e.offsetY);
      if (pts.size === 0) drag = null;
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoomAt(e.deltaY < 0 ? 1.25 : 0.8, e.offsetX, e.offsetY);
    }, { passive: false });
    c.addEventListener('pointerleave', () => { if (!this.tipTimer) this.tip.hidden = true; });
  }

  hover(sx, sy) {
    if (!this.detailed) { c_cursor(this.canvas, this.sectionAt(...this.toWorld(sx, sy)) ? 'zoom-in' : 'grab'); return; }
    const s = this.seatAt(...this.toWorld(sx, sy));
    c_cursor(this.canvas, s && s.status === 'available' ? 'pointer' : 'grab');
    this.canvas.title = s ? this.describe(s) : '';
  }

  tap(sx, sy) {
    const [wx, wy] = this.toWorld(sx, sy);
    if (!this.detailed) {
      const sec = this.sectionAt(wx, wy);
      if (sec) {
        this.zoomToSection(sec);
        this.announce(`Showing section ${sec.name}, category ${sec.category}.`);
      } else this.zoomAt(2, sx, sy);
      return;
    }
    const s = this.seatAt(wx, wy);
    if (s) {
      this.focus = s;
      this.toggle(s);
    }
  }

  focusFirstIn(sectionName) {
    let best = null;
    for (const s of this.seats) {
      if (s.section !== sectionName || s.status !== 'available') continue;
      if (!best || s.y < best.y || (s.y === best.y && s.x < best.x)) best = s;
    }
    if (best) { this.focus = best; this.announce(this.describe(best)); this.draw(); }
  }

  move(dx, dy) {
    const from = this.focus;
    if (!from) {
      const sec = this.zoomedSection || this.sections[0]?.name;
      let best = null;
      for (const s of this.seats) {
        if (sec && s.section !== sec) continue;
        if (s.status === 'available' && (!best || s.y < best.y || (s.y === best.y && s.x < best.x))) best = s;
      }
      this.focus = best || this.seats[0];
    } else {
      let best = null; let bs = Infinity;
      for (const s of this.seats) {
        if (s === from) continue;
        const ax = s.x - from.x; const ay = s.y - from.y;
        const along = ax * dx + ay * dy;
        if (along <= 0.01) continue;
        const perp = Math.abs(ax * dy - ay * dx);
        const score = along + perp * 4 + (s.section !== from.section ? 2 : 0);
        if (score < bs) { bs = score; best = s; }
      }
      if (!best) { this.announce('No more seats that way.'); return; }
      this.focus = best;
    }
    const s = this.focus;
    if (!this.detailed || !this.isVisible(s)) {
      const sec = this.sections.find((x) => x.name === s.section);
      if (sec) this.zoomToSection(sec);
    }
    this.announce(this.describe(s));
    this.draw();
  }

  bindKeys() {
    this.canvas.addEventListener('focus', () => { if (this.focus) this.announce(this.describe(this.focus)); this.draw(); });
    this.canvas.addEventListener('blur', () => this.draw());
    this.canvas.addEventListener('keydown', (e) => {
      const k = e.key;
      if (k === 'ArrowLeft') this.move(-1, 0);
      else if (k === 'ArrowRight') this.move(1, 0);
      else if (k === 'ArrowUp') this.move(0, -1);
      else if (k === 'ArrowDown') this.move(0, 1);
      else if (k === 'Enter' || k === ' ') {
        if (!this.focus) this.move(1, 0);
        else this.toggle(this.focus);
      } else if (k === '+' || k === '=') this.zoomBy(1.6);
      else if (k === '-' || k === '_') this.zoomBy(1 / 1.6);
      else if (k === 'Escape') { this.zoomedSection = null; this.fit(); this.announce('Showing the whole venue.'); }
      else return;
      e.preventDefault();
    });
  }

  destroy() { this.ro?.disconnect(); }
}

function c_cursor(c, v) { if (c.style.cursor !== v) c.style.cursor = v; }
