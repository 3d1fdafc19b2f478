/*
 * pricesync dashboard (SPEC §7). PSApi makes every request, chart.js's too.
 * One state whose sync is idle, ours (our POST streams) or elsewhere (the
 * status says one runs), changed only by the pure transition()
 * (tests/t-app.py); paint() alone writes the page. URLs are relative to
 * the page, so any prefix works.
 */
'use strict';
/* Rejects with {status, statusText, code, message, retry} on an HTTP
 * error, a TypeError when the server is out of reach. */
var PSApi = (() => {
	const kept = {};
	const refusal = (res) => res.text().then((text) => {
		let j = null;
		try { j = JSON.parse(text); } catch (e) { /* not JSON: nginx's own page */ }
		throw { status: res.status, statusText: res.statusText, code: j && j.code, message: j && j.message, retry: parseInt(res.headers.get('Retry-After'), 10) };
	});
	/* no-store: we keep the ETag, so the browser's cache cannot turn a 304
	 * into a 200. */
	function get(url) {
		const c = kept[url];
		return fetch(url, { cache: 'no-store', headers: c && c.etag ? { 'If-None-Match': c.etag } : {} }).then((res) => {
			if (res.status === 304 && c) return { json: c.json, fresh: false };
			if (!res.ok) return refusal(res);
			return res.json().then((json) => ({ json: (kept[url] = { etag: res.headers.get('ETag'), json }).json, fresh: true }));
		});
	}
	const changed = (url) => get(url).then((r) => (r.fresh ? r.json : null));
	/* NDJSON as it arrives; a line may be split across chunks. */
	function sync(onEvent) {
		return fetch('api/sync', { method: 'POST', cache: 'no-store', headers: { Accept: 'application/x-ndjson' } }).then((res) => {
			if (res.status !== 200 || !res.body) return refusal(res);
			const reader = res.body.getReader(), dec = new TextDecoder();
			let buf = '';
			const pump = () => reader.read().then((r) => {
				const ls = (buf + dec.decode(r.value, { stream: !r.done })).split('\n');
				buf = r.done ? '' : ls.pop();
				for (let l of ls) {
					try { l = l.trim() && JSON.parse(l); } catch (e) { continue; }
					if (l) onEvent(l);
				}
				if (!r.done) return pump();
			});
			return pump();
		});
	}
	return {
		sync,
		status: () => changed('api/sync/status'),	/* null: unchanged */
		prices: () => changed('api/prices'),
		/* The kept JSON if unchanged or out of reach; null on an HTTP error. */
		json: (url) => get(url).then((r) => r.json, (e) => (!e.status && kept[url] ? kept[url].json : null)),
		kept: (url) => kept[url] && kept[url].json,
		history: (sym, from) => `api/prices/${encodeURIComponent(sym)}/history?interval=day&from=${from}`,
		portfolio: (from) => 'api/portfolio/history' + (from ? '?from=' + from : '')
	};
})();

(() => {
	const POLL_IDLE = 60000, POLL_RUNNING = 2000, STALE_MS = 3 * 864e5;

	/* ---- texts (pure) ---- */
	const nf = (a, b, o) => new Intl.NumberFormat(undefined, { minimumFractionDigits: a, maximumFractionDigits: b, ...o });
	const fmtPrice = nf(2, 4), fmtRate = nf(4, 6), fmtPct = nf(2, 2, { signDisplay: 'exceptZero' });
	const fmtGBP = nf(undefined, undefined, { style: 'currency', currency: 'GBP' }), fmtInt = nf(0, 6);
	const num = (x) => typeof x === 'number' && isFinite(x);
	const plural = (n, w) => n + ' ' + w + (n === 1 ? '' : 's');
	const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
	const gbp = (v, none) => (num(v) ? fmtGBP.format(v) : none);
	function ago(ms, now) {
		const s = Math.round((now - ms) / 1000);
		if (s < 45) return 'just now';
		if (s < 90) return '1 minute ago';
		const u = s < 3600 ? [60, 'minute'] : s < 86400 ? [3600, 'hour'] : [86400, 'day'];
		return plural(Math.round(s / u[0]), u[1]) + ' ago';
	}
	const progressText = (ev) => (ev ? `Syncing… ${ev.done || 0} / ${ev.total || 0}` + (ev.failed ? `, ${ev.failed} failed` : '') : 'Syncing…');
	function resultText(r) {
		const fs = r.failed_symbols || [];
		return 'Updated ' + (r.updated || 0) + (r.failed ? `, ${r.failed} failed` : '') + (fs.length && fs.length <= 5 ? ` (${fs.join(', ')})` : '') +
			(r.fx_error ? '. Exchange rate not updated: ' + r.fx_error : '');
	}
	/* An HTTP error (PSApi's) in words. */
	function refusalText(e) {
		const msg = e.message, w = e.retry;
		if (e.status === 409) return 'A sync is already running' + (msg ? ': ' + msg : '.');
		if (e.status === 429)
			return 'Synced too recently' + (w >= 0 ? ': try again in ' + (w < 120 ? plural(w, 'second') : plural(Math.ceil(w / 60), 'minute')) : '') + '.';
		if (e.status === 403) return `Refused (${e.code || 'forbidden'}): ` + (msg || 'this page may not start a sync.');
		return `Sync failed (${e.status}${e.code ? ' ' + e.code : ''}): ` + (msg || e.statusText || 'the server gave no reason');
	}
	function noticeText(e, what) {
		if (e instanceof TypeError) return 'Cannot reach the server; retrying.';
		if (!e.status) return e.message;
		return what === 'prices' ? `Prices unavailable (${e.status})` : refusalText(e).replace(/^Sync failed/, 'Status unavailable');
	}

	/* ---- the state and its one transition (pure) ---- */
	/* status, prices: the last answers; msg: the live region's {text, kind};
	 * ended: our stream gave its result. */
	const initial = () => ({ sync: 'idle', status: null, prices: null, msg: null, notice: '', wantPrices: false, ended: false });
	const say = (text, kind) => ({ text, kind });
	const running = (ev) => (ev && ev.type !== 'complete' && ev.type !== 'error' ? ev : null);
	/* s itself when e changes nothing; a null status or prices: unchanged. */
	function transition(s, e) {
		const n = { ...s }, st = e.status, prev = s.status, ev = e.event, ours = s.sync === 'ours', err = e.error;
		switch (e.type) {
		case 'sync-clicked':
			if (s.sync !== 'idle') return s;
			return { ...s, sync: 'ours', ended: false, msg: say('Starting sync…', 'run') };
		case 'stream-event':
			if (!ours || !/^(start|progress|complete|error)$/.test(ev.type)) return s;
			n.ended = s.ended || !running(ev);
			n.msg = ev.type === 'complete' ? say(resultText(ev), ev.failed ? 'warn' : 'ok')
				: ev.type === 'error' ? say('Sync failed: ' + (ev.message || ev.code), 'bad') : say(progressText(ev), 'run');
			return n;
		case 'stream-failed':
			if (!ours || s.ended) return s;
			return { ...s, ended: true, msg: err && err.status ? say(refusalText(err), err.status === 409 ? 'warn' : 'bad')
				: say('Could not reach the server: check the connection and try again.', 'bad') };
		case 'stream-ended':
			if (!ours) return s;
			if (!s.ended) n.msg = say('The connection closed before the sync ended; it goes on on the server.', 'warn');
			return { ...n, sync: 'idle', wantPrices: true };
		case 'status-polled':
			n.notice = '';
			if (!st) return n;
			n.status = st;
			if (st.running && !ours) {
				n.sync = 'elsewhere';
				n.msg = say(progressText(running(st.progress)) + ' (started elsewhere)', 'run');
			} else if (s.sync === 'elsewhere' && !st.running) {
				n.sync = 'idle';
				n.wantPrices = true;
				/* Its result, when the status shows a new one. */
				n.msg = st.last_result && (st.last_synced !== (prev && prev.last_synced) || !same(st.last_result, prev && prev.last_result))
					? say('Sync finished: ' + resultText(st.last_result), st.last_result.failed ? 'warn' : 'ok')
					: say('The other sync stopped before it completed.', 'warn');
			}
			if (!prev || prev.last_synced !== st.last_synced || !same(prev.fx, st.fx)) n.wantPrices = true;
			return n;
		case 'poll-failed':
			return { ...s, notice: noticeText(err, e.what) };
		case 'prices-loaded':
			return { ...s, wantPrices: false, prices: e.prices || s.prices };
		}
		return s;
	}

	if (typeof document === 'undefined') {	/* node: tests/app-state.mjs */
		module.exports = { initial, transition, ago };
		return;
	}

	/* ---- render: nodes for the state, built off the page ---- */
	function el(tag, cls, ...kids) {
		const e = document.createElement(tag);
		if (cls) e.className = cls;
		e.append(...kids);
		return e;
	}
	/* A <time> whose text paint() renders again as time passes. */
	function timeEl(iso, pre, now) {
		const ms = Date.parse(iso), t = el('time', null, pre + ago(ms, now));
		Object.assign(t, { dateTime: iso, title: new Date(ms).toLocaleString() });
		Object.assign(t.dataset, { ms, pre });
		return t;
	}
	const synced = (st, now) => [st.last_synced ? timeEl(st.last_synced, 'Last synced ', now) : 'Never synced', st.symbols != null ? ' · ' + plural(st.symbols, 'symbol') : ''];
	function fxLine(fx, now) {
		if (!fx || !num(fx.rate)) return [fx ? 'No exchange rate yet' : ''];
		const pair = fx.pair && fx.pair.length === 6 ? fx.pair.slice(0, 3) + '/' + fx.pair.slice(3) : fx.pair;
		return [pair + ' ' + fmtRate.format(fx.rate) + (fx.basis ? ` (${fx.basis})` : '') + (fx.at ? ', ' : ''), fx.at ? timeEl(fx.at, 'taken ', now) : ''];
	}
	function cell(tr, cls, label, ...kids) {
		const td = tr.appendChild(el('td', cls, ...kids));
		if (label) td.dataset.l = label;
		return td;
	}
	function row(s, now) {
		const tr = el('tr', s.error ? 'failed' : null), qt = Date.parse(s.quote_time || s.updated_at), chg = s.change_percent, qty = num(s.quantity);
		const th = tr.appendChild(el('th', null, el('span', 'sym', s.symbol), el('span', 'sub', s.name || '')));
		th.scope = 'row';
		if (s.exchange) th.title = s.exchange;
		cell(tr, 'c-name', '', s.name || '—');
		cell(tr, 'num', '', num(s.price) ? fmtPrice.format(s.price) : '—', s.currency && num(s.price) ? el('span', 'ccy', ' ' + s.currency) : '');
		const c = cell(tr, 'num chg', '', num(chg) ? fmtPct.format(chg) + '%' : '—');
		if (num(chg) && chg) c.classList.add(chg > 0 ? 'up' : 'down');
		if (num(s.change)) c.title = 'Change ' + fmtPct.format(s.change) + (s.currency ? ' ' + s.currency : '');
		cell(tr, 'spark', '').dataset.sym = s.symbol;	/* drawn by chart.js */
		cell(tr, 'num', 'GBP', gbp(s.price_gbp, '—'));
		cell(tr, 'num', qty ? 'Holding' : '', qty ? el('span', 'qty', fmtInt.format(s.quantity) + ' × ') : '', gbp(s.value_gbp, qty ? '—' : ''));
		const u = cell(tr, 'c-upd', 'Updated', s.updated_at ? timeEl(s.updated_at, '', now) : 'never');
		if (isFinite(qt) && now - qt > STALE_MS) {
			u.appendChild(el('span', 'badge stale', 'stale: ' + ago(qt, now).replace(' ago', ' old'))).title = 'Quote from ' + new Date(qt).toLocaleString();
			tr.classList.add('is-stale');
		}
		if (!s.error) return [tr];
		const er = el('td', null, el('span', 'badge bad', 'failed'), ` ${s.symbol}: ${s.error}`);
		er.colSpan = 8;
		return [tr, el('tr', 'errrow', er)];
	}

	/* ---- paint: the one place that writes the page ---- */
	const $ = (id) => document.getElementById(id);
	const btn = $('sync'), progress = $('progress'), notice = $('notice');
	let shown = initial(), S = shown, hadFocus = false;
	const put = (id, nodes) => $(id).replaceChildren(...nodes);
	function paint(s) {
		const busy = s.sync !== 'idle', p = s.prices, now = Date.now();
		/* A button disabled under focus loses it: give it back when enabled. */
		const back = !busy && btn.disabled && hadFocus && document.activeElement === document.body;
		if (busy && !btn.disabled) hadFocus = document.activeElement === btn;
		btn.disabled = busy;
		btn.classList.toggle('busy', busy);
		btn.setAttribute('aria-busy', busy);
		$('prices').setAttribute('aria-busy', busy);
		btn.querySelector('span').textContent = busy ? 'Syncing…' : 'Sync now';
		if (back) btn.focus();
		if (s.msg !== shown.msg) {
			progress.textContent = s.msg.text;
			progress.className = 'progress ' + s.msg.kind;
		}
		notice.hidden = !s.notice;
		notice.textContent = s.notice;
		if (s.status !== shown.status) put('synced', synced(s.status, now));
		if (p !== shown.prices) {
			const syms = p.symbols || [];
			put('rows', syms.flatMap((x) => row(x, now)));
			$('empty').hidden = !!syms.length;
			$('foot').hidden = !syms.some((x) => num(x.quantity));
			$('total').textContent = gbp(p.total_value_gbp, '—');
			if (p.fx !== undefined) put('fx', fxLine(p.fx, now));
			if (window.PSChart) PSChart.update($('rows'));
		}
		for (const t of document.querySelectorAll('time[data-ms]')) t.textContent = t.dataset.pre + ago(+t.dataset.ms, now);
		shown = s;
	}
	const dispatch = (e) => { paint(S = transition(S, e)); return S; };

	/* ---- effects: the requests and the poll's clock ---- */
	const T = { last: 0, timer: 0, seq: 0 };
	function startSync() {
		const before = S;
		if (dispatch({ type: 'sync-clicked' }) === before) return;
		PSApi.sync((event) => dispatch({ type: 'stream-event', event }))
			.catch((error) => dispatch({ type: 'stream-failed', error }))
			.then(() => { dispatch({ type: 'stream-ended' }); poll(); });
	}
	function schedule() {
		clearTimeout(T.timer);
		if (document.hidden) return;	/* caught up on visibilitychange */
		T.timer = setTimeout(poll, Math.max(0, T.last + (S.sync === 'elsewhere' ? POLL_RUNNING : POLL_IDLE) - Date.now()));
	}
	function poll() {
		const seq = ++T.seq;
		let what = 'status';
		clearTimeout(T.timer);
		T.last = Date.now();
		return PSApi.status()
			.then((st) => {
				/* A newer poll is out: this answer may be older than its. */
				dispatch({ type: 'status-polled', status: seq === T.seq ? st : null });
				what = 'prices';
				if (S.wantPrices && S.sync === 'idle') return PSApi.prices().then((prices) => dispatch({ type: 'prices-loaded', prices }));
			})
			.catch((error) => dispatch({ type: 'poll-failed', error, what }))
			.then(() => seq === T.seq && schedule());
	}

	btn.addEventListener('click', startSync);
	document.addEventListener('visibilitychange', () => {
		if (document.hidden) return clearTimeout(T.timer);
		paint(S);
		schedule();	/* at once when a poll is overdue */
	});
	setInterval(() => document.hidden || paint(S), 10000);
	paint(S);
	poll();
})();
