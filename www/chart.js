/*
 * pricesync charts (SPEC §7, §9), inline SVG: the portfolio's GBP value from
 * api/portfolio/history, a 30-day sparkline per symbol from its daily
 * history. Pure functions first (series → scales → path data), then the page
 * binding. Requests go through app.js's PSApi (conditional), made by update()
 * (app.js calls it when the prices change), for sparklines only for rows on
 * screen.
 */
'use strict';
var PSChart = (() => {
	const DAY = 864e5, NS = 'http://www.w3.org/2000/svg', SW = 88, SH = 20;
	const PAD = { l: 64, r: 14, t: 14, b: 26 }, PADN = { l: 46, r: 8, t: 14, b: 26 };
	const MONTHS = { '1M': 1, '3M': 3, '1Y': 12 }, ALL_BACK = [1826, 10958];

	/* ---- pure ---- */
	const num = (x) => typeof x === 'number' && isFinite(x);
	const dayMs = (d) => Date.parse(d.slice(0, 10) + 'T00:00:00Z');
	const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
	const f2 = (v) => v.toFixed(2);
	/* Drawn: from the first day a holding had a price, known values only. */
	function usable(pts) {
		let i = 0;
		while (i < pts.length && !(pts[i].symbols > 0)) i++;
		return pts.slice(i).filter((p) => num(p.value_gbp));
	}
	/* First date a range shows (YYYY-MM-DD). */
	function rangeStart(range, today) {
		if (!MONTHS[range]) return '';
		const d = new Date(dayMs(today));
		d.setUTCMonth(d.getUTCMonth() - MONTHS[range]);
		return isoDay(+d);
	}
	/* Round steps (1, 2, 5 × 10^k) covering [lo, hi] in about n intervals. */
	function niceScale(lo, hi, n) {
		if (!(hi - lo > Math.abs(hi) * 1e-9)) { const d = Math.abs(hi) / 100 || 1; lo -= d; hi += d; }
		const raw = (hi - lo) / n, p = Math.pow(10, Math.floor(Math.log10(raw))), e = raw / p;
		const step = p * (e > 5 ? 10 : e > 2 ? 5 : e > 1 ? 2 : 1);
		const a = Math.floor(lo / step) * step, b = Math.ceil(hi / step) * step, ticks = [];
		for (let v = a; v <= b + step / 2; v += step) ticks.push(+v.toPrecision(12));
		return { lo: a, hi: b, ticks };
	}
	/* Each point's pixels in a w × h box: x by date, y by value. */
	function layout(pts, w, h, pad) {
		const t0 = dayMs(pts[0].date), t1 = dayMs(pts[pts.length - 1].date);
		const vs = pts.map((p) => p.value_gbp);
		const y = niceScale(Math.min(...vs), Math.max(...vs), h < 200 ? 3 : 4);
		const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
		const sx = (t) => (t1 > t0 ? pad.l + (t - t0) / (t1 - t0) * pw : pad.l + pw / 2);
		const sy = (v) => pad.t + (y.hi - v) / (y.hi - y.lo) * ph;
		return { w, h, pad, t0, t1, sx, sy, y, xs: pts.map((p) => sx(dayMs(p.date))), ys: vs.map(sy) };
	}
	const pathD = (xs, ys) => xs.map((x, i) => (i ? 'L' : 'M') + f2(x) + ',' + f2(ys[i])).join('');
	const areaD = (xs, ys, base) => pathD(xs, ys) + `L${f2(xs[xs.length - 1])},${f2(base)}L${f2(xs[0])},${f2(base)}Z`;
	/* Dates to label: days or Mondays for short spans, else month or year starts. */
	function dateTicks(t0, t1, max) {
		const span = (t1 - t0) / DAY, out = [], d = new Date(t0);
		if (span <= 62) {
			/* every k days under two weeks, else every k Mondays */
			const k = span < 14 ? Math.max(1, Math.ceil(span / max)) : 7 * Math.max(1, Math.ceil(span / 7 / max));
			while (span >= 14 && d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
			for (; +d <= t1; d.setUTCDate(d.getUTCDate() + k)) out.push(+d);
			return { ticks: out, unit: 'day' };
		}
		const k = [1, 2, 3, 6, 12, 24, 60, 120].find((k) => span / 30.44 / k <= max) || 240;
		d.setUTCDate(1);
		if (+d < t0) d.setUTCMonth(d.getUTCMonth() + 1);
		for (; +d <= t1; d.setUTCMonth(d.getUTCMonth() + 1))
			if ((d.getUTCFullYear() * 12 + d.getUTCMonth()) % k === 0) out.push(+d);
		return { ticks: out, unit: k >= 12 ? 'year' : 'month' };
	}
	/* [first, last] index of each run of partial days (missing not empty). */
	function runs(pts) {
		const out = [];
		pts.forEach((p, i) => {
			if (!(p.missing && p.missing.length)) return;
			const r = out[out.length - 1];
			if (r && r[1] === i - 1) r[1] = i; else out.push([i, i]);
		});
		return out;
	}
	/* Index of the point nearest to x (xs ascending). */
	function nearest(xs, x) {
		let lo = 0, hi = xs.length - 1;
		while (hi - lo > 1) { const m = (lo + hi) >> 1; if (xs[m] < x) lo = m; else hi = m; }
		return Math.abs(xs[hi] - x) < Math.abs(xs[lo] - x) ? hi : lo;
	}
	/* A sparkline's path in a w × h box, 2 px inside its edges. */
	function sparkD(pts, w, h) {
		const ts = pts.map((p) => Date.parse(p.time)), vs = pts.map((p) => p.price);
		const lo = Math.min(...vs), hi = Math.max(...vs), t0 = ts[0], dt = ts[ts.length - 1] - t0 || 1;
		return pathD(ts.map((t) => 2 + (t - t0) / dt * (w - 4)), vs.map((v) => (hi > lo ? 2 + (hi - v) / (hi - lo) * (h - 4) : h / 2)));
	}

	/* ---- formatting ---- */
	const nf = (o) => new Intl.NumberFormat(undefined, o), df = (o) => new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', ...o });
	const GBP = nf({ style: 'currency', currency: 'GBP' }), AXIS = nf({ style: 'currency', currency: 'GBP', notation: 'compact', maximumSignificantDigits: 3 });
	const PCT = nf({ minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }), PRICE = nf({ maximumSignificantDigits: 6 });
	const DATE = df({ day: 'numeric', month: 'short', year: 'numeric' }), WDATE = df({ weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
	const TICK = { day: df({ day: 'numeric', month: 'short' }), month: df({ month: 'short' }), year: df({ year: 'numeric' }) };
	const dateText = (d) => DATE.format(dayMs(d));
	const pct = (a, b) => (a ? ` (${PCT.format((b - a) / Math.abs(a) * 100)}%)` : '');
	const tickText = (t, u) => TICK[u === 'month' && new Date(t).getUTCMonth() === 0 ? 'year' : u].format(t);
	const trend = (a, b) => (b > a ? 'up' : b < a ? 'down' : '');

	/* ---- DOM ---- */
	const $ = (id) => document.getElementById(id);
	function svgEl(tag, attrs, parent) {
		const e = document.createElementNS(NS, tag);
		for (const k in attrs) e.setAttribute(k, attrs[k]);
		if (parent) parent.appendChild(e);
		return e;
	}
	function add(parent, tag, text, cls) {
		const e = parent.appendChild(document.createElement(tag));
		e.textContent = text;
		if (cls) e.className = cls;
	}

	const get = (url) => PSApi.json(url);

	const C = { range: '1Y', year: null, all: null, pts: [], lay: null, i: -1, w: 0 };
	const today = () => isoDay(Date.now());

	/* The default answer (365 days) serves 1M, 3M and 1Y; "all" asks for
	 * more only when a holding had a price on its first day. */
	function load() {
		if (C.range !== 'all' || !C.year || C.all) return Promise.resolve();
		if (!C.year.length || !(C.year[0].symbols > 0)) return Promise.resolve(C.all = C.year);
		let k = 0;
		const more = () => get(PSApi.portfolio(isoDay(dayMs(today()) - ALL_BACK[k] * DAY))).then((j) => {
			const p = (j && j.points) || [];
			if (p.length && p[0].symbols > 0 && ++k < ALL_BACK.length) return more();
			C.all = p.length ? p : C.year;
		});
		return more();
	}
	function show() {
		const from = rangeStart(C.range, today());
		C.pts = usable(((C.range === 'all' && C.all) || C.year || []).filter((p) => p.date >= from));
		for (const b of document.querySelectorAll('#ranges button')) b.setAttribute('aria-pressed', b.dataset.range === C.range);
		$('ranges').hidden = !usable(C.year || []).length;
		describe(C.pts);
		draw();
	}
	/* Headline and text alternative (range, first and last value). */
	function describe(p) {
		const now = $('chart-now'), alt = $('chart-alt'), a = p[0], b = p[p.length - 1];
		now.textContent = '';
		if (!a) {
			alt.textContent = C.year ? 'No history yet: give holdings a quantity, then run pricesync backfill.' : 'Portfolio history is not available.';
			return;
		}
		const partial = p.filter((x) => x.missing && x.missing.length).length;
		now.textContent = GBP.format(b.value_gbp);
		if (a.value_gbp) add(now, 'span', PCT.format((b.value_gbp - a.value_gbp) / Math.abs(a.value_gbp) * 100) + '% ' +
			(C.range === 'all' ? 'since ' + dateText(a.date) : 'in ' + C.range), trend(a.value_gbp, b.value_gbp));
		alt.textContent = `From ${dateText(a.date)} to ${dateText(b.date)}: ${GBP.format(a.value_gbp)} to ${GBP.format(b.value_gbp)}${pct(a.value_gbp, b.value_gbp)}.` +
			(partial ? ` ${partial} partial ${partial === 1 ? 'day' : 'days'} (a holding had no price), shaded.` : '');
	}

	function draw() {
		const box = $('chart'), svg = box.querySelector('svg'), p = C.pts, w = (C.w = box.clientWidth);
		svg.textContent = '';
		hide();
		box.classList.toggle('none', !p.length);
		C.lay = null;
		if (!p.length) { box.removeAttribute('tabindex'); box.removeAttribute('role'); return; }
		/* A slider: the arrow keys move along the dates. */
		box.tabIndex = 0;
		for (const [k, v] of [['role', 'slider'], ['aria-valuemin', 0], ['aria-valuemax', p.length - 1]]) box.setAttribute(k, v);
		const pad = w < 500 ? PADN : PAD, h = w < 500 ? 190 : 250, base = h - pad.b;
		const L = (C.lay = layout(p, w, h, pad));
		for (const [k, v] of [['viewBox', `0 0 ${w} ${h}`], ['width', w], ['height', h]]) svg.setAttribute(k, v);
		const g = svgEl('g', { class: 'grid' }, svg);
		for (const v of L.y.ticks) {
			const y = f2(L.sy(v));
			svgEl('line', { x1: pad.l, x2: w - pad.r, y1: y, y2: y }, g);
			svgEl('text', { x: pad.l - 8, y: +y + 4, class: 'yl' }, g).textContent = AXIS.format(v);
		}
		const dt = dateTicks(L.t0, L.t1, Math.max(3, Math.floor((w - pad.l - pad.r) / 64)));
		for (const t of dt.ticks) svgEl('text', { x: f2(L.sx(t)), y: h - 7 }, g).textContent = tickText(t, dt.unit);
		svgEl('path', { class: 'area', d: areaD(L.xs, L.ys, base) }, svg);
		svgEl('path', { class: 'line', d: pathD(L.xs, L.ys) }, svg);
		if (p.length === 1) svgEl('circle', { class: 'line', cx: f2(L.xs[0]), cy: f2(L.ys[0]), r: 3 }, svg);
		/* Partial days: a shaded band and an amber rug per run of them. */
		const marks = svgEl('g', { class: 'partial' }, svg), half = p.length > 1 ? (L.xs[1] - L.xs[0]) / 2 : 4;
		for (const [i, j] of runs(p)) {
			const x0 = Math.max(pad.l, L.xs[i] - half), x1 = Math.min(w - pad.r, L.xs[j] + half);
			const r = { x: f2(x0), width: f2(Math.max(x1 - x0, 2)), 'data-from': p[i].date, 'data-to': p[j].date };
			svgEl('rect', { ...r, y: pad.t, height: base - pad.t, class: 'band' }, marks);
			svgEl('rect', { ...r, y: base - 4, height: 4 }, marks);
		}
		const cur = svgEl('g', { class: 'cursor', visibility: 'hidden' }, svg);
		svgEl('line', { y1: pad.t, y2: base }, cur);
		svgEl('circle', { r: 4.5 }, cur);
		if (C.i >= p.length) C.i = p.length - 1;
		if (document.activeElement === box) point(C.i);
	}

	/* Point i under the pointer or keyboard: cursor, tip, value text. */
	function point(i) {
		const box = $('chart'), L = C.lay, tip = $('chart-tip');
		if (i < 0) i = C.pts.length - 1;
		const p = C.pts[i];
		if (!L || !p) return;
		C.i = i;
		const cur = box.querySelector('.cursor');
		cur.setAttribute('visibility', 'visible');
		cur.setAttribute('transform', `translate(${f2(L.xs[i])})`);
		cur.lastChild.setAttribute('cy', f2(L.ys[i]));
		const miss = p.missing && p.missing.length ? 'partial: no price for ' + p.missing.join(', ') : '';
		tip.textContent = '';
		add(tip, 'b', WDATE.format(dayMs(p.date)));
		add(tip, 'span', GBP.format(p.value_gbp));
		if (miss) add(tip, 'small', miss);
		tip.dataset.date = p.date;
		tip.dataset.value = p.value_gbp;
		tip.hidden = false;
		tip.style.left = Math.min(Math.max(L.xs[i] - tip.offsetWidth / 2, 0), L.w - tip.offsetWidth) + 'px';
		tip.style.top = Math.max(0, L.ys[i] - tip.offsetHeight - 14) + 'px';
		box.setAttribute('aria-valuenow', i);
		box.setAttribute('aria-valuetext', `${dateText(p.date)}: ${GBP.format(p.value_gbp)}${miss ? ', ' + miss : ''}`);
	}
	function hide() {
		const cur = $('chart').querySelector('.cursor');
		$('chart-tip').hidden = true;
		if (cur) cur.setAttribute('visibility', 'hidden');
	}
	const KEYS = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -7, PageUp: 7, Home: -1e9, End: 1e9 };
	function bind() {
		const box = $('chart');
		const at = (e) => C.lay && point(nearest(C.lay.xs, e.clientX - box.getBoundingClientRect().left));
		box.addEventListener('pointermove', at);
		box.addEventListener('pointerdown', at);
		box.addEventListener('pointerleave', () => { if (document.activeElement !== box) { C.i = -1; hide(); } });
		box.addEventListener('focus', () => point(C.i));
		box.addEventListener('blur', hide);
		box.addEventListener('keydown', (e) => {
			const n = C.pts.length, step = KEYS[e.key];
			if (e.key === 'Escape') hide();
			if (!step || !n) return;
			e.preventDefault();
			point(Math.min(n - 1, Math.max(0, (C.i < 0 ? n - 1 : C.i) + step)));
		});
		$('ranges').addEventListener('click', (e) => {
			const b = e.target.closest('button');
			if (!b) return;
			C.range = b.dataset.range;
			C.i = -1;
			load().then(show);
		});
		new ResizeObserver(() => C.lay && box.clientWidth !== C.w && draw()).observe(box);
	}

	/* ---- sparklines ---- */
	const S = { gen: 0, asked: {}, queue: [], busy: 0, io: null };
	const sparkURL = (sym) => PSApi.history(sym, isoDay(dayMs(today()) - 30 * DAY) + 'T00:00:00Z');
	/* Only for a symbol with history (two points or more). */
	function drawSpark(td, j) {
		const pts = ((j && j.points) || []).filter((p) => num(p.price));
		td.textContent = '';
		if (pts.length < 2) return;
		const a = pts[0].price, b = pts[pts.length - 1].price, say = `${PRICE.format(a)} to ${PRICE.format(b)}${pct(a, b)}`;
		const s = svgEl('svg', { width: SW, height: SH, role: 'img', class: 'spark ' + trend(a, b) }, td);
		svgEl('title', {}, s).textContent = `Since ${dateText(pts[0].time)}: ${say}`;
		svgEl('path', { d: sparkD(pts, SW, SH) }, s);
	}
	function pump() {
		while (S.busy < 3 && S.queue.length) {
			const td = S.queue.shift(), sym = td.dataset.sym;
			if (!td.isConnected || S.asked[sym] === S.gen) continue;
			S.asked[sym] = S.gen;
			S.busy++;
			get(sparkURL(sym)).then((j) => {
				S.busy--;
				for (const td of document.querySelectorAll(`td.spark[data-sym="${CSS.escape(sym)}"]`)) drawSpark(td, j);
				pump();
			});
		}
	}
	/* A cell on screen: drawn from what is known, asked again if the prices
	 * changed since. */
	function onScreen(td) {
		const j = PSApi.kept(sparkURL(td.dataset.sym));
		if (j) drawSpark(td, j);
		if (S.asked[td.dataset.sym] !== S.gen) { S.queue.push(td); pump(); }
	}
	function sparks(tbody) {
		const cells = tbody.querySelectorAll('td.spark[data-sym]');
		if (S.io) S.io.disconnect();
		S.io = new IntersectionObserver((es) => es.forEach((e) => e.isIntersecting && onScreen(e.target)), { rootMargin: '200px 0px' });
		cells.forEach((td) => S.io.observe(td));
	}

	/* The prices changed (first load, a sync): revalidate and redraw;
	 * tbody holds the new rows. */
	function update(tbody) {
		if (!C.bound) { C.bound = true; bind(); }
		S.gen++;
		if (tbody) sparks(tbody);
		return get(PSApi.portfolio()).then((j) => {
			const y = (j && j.points) || null;
			if (C.lay && JSON.stringify(y) === JSON.stringify(C.year)) return;
			C.year = y;
			C.all = null;
			return load().then(show);
		});
	}

	return { update };
})();
