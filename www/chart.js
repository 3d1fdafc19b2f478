/*
 * pricesync dashboard charts (SPEC §7, §9): the portfolio's GBP value over
 * time from api/portfolio/history, and a 30-day sparkline per symbol from
 * api/prices/SYMBOL/history?interval=day, as inline SVG drawn here. The top
 * half is pure functions (series → scales → SVG path data, no DOM); the rest
 * binds them to the page. Requests are conditional (If-None-Match) and made
 * only by update(), which app.js calls when the prices change (first load,
 * after a sync), and sparklines only for rows on screen. No library.
 */
'use strict';
var PSChart = (function () {
	var DAY = 864e5, NS = 'http://www.w3.org/2000/svg';
	var PAD = { l: 64, r: 14, t: 14, b: 26 }, PAD_NARROW = { l: 46, r: 8, t: 14, b: 26 }, SPARK_W = 88, SPARK_H = 20, SPARK_DAYS = 30;
	var RANGES = { '1M': 1, '3M': 3, '1Y': 12 }, ALL_BACK = [1826, 10958];

	/* ---- pure ---- */
	function num(x) { return typeof x === 'number' && isFinite(x); }
	function dayMs(d) { return Date.parse(d.slice(0, 10) + 'T00:00:00Z'); }
	function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }
	/* What the chart draws: from the first day on which some holding had a
	 * price (the days before are not history), and only known values. */
	function usable(points) {
		var i = 0;
		while (i < points.length && !(points[i].symbols > 0)) i++;
		return points.slice(i).filter(function (p) { return num(p.value_gbp); });
	}
	/* The first date a range shows, counted back from today (YYYY-MM-DD). */
	function rangeStart(range, today) {
		var d = new Date(dayMs(today));
		if (!RANGES[range]) return null;
		d.setUTCMonth(d.getUTCMonth() - RANGES[range]);
		return isoDay(+d);
	}
	function slice(points, from) {
		return from ? points.filter(function (p) { return p.date >= from; }) : points;
	}
	/* Round steps (1, 2, 5 × 10^k) covering [lo, hi] in about n intervals. */
	function niceScale(lo, hi, n) {
		if (hi - lo < Math.abs(hi) * 1e-9 || hi === lo) {
			var d = Math.abs(hi) * 0.01 || 1;
			lo -= d; hi += d;
		}
		var raw = (hi - lo) / n, step = Math.pow(10, Math.floor(Math.log10(raw))), e = raw / step;
		step *= e > 5 ? 10 : e > 2 ? 5 : e > 1 ? 2 : 1;
		var a = Math.floor(lo / step) * step, b = Math.ceil(hi / step) * step, ticks = [];
		for (var v = a; v <= b + step / 2; v += step) ticks.push(+v.toPrecision(12));
		return { lo: a, hi: b, ticks: ticks };
	}
	/* Pixel positions of each point in a w × h box: x by date, y by value. */
	function layout(points, w, h, pad) {
		var t0 = dayMs(points[0].date), t1 = dayMs(points[points.length - 1].date);
		var vals = points.map(function (p) { return p.value_gbp; });
		var y = niceScale(Math.min.apply(null, vals), Math.max.apply(null, vals), h < 200 ? 3 : 4);
		var pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
		function sx(t) { return t1 > t0 ? pad.l + (t - t0) / (t1 - t0) * pw : pad.l + pw / 2; }
		function sy(v) { return pad.t + (y.hi - v) / (y.hi - y.lo) * ph; }
		return {
			w: w, h: h, pad: pad, t0: t0, t1: t1, sx: sx, sy: sy, y: y,
			xs: points.map(function (p) { return sx(dayMs(p.date)); }),
			ys: vals.map(sy)
		};
	}
	function f2(v) { return v.toFixed(2); }
	function pathD(xs, ys) {
		return xs.map(function (x, i) { return (i ? 'L' : 'M') + f2(x) + ',' + f2(ys[i]); }).join('');
	}
	function areaD(xs, ys, base) {
		return pathD(xs, ys) + 'L' + f2(xs[xs.length - 1]) + ',' + f2(base) + 'L' + f2(xs[0]) + ',' + f2(base) + 'Z';
	}
	/* Dates to label: Mondays for short spans, else month (or year) starts. */
	function dateTicks(t0, t1, max) {
		var span = (t1 - t0) / DAY, out = [], d = new Date(t0), k, m;
		if (span <= 62) {
			k = 7 * Math.max(1, Math.ceil(span / 7 / max));
			while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
			for (; +d <= t1; d.setUTCDate(d.getUTCDate() + k)) out.push(+d);
			return { ticks: out, unit: 'day' };
		}
		k = [1, 2, 3, 6, 12, 24, 60, 120].filter(function (k) { return span / 30.44 / k <= max; })[0] || 240;
		d.setUTCDate(1);
		if (+d < t0) d.setUTCMonth(d.getUTCMonth() + 1);
		for (; +d <= t1; d.setUTCMonth(d.getUTCMonth() + 1)) {
			m = d.getUTCFullYear() * 12 + d.getUTCMonth();
			if (m % k === 0) out.push(+d);
		}
		return { ticks: out, unit: k >= 12 ? 'year' : 'month' };
	}
	/* Index of the point nearest to x (xs ascending). */
	function nearest(xs, x) {
		var lo = 0, hi = xs.length - 1;
		while (hi - lo > 1) {
			var mid = (lo + hi) >> 1;
			if (xs[mid] < x) lo = mid; else hi = mid;
		}
		return Math.abs(xs[hi] - x) < Math.abs(xs[lo] - x) ? hi : lo;
	}
	/* A sparkline's path in a w × h box, 2 px inside its edges. */
	function sparkD(points, w, h) {
		var ts = points.map(function (p) { return Date.parse(p.time); });
		var vs = points.map(function (p) { return p.price; });
		var lo = Math.min.apply(null, vs), hi = Math.max.apply(null, vs);
		var t0 = ts[0], t1 = ts[ts.length - 1];
		return pathD(ts.map(function (t) { return 2 + (t - t0) / (t1 - t0 || 1) * (w - 4); }),
			vs.map(function (v) { return hi > lo ? 2 + (hi - v) / (hi - lo) * (h - 4) : h / 2; }));
	}

	/* ---- formatting ---- */
	function nf(o) { return new Intl.NumberFormat(undefined, o); }
	function df(o) { o.timeZone = 'UTC'; return new Intl.DateTimeFormat(undefined, o); }
	var fmtGBP = nf({ style: 'currency', currency: 'GBP' });
	var fmtAxis = nf({ style: 'currency', currency: 'GBP', notation: 'compact', maximumSignificantDigits: 3 });
	var fmtPct = nf({ maximumFractionDigits: 1, minimumFractionDigits: 1, signDisplay: 'exceptZero' });
	var fmtPrice = nf({ maximumSignificantDigits: 6 });
	var fmtDate = df({ day: 'numeric', month: 'short', year: 'numeric' });
	var fmtWeekday = df({ weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
	var fmtTick = { day: df({ day: 'numeric', month: 'short' }), month: df({ month: 'short' }), year: df({ year: 'numeric' }) };
	function dateText(d) { return fmtDate.format(dayMs(d)); }
	function pct(a, b) { return a ? ' (' + fmtPct.format((b - a) / Math.abs(a) * 100) + '%)' : ''; }
	function tickText(t, unit) {
		var d = new Date(t);
		if (unit === 'month' && d.getUTCMonth() === 0) return fmtTick.year.format(t);
		return fmtTick[unit].format(t);
	}

	/* ---- DOM ---- */
	function $(id) { return document.getElementById(id); }
	function svgEl(tag, attrs, parent) {
		var e = document.createElementNS(NS, tag);
		for (var k in attrs) e.setAttribute(k, attrs[k]);
		if (parent) parent.appendChild(e);
		return e;
	}
	function text(parent, x, y, s, cls) {
		svgEl('text', { x: f2(x), y: f2(y), 'class': cls }, parent).textContent = s;
	}

	/* Conditional GETs: the answer and its ETag kept per URL, so an unchanged
	 * series costs a 304. Resolves to the JSON, or null when unavailable. */
	var cache = {};
	function get(url) {
		var c = cache[url], h = {};
		if (c && c.etag) h['If-None-Match'] = c.etag;
		return fetch(url, { cache: 'no-store', headers: h }).then(function (res) {
			if (res.status === 304 && c) return c.json;
			if (!res.ok) return null;
			return res.json().then(function (j) {
				cache[url] = { etag: res.headers.get('ETag'), json: j };
				return j;
			});
		}, function () { return c ? c.json : null; });
	}

	var C = { range: '1Y', year: null, all: null, pts: [], lay: null, i: -1, drawnW: 0 };
	function today() { return isoDay(Date.now()); }

	/* The points for the current range. The default answer (the last 365
	 * days) serves 1M, 3M and 1Y; "all" asks for more only when the year is
	 * full from its first day. */
	function load(range) {
		if (range !== 'all' || !C.year) return Promise.resolve();
		if (C.all) return Promise.resolve();
		if (!C.year.length || !(C.year[0].symbols > 0)) { C.all = C.year; return Promise.resolve(); }
		var k = 0;
		function more() {
			var from = isoDay(dayMs(today()) - ALL_BACK[k] * DAY);
			return get('api/portfolio/history?from=' + from).then(function (j) {
				var p = j && j.points || [];
				if (p.length && p[0].symbols > 0 && ++k < ALL_BACK.length) return more();
				C.all = p.length ? p : C.year;
			});
		}
		return more();
	}
	function select() {
		var src = C.range === 'all' ? C.all || C.year : C.year;
		return usable(slice(src || [], rangeStart(C.range, today())));
	}

	function show() {
		C.pts = select();
		var ranges = document.querySelectorAll('#ranges button');
		for (var i = 0; i < ranges.length; i++)
			ranges[i].setAttribute('aria-pressed', ranges[i].dataset.range === C.range ? 'true' : 'false');
		describe(C.pts);
		draw();
	}
	function describe(p) {
		var now = $('chart-now'), alt = $('chart-alt'), n = p.length;
		if (!n) {
			now.textContent = '';
			alt.textContent = C.year ? 'No portfolio history yet: give symbols a quantity (pricesync add SYMBOL --quantity N) and run pricesync backfill.' :
				'Portfolio history is not available.';
			return;
		}
		var a = p[0], b = p[n - 1], partial = p.filter(function (x) { return x.missing && x.missing.length; }).length;
		now.textContent = '';
		now.appendChild(document.createTextNode(fmtGBP.format(b.value_gbp)));
		var ch = document.createElement('span');
		ch.className = b.value_gbp > a.value_gbp ? 'up' : b.value_gbp < a.value_gbp ? 'down' : '';
		ch.textContent = pct(a.value_gbp, b.value_gbp).trim() || '';
		now.appendChild(ch);
		alt.textContent = 'From ' + dateText(a.date) + ' to ' + dateText(b.date) + ': ' +
			fmtGBP.format(a.value_gbp) + ' to ' + fmtGBP.format(b.value_gbp) + pct(a.value_gbp, b.value_gbp) + '.' +
			(partial ? ' ' + partial + (partial === 1 ? ' day is' : ' days are') + ' partial (a holding had no price), marked ◆.' : '');
	}

	function draw() {
		var box = $('chart'), svg = box.querySelector('svg'), p = C.pts, w = box.clientWidth;
		C.drawnW = w;
		svg.textContent = '';
		hideTip();
		box.classList.toggle('none', !p.length);
		if (!p.length) {
			box.removeAttribute('tabindex');
			box.removeAttribute('role');
			C.lay = null;
			return;
		}
		box.tabIndex = 0;
		box.setAttribute('role', 'slider');
		box.setAttribute('aria-valuemin', 0);
		box.setAttribute('aria-valuemax', p.length - 1);
		var narrow = w < 500, pad = narrow ? PAD_NARROW : PAD, h = narrow ? 190 : 250;
		var L = C.lay = layout(p, w, h, pad), base = h - pad.b;
		svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
		svg.setAttribute('width', w);
		svg.setAttribute('height', h);
		var g = svgEl('g', { 'class': 'grid' }, svg);
		L.y.ticks.forEach(function (v) {
			var y = L.sy(v);
			svgEl('line', { x1: pad.l, x2: w - pad.r, y1: f2(y), y2: f2(y) }, g);
			text(g, pad.l - 8, y + 4, fmtAxis.format(v), 'yl');
		});
		var dt = dateTicks(L.t0, L.t1, Math.max(3, Math.floor((w - pad.l - pad.r) / 64)));
		dt.ticks.forEach(function (t) { text(g, L.sx(t), h - 7, tickText(t, dt.unit), 'xl'); });
		svgEl('path', { 'class': 'area', d: areaD(L.xs, L.ys, base) }, svg);
		svgEl('path', { 'class': 'line', d: pathD(L.xs, L.ys) }, svg);
		var marks = svgEl('g', { 'class': 'partial' }, svg);
		p.forEach(function (pt, i) {
			if (pt.missing && pt.missing.length)
				svgEl('path', { d: 'M' + f2(L.xs[i]) + ',' + f2(L.ys[i] - 4) + 'l4,4l-4,4l-4,-4z', 'data-date': pt.date }, marks);
		});
		var cur = svgEl('g', { 'class': 'cursor', visibility: 'hidden' }, svg);
		svgEl('line', { y1: pad.t, y2: base }, cur);
		svgEl('circle', { r: 4.5 }, cur);
		if (C.i >= p.length) C.i = p.length - 1;
		if (document.activeElement === box) point(C.i < 0 ? p.length - 1 : C.i);
	}

	/* The readout of point i: cursor, tip, and the slider's value text. */
	function point(i) {
		var box = $('chart'), L = C.lay, p = C.pts[i], tip = $('chart-tip');
		if (!L || !p) return;
		C.i = i;
		var cur = box.querySelector('.cursor'), x = L.xs[i], y = L.ys[i];
		cur.setAttribute('visibility', 'visible');
		cur.firstChild.setAttribute('x1', f2(x));
		cur.firstChild.setAttribute('x2', f2(x));
		cur.lastChild.setAttribute('cx', f2(x));
		cur.lastChild.setAttribute('cy', f2(y));
		var miss = p.missing && p.missing.length ? 'partial: no price for ' + p.missing.join(', ') : '';
		tip.textContent = '';
		tip.appendChild(Object.assign(document.createElement('b'), { textContent: fmtWeekday.format(dayMs(p.date)) }));
		tip.appendChild(Object.assign(document.createElement('span'), { textContent: fmtGBP.format(p.value_gbp) }));
		if (miss) tip.appendChild(Object.assign(document.createElement('small'), { textContent: miss }));
		tip.dataset.date = p.date;
		tip.dataset.value = p.value_gbp;
		tip.hidden = false;
		var tw = tip.offsetWidth, left = Math.min(Math.max(x - tw / 2, 0), L.w - tw);
		tip.style.left = left + 'px';
		tip.style.top = Math.max(0, y - tip.offsetHeight - 14) + 'px';
		box.setAttribute('aria-valuenow', i);
		box.setAttribute('aria-valuetext', dateText(p.date) + ': ' + fmtGBP.format(p.value_gbp) + (miss ? ', ' + miss : ''));
	}
	function hideTip() {
		var box = $('chart'), cur = box.querySelector('.cursor');
		$('chart-tip').hidden = true;
		if (cur) cur.setAttribute('visibility', 'hidden');
	}
	function bindChart() {
		var box = $('chart');
		function at(e) {
			if (!C.lay) return;
			point(nearest(C.lay.xs, e.clientX - box.getBoundingClientRect().left));
		}
		box.addEventListener('pointermove', at);
		box.addEventListener('pointerdown', at);
		box.addEventListener('pointerleave', function () { if (document.activeElement !== box) hideTip(); });
		box.addEventListener('focus', function () { point(C.i < 0 ? C.pts.length - 1 : C.i); });
		box.addEventListener('blur', hideTip);
		box.addEventListener('keydown', function (e) {
			var n = C.pts.length, i = C.i < 0 ? n - 1 : C.i;
			var step = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -7, PageUp: 7 }[e.key];
			if (e.key === 'Home') i = 0;
			else if (e.key === 'End') i = n - 1;
			else if (step) i = Math.min(n - 1, Math.max(0, i + step));
			else { if (e.key === 'Escape') hideTip(); return; }
			e.preventDefault();
			point(i);
		});
		$('ranges').addEventListener('click', function (e) {
			var r = e.target.closest('button');
			if (!r) return;
			C.range = r.dataset.range;
			C.i = -1;
			load(C.range).then(show);
		});
		if (window.ResizeObserver)
			new ResizeObserver(function () { if (box.clientWidth !== C.drawnW) draw(); }).observe(box);
	}

	/* ---- sparklines ---- */
	var spark = { gen: 0, seen: {}, queue: [], busy: 0, io: null };
	function sparkURL(sym) {
		return 'api/prices/' + encodeURIComponent(sym) + '/history?interval=day&from=' +
			isoDay(dayMs(today()) - SPARK_DAYS * DAY) + 'T00:00:00Z';
	}
	function drawSpark(td, j) {
		var pts = (j && j.points || []).filter(function (p) { return num(p.price); });
		td.textContent = '';
		if (pts.length < 2) return;
		var a = pts[0].price, b = pts[pts.length - 1].price;
		var s = svgEl('svg', { width: SPARK_W, height: SPARK_H, viewBox: '0 0 ' + SPARK_W + ' ' + SPARK_H, role: 'img',
			'class': 'spark ' + (b > a ? 'up' : b < a ? 'down' : ''),
			'aria-label': pts.length + ' days: ' + fmtPrice.format(a) + ' to ' + fmtPrice.format(b) + pct(a, b) });
		svgEl('title', {}, s).textContent = 'From ' + dateText(pts[0].time) + ': ' + fmtPrice.format(a) + ' → ' + fmtPrice.format(b) + pct(a, b);
		svgEl('path', { d: sparkD(pts, SPARK_W, SPARK_H) }, s);
		td.appendChild(s);
	}
	function pump() {
		while (spark.busy < 3 && spark.queue.length) {
			var td = spark.queue.shift(), sym = td.dataset.sym, gen = spark.gen;
			if (!td.isConnected || spark.seen[sym] === gen) continue;
			spark.seen[sym] = gen;
			spark.busy++;
			get(sparkURL(sym)).then(function (td, sym, j) {
				spark.busy--;
				var live = document.querySelectorAll('td.spark[data-sym="' + CSS.escape(sym) + '"]');
				for (var i = 0; i < live.length; i++) drawSpark(live[i], j);
				pump();
			}.bind(null, td, sym));
		}
	}
	/* A cell comes on screen: draw what is known at once, ask again when the
	 * prices changed since it was last asked. */
	function visible(td) {
		var c = cache[sparkURL(td.dataset.sym)];
		if (c) drawSpark(td, c.json);
		if (spark.seen[td.dataset.sym] !== spark.gen) { spark.queue.push(td); pump(); }
	}
	function sparks(tbody) {
		if (!tbody) return;
		var cells = tbody.querySelectorAll('td.spark[data-sym]');
		if (spark.io) spark.io.disconnect();
		if (!window.IntersectionObserver) { Array.prototype.forEach.call(cells, visible); return; }
		spark.io = new IntersectionObserver(function (es) {
			es.forEach(function (e) { if (e.isIntersecting) visible(e.target); });
		}, { rootMargin: '200px 0px' });
		Array.prototype.forEach.call(cells, function (td) { spark.io.observe(td); });
	}

	var bound = false;
	/* The prices changed (first load, a sync ended): revalidate the series
	 * and redraw; tbody, when given, holds freshly rendered rows. */
	function update(tbody) {
		if (!bound) { bound = true; bindChart(); }
		spark.gen++;
		sparks(tbody);
		return get('api/portfolio/history').then(function (j) {
			var y = j && j.points || null;
			if (y && C.year && JSON.stringify(y) === JSON.stringify(C.year) && C.lay) return;
			C.year = y;
			C.all = null;
			return load(C.range).then(show);
		});
	}

	return {
		update: update,
		/* the pure part, for tests and for the curious */
		usable: usable, rangeStart: rangeStart, niceScale: niceScale, layout: layout,
		pathD: pathD, dateTicks: dateTicks, nearest: nearest, sparkD: sparkD
	};
})();
