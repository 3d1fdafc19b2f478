/*
 * pricesync dashboard (SPEC §7). Starts a sync with POST api/sync and reads
 * its NDJSON stream line by line as it arrives; polls api/sync/status (every
 * 60 s, every 2 s while a sync runs, paused while the tab is hidden) with
 * If-None-Match; shows api/prices as a table. URLs are relative to the page
 * so it works under any prefix. No framework, no build step. The chart and
 * the sparklines are chart.js's (PSChart.update, called when prices change).
 */
'use strict';
(function () {
	var POLL_IDLE = 60000, POLL_RUNNING = 2000, STALE_MS = 3 * 864e5;
	var $ = function (id) { return document.getElementById(id); };
	var btn = $('sync'), progress = $('progress'), notice = $('notice');
	var S = {
		status: null, etag: null, pricesEtag: null,
		streaming: false,	/* this page's own POST is running */
		elsewhere: false,	/* status says a sync runs that is not ours */
		lastPoll: 0, timer: 0, seq: 0, wantPrices: false
	};

	/* ---- formatting ---- */
	function nf(opts) { return new Intl.NumberFormat(undefined, opts); }
	var fmtPrice = nf({ minimumFractionDigits: 2, maximumFractionDigits: 4 });
	var fmtRate = nf({ minimumFractionDigits: 4, maximumFractionDigits: 6 });
	var fmtPct = nf({ minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: 'exceptZero' });
	var fmtGBP = nf({ style: 'currency', currency: 'GBP' });
	var fmtInt = nf({ maximumFractionDigits: 6 });
	function num(x) { return typeof x === 'number' && isFinite(x); }

	function ago(ms) {
		var s = Math.round((Date.now() - ms) / 1000), n, u;
		if (s < 45) return 'just now';
		if (s < 90) return '1 minute ago';
		if (s < 3600) { n = Math.round(s / 60); u = 'minute'; }
		else if (s < 86400) { n = Math.round(s / 3600); u = 'hour'; }
		else { n = Math.round(s / 86400); u = 'day'; }
		return n + ' ' + u + (n === 1 ? '' : 's') + ' ago';
	}
	/* A <time> whose text is re-rendered by tick() as time passes. */
	function timeEl(iso, prefix) {
		var t = document.createElement('time'), ms = Date.parse(iso);
		t.dateTime = iso;
		t.title = new Date(ms).toLocaleString();
		t.dataset.ms = ms;
		t.dataset.pre = prefix || '';
		t.textContent = (prefix || '') + ago(ms);
		return t;
	}
	function tick() {
		var ts = document.querySelectorAll('time[data-ms]');
		for (var i = 0; i < ts.length; i++)
			ts[i].textContent = ts[i].dataset.pre + ago(+ts[i].dataset.ms);
	}

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text != null) e.textContent = text;
		return e;
	}
	function plural(n, w) { return n + ' ' + w + (n === 1 ? '' : 's'); }

	/* ---- the sync button and the live region ---- */
	function say(text, kind) {
		progress.textContent = text;
		progress.className = 'progress' + (kind ? ' ' + kind : '');
	}
	function setBusy(on) {
		var refocus = !on && btn.disabled && document.activeElement === document.body;
		btn.disabled = on;
		btn.classList.toggle('busy', on);
		btn.setAttribute('aria-busy', on ? 'true' : 'false');
		$('prices').setAttribute('aria-busy', on ? 'true' : 'false');
		btn.querySelector('span').textContent = on ? 'Syncing…' : 'Sync now';
		if (refocus && btn.dataset.clicked) btn.focus();
		if (!on) delete btn.dataset.clicked;
	}
	function progressText(ev) {
		if (!ev) return 'Syncing…';
		var t = 'Syncing… ' + (ev.done || 0) + ' / ' + (ev.total || 0);
		if (ev.failed) t += ', ' + ev.failed + ' failed';
		return t;
	}
	function resultText(r) {
		var t = 'Updated ' + (r.updated || 0);
		if (r.failed) t += ', ' + r.failed + ' failed';
		var fs = r.failed_symbols || [];
		if (fs.length && fs.length <= 5) t += ' (' + fs.join(', ') + ')';
		if (r.fx_error) t += '. Exchange rate not updated: ' + r.fx_error;
		return t;
	}
	/* One stream event: progress text, the result, or the error. */
	function onEvent(ev) {
		if (ev.type === 'start' || ev.type === 'progress')
			say(progressText(ev), 'run');
		else if (ev.type === 'complete')
			say(resultText(ev), ev.failed ? 'warn' : 'ok');
		else if (ev.type === 'error')
			say('Sync failed: ' + (ev.message || ev.code), 'bad');
		return ev.type === 'complete' || ev.type === 'error';
	}

	/* Reads NDJSON as it arrives; a line may be split across chunks. */
	function readLines(body, onLine) {
		var reader = body.getReader(), dec = new TextDecoder(), buf = '';
		function pump() {
			return reader.read().then(function (r) {
				buf += dec.decode(r.value || new Uint8Array(), { stream: !r.done });
				var i;
				while ((i = buf.indexOf('\n')) >= 0) {
					var line = buf.slice(0, i).trim();
					buf = buf.slice(i + 1);
					if (line) onLine(line);
				}
				if (r.done) {
					if (buf.trim()) onLine(buf.trim());
					return;
				}
				return pump();
			});
		}
		return pump();
	}

	function errorAnswer(res) {
		return res.text().then(function (text) {
			var j = null;
			try { j = JSON.parse(text); } catch (e) { /* not JSON: nginx's own page */ }
			var msg = j && j.message, code = j && j.code;
			if (res.status === 409)
				return 'A sync is already running' + (msg ? ': ' + msg : '.');
			if (res.status === 429) {
				var wait = parseInt(res.headers.get('Retry-After'), 10);
				return 'Synced too recently' + (wait >= 0 ? ': try again in ' +
					(wait < 120 ? plural(wait, 'second') : plural(Math.ceil(wait / 60), 'minute')) : '') + '.';
			}
			if (res.status === 403)
				return 'Refused (' + (code || 'forbidden') + '): ' + (msg || 'this page may not start a sync.');
			return 'Sync failed (' + res.status + (code ? ' ' + code : '') + '): ' +
				(msg || res.statusText || 'the server gave no reason');
		});
	}

	function startSync() {
		if (S.streaming || S.elsewhere) return;
		S.streaming = true;
		btn.dataset.clicked = '1';
		setBusy(true);
		say('Starting sync…', 'run');
		var ended = false;
		fetch('api/sync', { method: 'POST', cache: 'no-store', headers: { Accept: 'application/x-ndjson' } })
			.then(function (res) {
				if (res.status !== 200 || !res.body)
					return errorAnswer(res).then(function (m) {
						ended = true;
						say(m, res.status === 409 ? 'warn' : 'bad');
					});
				return readLines(res.body, function (line) {
					var ev;
					try { ev = JSON.parse(line); } catch (e) { return; }
					if (onEvent(ev)) ended = true;
				});
			})
			.catch(function () {
				if (!ended)
					say('Could not reach the server: check the connection and try again.', 'bad');
				ended = true;
			})
			.then(function () {
				if (!ended)
					say('The connection closed before the sync ended; it goes on on the server.', 'warn');
				S.streaming = false;
				setBusy(false);
				S.wantPrices = true;
				poll();
			});
	}

	/* ---- status ---- */
	function renderSynced(st) {
		var p = $('synced');
		p.textContent = '';
		if (!st) return;
		if (st.last_synced) p.appendChild(timeEl(st.last_synced, 'Last synced '));
		else p.textContent = 'Never synced';
		if (st.symbols != null) p.appendChild(document.createTextNode(' · ' + plural(st.symbols, 'symbol')));
	}
	function renderFx(fx) {
		var p = $('fx'), pair;
		p.textContent = '';
		if (!fx || !num(fx.rate)) { if (fx) p.textContent = 'No exchange rate yet'; return; }
		pair = fx.pair && fx.pair.length === 6 ? fx.pair.slice(0, 3) + '/' + fx.pair.slice(3) : fx.pair;
		p.appendChild(document.createTextNode(pair + ' ' + fmtRate.format(fx.rate) +
			(fx.basis ? ' (' + fx.basis + ')' : '') + (fx.at ? ', ' : '')));
		if (fx.at) p.appendChild(timeEl(fx.at, 'taken '));
	}
	function applyStatus(st) {
		var prev = S.status;
		S.status = st;
		renderSynced(st);
		if (st.running && !S.streaming) {
			var ev = st.progress;
			S.elsewhere = true;
			setBusy(true);
			say(progressText(ev && ev.type !== 'complete' && ev.type !== 'error' ? ev : null) + ' (started elsewhere)', 'run');
		} else if (S.elsewhere && !st.running) {
			S.elsewhere = false;
			setBusy(false);
			/* Its result, when the status shows a new one. */
			if (st.last_result && (st.last_synced !== (prev && prev.last_synced) ||
			    JSON.stringify(st.last_result) !== JSON.stringify(prev && prev.last_result)))
				say('Sync finished: ' + resultText(st.last_result), st.last_result.failed ? 'warn' : 'ok');
			else say('The other sync stopped before it completed.', 'warn');
			S.wantPrices = true;
		}
		if (!prev || prev.last_synced !== st.last_synced || JSON.stringify(prev.fx) !== JSON.stringify(st.fx))
			S.wantPrices = true;
	}

	function showNotice(text) {
		notice.hidden = !text;
		notice.textContent = text || '';
	}
	function schedule() {
		clearTimeout(S.timer);
		if (document.hidden) return;	/* caught up on visibilitychange */
		var every = S.elsewhere ? POLL_RUNNING : POLL_IDLE;
		S.timer = setTimeout(poll, Math.max(0, S.lastPoll + every - Date.now()));
	}
	function poll() {
		clearTimeout(S.timer);
		S.lastPoll = Date.now();
		var h = {}, seq = ++S.seq;
		if (S.etag) h['If-None-Match'] = S.etag;
		/* no-store: we keep the ETag ourselves, so the browser's cache cannot
		 * turn a 304 into a 200. */
		return fetch('api/sync/status', { cache: 'no-store', headers: h })
			.then(function (res) {
				if (res.status === 304 || seq !== S.seq) return;	/* unchanged, or a newer poll is out */
				if (!res.ok) return errorAnswer(res).then(function (m) {
					throw new Error(m.replace(/^Sync failed/, 'Status unavailable'));
				});
				S.etag = res.headers.get('ETag');
				return res.json().then(applyStatus);
			})
			.then(function () {
				showNotice('');
				if (S.wantPrices && !S.streaming && !S.elsewhere) return loadPrices();
			})
			.catch(function (e) {
				showNotice(e instanceof TypeError ? 'Cannot reach the server; retrying.' : e.message);
			})
			.then(function () { if (seq === S.seq) schedule(); });
	}

	/* ---- prices ---- */
	function loadPrices() {
		var h = {};
		if (S.pricesEtag) h['If-None-Match'] = S.pricesEtag;
		return fetch('api/prices', { cache: 'no-store', headers: h }).then(function (res) {
			if (res.status === 304) { S.wantPrices = false; return; }
			if (!res.ok) throw new Error('Prices unavailable (' + res.status + ')');
			S.pricesEtag = res.headers.get('ETag');
			return res.json().then(function (p) {
				S.wantPrices = false;
				renderPrices(p);
			});
		});
	}
	function cell(tr, cls, content, label) {
		var td = el('td', cls);
		if (label) td.dataset.l = label;
		if (content instanceof Node) td.appendChild(content);
		else if (content != null) td.textContent = content;
		tr.appendChild(td);
		return td;
	}
	function row(s) {
		var tr = el('tr'), td, qt = Date.parse(s.quote_time || s.updated_at);
		if (s.error) tr.className = 'failed';
		td = el('th');
		td.scope = 'row';
		td.appendChild(el('span', 'sym', s.symbol));
		if (s.exchange) td.title = s.exchange;
		td.appendChild(el('span', 'sub', s.name || ''));
		tr.appendChild(td);
		cell(tr, 'c-name', s.name || '—');
		td = cell(tr, 'num', num(s.price) ? fmtPrice.format(s.price) : '—');
		if (s.currency && num(s.price)) td.appendChild(el('span', 'ccy', ' ' + s.currency));
		td = cell(tr, 'num chg', num(s.change_percent) ? fmtPct.format(s.change_percent) + '%' : '—');
		if (num(s.change_percent) && s.change_percent)
			td.classList.add(s.change_percent > 0 ? 'up' : 'down');
		if (num(s.change)) td.title = 'Change ' + fmtPct.format(s.change) + (s.currency ? ' ' + s.currency : '');
		cell(tr, 'spark').dataset.sym = s.symbol;	/* drawn by chart.js */
		cell(tr, 'num', num(s.price_gbp) ? fmtGBP.format(s.price_gbp) : '—', 'GBP');
		td = cell(tr, 'num', num(s.value_gbp) ? fmtGBP.format(s.value_gbp) : (num(s.quantity) ? '—' : ''), num(s.quantity) ? 'Holding' : '');
		if (num(s.quantity)) td.insertBefore(el('span', 'qty', fmtInt.format(s.quantity) + ' × '), td.firstChild);
		td = cell(tr, 'c-upd', s.updated_at ? timeEl(s.updated_at) : 'never', 'Updated');
		if (isFinite(qt) && Date.now() - qt > STALE_MS) {
			var b = el('span', 'badge stale', 'stale: ' + ago(qt).replace(' ago', ' old'));
			b.title = 'Quote from ' + new Date(qt).toLocaleString();
			td.appendChild(b);
			tr.classList.add('is-stale');
		}
		if (s.error) {
			var er = el('tr', 'errrow'), c = el('td', null);
			c.colSpan = 8;
			c.appendChild(el('span', 'badge bad', 'failed'));
			c.appendChild(document.createTextNode(' ' + s.symbol + ': ' + s.error));
			er.appendChild(c);
			return [tr, er];
		}
		return [tr];
	}
	function renderPrices(p) {
		var body = $('rows'), frag = document.createDocumentFragment(), anyQty = false;
		(p.symbols || []).forEach(function (s) {
			row(s).forEach(function (r) { frag.appendChild(r); });
			if (num(s.quantity)) anyQty = true;
		});
		body.textContent = '';
		body.appendChild(frag);
		$('empty').hidden = !!(p.symbols && p.symbols.length);
		$('foot').hidden = !anyQty;
		$('total').textContent = num(p.total_value_gbp) ? fmtGBP.format(p.total_value_gbp) : '—';
		if (p.fx !== undefined) renderFx(p.fx);
		if (window.PSChart) PSChart.update(body);
	}

	/* ---- wiring ---- */
	btn.addEventListener('click', startSync);
	document.addEventListener('visibilitychange', function () {
		if (document.hidden) { clearTimeout(S.timer); return; }
		tick();
		schedule();	/* at once when a poll is overdue */
	});
	setInterval(function () { if (!document.hidden) tick(); }, 10000);
	setBusy(false);
	poll();
})();
