// dashboard.mjs: browser tests of www/ (SPEC §7), run by tests/t-dashboard.py.
//
// Drives Debian's /usr/bin/chromium (never a downloaded browser) through
// playwright-core from tests/node/node_modules, against the real stack that
// t-dashboard.py started (nginx with the shipped snippet, the FastCGI
// programs, the fake FMP). Its one argument is a JSON file:
//   {"base": page URL of stack A (min_interval_s = 0),
//    "base2": page URL of stack B (min_interval_s large, under a prefix),
//    "fake": the fake FMP's root URL, "cli": path of pricesync,
//    "env": the CLI's environment for stack A, "artifacts": screenshot dir,
//    "www": the www/ directory, "failed_symbol": a symbol the fake drops,
//    "credentials": {"username", "password"} when the stack wants basic
//    auth (optional: the browser then answers the 401 challenge)}
// It prints one JSON object per line: {"ok": bool, "name", "diag"?},
// {"skip": name, "reason"} or {"diag": text}; t-dashboard.py turns them
// into TAP. The last test puts a history in stack A's store (pricesync
// backfill against the fake). Limits: one Chromium, tests run in order and
// share stack A's database, so a failure early can cascade into later ones.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const nodeDir = process.env.PS_NODE_DIR || new URL('./node/', import.meta.url).pathname;
const require = createRequire(join(nodeDir, 'package.json'));
const { chromium } = require('playwright-core');

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const ok = (cond, name, diag) => { out({ ok: !!cond, name, ...(cond || diag == null ? {} : { diag: String(diag) }) }); return !!cond; };
const diag = (t) => out({ diag: String(t) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const DESKTOP = { width: 1280, height: 800 }, PHONE = { width: 360, height: 740 };
const allowed = new Set([cfg.base, cfg.base2].filter(Boolean).map((u) => new URL(u).origin));
const foreign = [], pageErrors = [];
const cred = cfg.credentials;
const authHeaders = cred ? { Authorization: 'Basic ' + Buffer.from(cred.username + ':' + cred.password).toString('base64') } : {};
mkdirSync(cfg.artifacts, { recursive: true });

async function fake(state) {
	const r = await fetch(cfg.fake + '/_control', { method: 'POST', body: JSON.stringify(state), headers: { 'Content-Type': 'application/json' } });
	if (!r.ok) throw new Error('fake /_control: ' + r.status);
}
async function status(base) {
	return (await fetch(new URL('api/sync/status', base), { cache: 'no-store', headers: authHeaders })).json();
}
async function until(pred, ms = 20000, what = 'condition') {
	const end = Date.now() + ms;
	for (;;) {
		const v = await pred();
		if (v) return v;
		if (Date.now() > end) throw new Error('timed out waiting for ' + what);
		await sleep(50);
	}
}

// A `pricesync sync --json` in the background: .lines (events), .done.
function cliSync() {
	const p = spawn(cfg.cli, ['sync', '--json'], { env: cfg.env, stdio: ['ignore', 'pipe', 'pipe'] });
	const job = { lines: [], err: '' };
	let buf = '';
	p.stdout.on('data', (d) => {
		buf += d;
		let i;
		while ((i = buf.indexOf('\n')) >= 0) {
			const l = buf.slice(0, i).trim();
			buf = buf.slice(i + 1);
			if (l) try { job.lines.push(JSON.parse(l)); } catch { job.lines.push({ type: '_bad', l }); }
		}
	});
	p.stderr.on('data', (d) => { job.err += d; });
	job.done = new Promise((r) => p.on('close', (code) => r(code)));
	return job;
}

let browser;
async function newPage(opts = {}) {
	const ctx = await browser.newContext({ viewport: opts.viewport || DESKTOP, colorScheme: opts.scheme || 'light', reducedMotion: opts.reducedMotion || 'no-preference', ...(cred ? { httpCredentials: cred } : {}) });
	const page = await ctx.newPage();
	page.setDefaultTimeout(20000);
	page.reqs = [];
	ctx.on('request', (r) => {
		const u = r.url();
		if (!u.startsWith('data:') && !allowed.has(new URL(u).origin)) foreign.push(u);
		page.reqs.push(r);
	});
	page.on('pageerror', (e) => pageErrors.push(e.message));
	// Every text the live region shows, with the button's state then.
	await page.addInitScript(() => {
		window.__log = [];
		document.addEventListener('DOMContentLoaded', () => {
			const p = document.getElementById('progress'), b = document.getElementById('sync');
			new MutationObserver((recs) => {
				const st = { dis: b.disabled, busy: b.getAttribute('aria-busy'), anim: getComputedStyle(b.querySelector('.icon')).animationName };
				for (const r of recs)
					for (const n of r.addedNodes) window.__log.push({ t: n.textContent, ...st });
				if (!recs.some((r) => r.addedNodes.length)) window.__log.push({ t: p.textContent, ...st });
			}).observe(p, { childList: true, characterData: true, subtree: true });
		});
	});
	if (opts.clock) await page.clock.install();
	return page;
}
const texts = (page) => page.evaluate(() => window.__log.map((e) => e.t));
const progressText = (page) => page.textContent('#progress');
const statusReqs = (page) => page.reqs.filter((r) => /api\/sync\/status$/.test(r.url()));
async function load(page, base) {
	const resp = page.waitForResponse((r) => /api\/prices$/.test(r.url()));
	await page.goto(base || cfg.base);
	await resp;
	await page.waitForFunction(() => document.querySelectorAll('#rows tr').length > 0 || !document.getElementById('empty').hidden);
}
const enabled = (page) => page.waitForFunction(() => !document.getElementById('sync').disabled, null, { timeout: 60000 });
const COUNT = /^Syncing… (\d+) \/ (\d+)/;

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('first load: never synced, a row per symbol, accessible markup', async () => {
	const page = await newPage();
	await load(page);
	ok(/Never synced/.test(await page.textContent('#synced')), 'before any sync the page says "Never synced"', await page.textContent('#synced'));
	const n = await page.locator('#rows > tr:not(.errrow)').count();
	const st = await status(cfg.base);
	ok(n === st.symbols && n > 0, `the table has one row per symbol (${n})`, `status says ${st.symbols}`);
	const a11y = await page.evaluate(() => {
		const b = document.getElementById('sync'), p = document.getElementById('progress');
		return { tag: b.tagName, type: b.type, live: p.getAttribute('aria-live'), role: p.getAttribute('role'), busy: b.getAttribute('aria-busy') };
	});
	ok(a11y.tag === 'BUTTON' && a11y.live === 'polite' && a11y.role === 'status' && a11y.busy === 'false',
		'a real <button> with aria-busy, progress in an aria-live region', JSON.stringify(a11y));
	await page.keyboard.press('Tab');
	ok(await page.evaluate(() => document.activeElement.id === 'sync'), 'the button is reachable with the keyboard');
	await page.context().close();
});

test('acceptance 1: Sync now with a slowed upstream', async () => {
	await fake({ delay: 0.25, quote_time: Math.floor(Date.now() / 1000) - 4 * 86400 });
	const page = await newPage();
	await load(page);
	await page.click('#sync');
	const during = await page.evaluate(() => {
		const b = document.getElementById('sync');
		return { dis: b.disabled, busy: b.getAttribute('aria-busy'), anim: getComputedStyle(b.querySelector('.icon')).animationName };
	});
	ok(during.dis && during.busy === 'true' && during.anim === 'spin', 'while syncing the button is disabled, aria-busy and spinning', JSON.stringify(during));
	await enabled(page);
	const log = await page.evaluate(() => window.__log);
	const counts = log.filter((e) => COUNT.test(e.t)).map((e) => e.t);
	const inter = new Set(counts.filter((t) => { const m = COUNT.exec(t); return +m[1] > 0 && +m[1] < +m[2]; }));
	ok(inter.size >= 2, `progress showed ${inter.size} intermediate counts`, JSON.stringify(counts));
	ok(log.filter((e) => COUNT.test(e.t)).every((e) => e.dis && e.anim === 'spin'), 'the button stayed disabled and spinning through the progress');
	ok(new RegExp(`^Updated \\d+, 1 failed \\(${cfg.failed_symbol}\\)$`).test(await progressText(page)), 'the result is shown when it ends', await progressText(page));
	const seq = log.map((e) => e.t), iRes = seq.findIndex((t) => /^Updated/.test(t));
	ok(iRes > 0 && seq.slice(0, iRes).some((t) => COUNT.test(t)), 'the counts came before the result', JSON.stringify(seq));
	ok(await page.isEnabled('#sync') && (await page.getAttribute('#sync', 'aria-busy')) === 'false', 'the button is enabled again');
	await page.waitForFunction(() => /Last synced just now/.test(document.getElementById('synced').textContent));
	ok(true, '"Last synced" reads "just now"');
	const title = await page.getAttribute('#synced time', 'title');
	ok(title && /\d/.test(title), 'the exact local time is on hover (title)', title);
	// The failed symbol and stale quotes, from the same table.
	await page.waitForFunction(() => document.querySelector('#rows .errrow'));
	const prices = await (await fetch(new URL('api/prices', cfg.base), { headers: authHeaders })).json();
	const bad = prices.symbols.find((s) => s.symbol === cfg.failed_symbol);
	const errText = await page.textContent('#rows .errrow');
	ok(bad && bad.error && errText.includes(cfg.failed_symbol) && errText.includes(bad.error), 'a failed symbol shows its error in the table', errText);
	const stale = await page.locator('#rows .badge.stale').count();
	ok(stale === prices.symbols.filter((s) => !s.error).length, `quotes older than 3 days are marked stale (${stale})`);
	const total = await page.textContent('#total');
	ok(/£\d/.test(total) && !(await page.isHidden('#foot')), 'holdings have a total', total);
	ok(/USD\/GBP 0\.78/.test(await page.textContent('#fx')), 'the USD/GBP rate is shown', await page.textContent('#fx'));
	const chg = await page.evaluate(() => [...document.querySelectorAll('#rows .chg')].map((c) => [c.textContent, c.className]));
	ok(chg.every(([t, c]) => (/^\+/.test(t) ? /up/.test(c) : /^-/.test(t) ? /down/.test(c) : true)) && chg.some(([t]) => /^[+-]\d/.test(t)),
		'change % is signed and coloured', JSON.stringify(chg.slice(0, 4)));
	await page.context().close();
});

test('acceptance 2: "N minutes ago" and a conditional status poll every 60 s', async () => {
	const page = await newPage({ clock: true });
	await load(page);
	const s0 = statusReqs(page).length;
	const firstEtag = (await statusReqs(page)[0].response()).headers()['etag'];
	ok(firstEtag, 'status answers carry an ETag', firstEtag);
	const settle = async () => { await page.evaluate(() => new Promise((r) => setTimeout(r, 0))); await sleep(100); };
	let prevMin = 0, good = true, conditional = true, notModified = true;
	for (let k = 1; k <= 3; k++) {
		await page.clock.runFor(57000);
		await settle();
		if (statusReqs(page).length !== s0 + k - 1) { good = false; diag(`after ${k - 1} min + 57 s: ${statusReqs(page).length - s0} polls`); }
		await page.clock.runFor(3000);
		await until(() => statusReqs(page).length >= s0 + k, 10000, `status poll ${k}`);
		const r = statusReqs(page)[s0 + k - 1];
		const h = await r.allHeaders();
		if (h['if-none-match'] !== firstEtag) conditional = false;
		const resp = await r.response();
		if (!resp || resp.status() !== 304) notModified = false;
		await settle();
		const m = /Last synced (\d+) minutes? ago/.exec(await page.textContent('#synced'));
		if (!m || +m[1] <= prevMin) { good = false; diag('synced: ' + await page.textContent('#synced')); }
		if (m) prevMin = +m[1];
	}
	ok(good, `one status request per 60 s, none sooner; "Last synced ${prevMin} minutes ago"`, await page.textContent('#synced'));
	ok(conditional, 'each poll sends If-None-Match with the ETag it was given');
	ok(notModified, 'an unchanged status answers 304, and the page keeps its data');
	ok(/Last synced \d+ minutes ago/.test(await page.textContent('#synced')), 'no reload: the same page re-rendered', await page.textContent('#synced'));
	ok(page.reqs.filter((r) => r.resourceType() === 'document').length === 1, 'the page was not reloaded');
	// Hidden tab: no polls; shown again: one at once (caught up).
	const setHidden = (h) => page.evaluate((h) => {
		Object.defineProperty(document, 'hidden', { value: h, configurable: true });
		Object.defineProperty(document, 'visibilityState', { value: h ? 'hidden' : 'visible', configurable: true });
		document.dispatchEvent(new Event('visibilitychange'));
	}, h);
	const before = statusReqs(page).length;
	await setHidden(true);
	await page.clock.runFor(5 * 60000);
	await settle();
	ok(statusReqs(page).length === before, 'no polling while the tab is hidden', `${statusReqs(page).length - before} requests`);
	await setHidden(false);
	await until(() => statusReqs(page).length === before + 1, 5000, 'catch-up poll').catch(() => {});
	ok(statusReqs(page).length === before + 1, 'shown again, it polls at once');
	ok(/Last synced (\d+) minutes ago/.test(await page.textContent('#synced')) && +/(\d+) minutes/.exec(await page.textContent('#synced'))[1] > prevMin + 3,
		'the time is re-rendered when the tab shows again', await page.textContent('#synced'));
	await page.context().close();
});

test('acceptance 3: a sync started by the CLI shows as running within one poll', async () => {
	await fake({ delay: 0.8 });
	const page = await newPage({ clock: true });
	await load(page);
	const s0 = statusReqs(page).length;
	const job = cliSync();
	await until(() => job.lines.length > 0, 15000, 'the CLI start event');
	ok(job.lines[0].type === 'start', 'the CLI sync started', JSON.stringify(job.lines[0]));
	await page.clock.runFor(60000);
	await until(() => statusReqs(page).length > s0, 10000, 'the next poll');
	await page.waitForFunction(() => document.getElementById('sync').disabled && /Syncing…/.test(document.getElementById('progress').textContent), null, { timeout: 5000 });
	ok(statusReqs(page).length === s0 + 1, 'shown as running after one poll, button disabled', await progressText(page));
	const t0 = Date.now(), n0 = statusReqs(page).length;
	await enabled(page);
	const polls = statusReqs(page).length - n0, secs = (Date.now() - t0) / 1000;
	const code = await job.done;
	ok(code === 0 || code === 3, 'the CLI sync ended', `exit ${code} ${job.err}`);
	ok(polls >= 2 && polls <= secs / 2 + 2, `while it ran the page polled every 2 s (${polls} polls in ${secs.toFixed(1)} s)`);
	const seen = (await texts(page)).filter((t) => /elsewhere/.test(t));
	ok(seen.some((t) => { const m = COUNT.exec(t); return m && +m[1] > 0; }), 'its progress was shown from the status answer', JSON.stringify(seen));
	ok(/finished: Updated \d+/.test(await progressText(page)), 'its result is shown when it ends', await progressText(page));
	await page.context().close();
});

test('acceptance 4: 409, 429, error event, network failure, 403', async () => {
	await fake({ delay: 0.5 });
	let page = await newPage();
	await load(page);
	const job = cliSync();
	await until(async () => (await status(cfg.base)).running, 15000, 'status running');
	const post = page.waitForResponse((r) => /api\/sync$/.test(r.url()));
	await page.click('#sync');
	ok((await post).status() === 409, 'a second sync answers 409');
	await until(async () => (await texts(page)).some((t) => /already running/.test(t)), 5000, '409 text').catch(() => {});
	const t409 = (await texts(page)).find((t) => /^A sync is already running/.test(t));
	ok(t409, `409 shows its message ("${t409}")`, JSON.stringify(await texts(page)));
	await page.waitForFunction(() => document.getElementById('sync').disabled);
	ok(true, 'after a 409 the page follows the running sync');
	await job.done;
	await enabled(page);
	await page.context().close();

	// An error event in the stream: the fake rejects the configured key.
	await fake({ delay: 0, key: 'not-the-configured-key' });
	page = await newPage();
	await load(page);
	const resp = page.waitForResponse((r) => /api\/sync$/.test(r.url()));
	await page.click('#sync');
	const r200 = (await resp).status();
	await enabled(page);
	const txt = await progressText(page);
	ok(r200 === 200 && /^Sync failed: \S/.test(txt) && !/upstream_auth$/.test(txt), `an error event shows its message ("${txt}")`, `${r200} ${txt}`);
	await fake({ key: null });

	// A network failure.
	await page.route('**/api/sync', (route) => route.abort('connectionrefused'));
	await page.click('#sync');
	await enabled(page);
	ok(/Could not reach the server/.test(await progressText(page)), 'a network failure says so', await progressText(page));
	await page.unroute('**/api/sync');

	// 403: the same POST with another site's Origin.
	// Chromium will not let a page forge Origin, so the route sends it from
	// Playwright's side and hands the answer to the page.
	await page.route('**/api/sync', async (route) => {
		const resp = await route.fetch({ headers: { ...route.request().headers(), origin: 'http://evil.invalid' } });
		await route.fulfill({ response: resp });
	});
	const r403 = page.waitForResponse((r) => /api\/sync$/.test(r.url()));
	await page.click('#sync');
	const st403 = (await r403).status();
	await enabled(page);
	if (st403 === 403) ok(/^Refused \(forbidden_origin\)/.test(await progressText(page)), `403 shows its message ("${await progressText(page)}")`, await progressText(page));
	else out({ skip: '403 shows its message', reason: `could not forge Origin (answer ${st403})` });
	await page.unroute('**/api/sync');
	await page.context().close();

	// 429: stack B (min_interval_s large, under a prefix) after a CLI sync.
	if (!cfg.base2) { out({ skip: '429 shows the wait', reason: 'no second stack' }); return; }
	page = await newPage();
	await load(page, cfg.base2);
	const r429 = page.waitForResponse((r) => /api\/sync$/.test(r.url()));
	await page.click('#sync');
	const resp429 = await r429;
	await enabled(page);
	const ra = resp429.headers()['retry-after'];
	const wait = +ra < 120 ? `${ra} second${+ra === 1 ? '' : 's'}` : `${Math.ceil(ra / 60)} minute${Math.ceil(ra / 60) === 1 ? '' : 's'}`;
	ok(resp429.status() === 429 && ra > 0 && (await progressText(page)) === `Synced too recently: try again in ${wait}.`,
		`429 shows the wait from Retry-After ("${await progressText(page)}")`, `${resp429.status()} ${ra} ${await progressText(page)}`);
	await page.screenshot({ path: join(cfg.artifacts, 'desktop-429.png') });
	const prefix = new URL(cfg.base2).pathname;
	ok(page.reqs.every((r) => r.url().startsWith('data:') || new URL(r.url()).pathname.startsWith(prefix)), `under the prefix ${prefix} every URL stays relative to the page`);
	await page.context().close();
});

test('reduced motion: the spinner does not spin', async () => {
	const page = await newPage({ reducedMotion: 'reduce', scheme: 'dark' });
	await load(page);
	const r = await page.evaluate(() => {
		const b = document.getElementById('sync');
		b.classList.add('busy');
		const a = getComputedStyle(b.querySelector('.icon')).animationName, bg = getComputedStyle(document.body).backgroundColor;
		b.classList.remove('busy');
		return { a, bg };
	});
	ok(r.a === 'none', 'prefers-reduced-motion stops the spin', r.a);
	ok(r.bg !== 'rgb(246, 247, 249)', 'prefers-color-scheme: dark gives a dark page', r.bg);
	await page.context().close();
});

test('acceptance 5: screenshots, own host only, size', async () => {
	await fake({ delay: 0.35, quote_time: Math.floor(Date.now() / 1000) - 3600 });
	for (const [name, viewport, scheme] of [['desktop', DESKTOP, 'light'], ['phone', PHONE, 'light'], ['phone-dark', PHONE, 'dark']]) {
		const page = await newPage({ viewport, scheme });
		await load(page);
		const shot = (what) => page.screenshot({ path: join(cfg.artifacts, `${name}-${what}.png`) });
		await shot('idle');
		if (name === 'desktop') { await page.keyboard.press('Tab'); await page.keyboard.press('Enter'); }
		else await page.tap('#sync').catch(() => page.click('#sync'));
		await page.waitForFunction(() => { const m = /^Syncing… (\d+) \/ (\d+)/.exec(document.getElementById('progress').textContent); return m && +m[1] > 0; });
		await shot('running');
		await enabled(page);
		await page.waitForFunction(() => /just now/.test(document.getElementById('synced').textContent));
		await page.waitForFunction(() => document.querySelectorAll('#rows .badge.stale').length === 0);
		await sleep(200);
		await shot('finished');
		if (name === 'desktop') ok(await page.evaluate(() => document.activeElement.id === 'sync'), 'started from the keyboard, focus is back on the button');
		const wide = await page.evaluate(() => document.documentElement.scrollWidth);
		ok(wide <= viewport.width, `${name}: nothing wider than the ${viewport.width} px screen`, `scrollWidth ${wide}`);
		await page.context().close();
	}
	ok(true, 'screenshots written to ' + cfg.artifacts);
	ok(foreign.length === 0, 'the page made no request to any other host', foreign.slice(0, 5).join(' '));
	const files = readdirSync(cfg.www);
	const bytes = files.reduce((n, f) => n + statSync(join(cfg.www, f)).size, 0);
	ok(bytes < 40 * 1024, `www/ totals ${bytes} bytes in ${files.length} files (< 40 KB)`, files.join(' '));
	ok(pageErrors.length === 0, 'no script errors in any page', pageErrors.join('; '));
});

// Issue 11, acceptance 4: the value chart and the sparklines (www/chart.js),
// checked against the API's JSON rather than a screenshot. The store gets a
// history from `pricesync backfill` against the fake.
const DAYMS = 864e5;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const todayUTC = () => isoDay(Date.now());
function monthsBack(n) {
	const d = new Date(todayUTC() + 'T00:00:00Z');
	d.setUTCMonth(d.getUTCMonth() - n);
	return isoDay(+d);
}
async function api(path) {
	const r = await fetch(new URL(path, cfg.base), { cache: 'no-store', headers: authHeaders });
	if (!r.ok) throw new Error(`${path}: ${r.status}`);
	return r.json();
}
// What the chart must show of an answer (SPEC §7; chart.js's header): from
// the first day on which a holding had a price, known values only.
function drawable(points, from) {
	let i = 0;
	while (i < points.length && !(points[i].symbols > 0)) i++;
	return points.slice(i).filter((p) => typeof p.value_gbp === 'number' && p.date >= (from || ''));
}
const parsePath = (d) => [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [+m[1], +m[2]]);
// The path's points against the series: one per day, in date order, x in
// proportion to the date and y to the value (higher value, higher on the
// screen), within half a pixel. Returns a reason, or '' when they agree.
function follows(xy, series) {
	if (xy.length !== series.length) return `${xy.length} points for ${series.length} days`;
	if (series.length < 2) return '';
	const t = series.map((p) => Date.parse(p.date)), v = series.map((p) => p.value_gbp);
	const n = series.length - 1, ax = (xy[n][0] - xy[0][0]) / (t[n] - t[0]);
	const lo = v.indexOf(Math.min(...v)), hi = v.indexOf(Math.max(...v));
	const ay = v[hi] > v[lo] ? (xy[hi][1] - xy[lo][1]) / (v[hi] - v[lo]) : 0;
	if (!(ax > 0)) return 'x does not grow with the date';
	if (v[hi] > v[lo] && !(ay < 0)) return 'a higher value is not drawn higher';
	for (let i = 0; i <= n; i++) {
		const ex = xy[0][0] + (t[i] - t[0]) * ax, ey = xy[lo][1] + (v[i] - v[lo]) * ay;
		if (Math.abs(xy[i][0] - ex) > 0.5 || Math.abs(xy[i][1] - ey) > 0.5)
			return `point ${i} (${series[i].date}, ${v[i]}) at ${xy[i]}, expected ${ex.toFixed(2)},${ey.toFixed(2)}`;
	}
	return '';
}
const chartPath = (page) => page.getAttribute('#chart path.line', 'd');
const pressed = (page) => page.evaluate(() => [...document.querySelectorAll('#ranges button[aria-pressed="true"]')].map((b) => b.dataset.range));
const gbp = (page, v) => page.evaluate((v) => new Intl.NumberFormat(undefined, { style: 'currency', currency: 'GBP' }).format(v), v);

test('issue 11: the value chart follows the portfolio series; ranges, pointer, keyboard, sparklines', async () => {
	// NVDA (held) listed 200 days ago: the days before are partial. A sync
	// first, so SAP.DE's currency (EUR) is known from its profile.
	await fake({ delay: 0, quote_time: Math.floor(Date.now() / 1000) - 60, listed: { NVDA: isoDay(Date.now() - 200 * DAYMS) } });
	const sy = cliSync(), sc = await sy.done;
	ok(sc === 0 || sc === 3, `a sync first (exit ${sc})`, sy.err);
	const bf = spawn(cfg.cli, ['backfill', '--json', '--days', '400'], { env: cfg.env, stdio: ['ignore', 'pipe', 'pipe'] });
	let err = '';
	bf.stderr.on('data', (d) => { err += d; });
	bf.stdout.resume();
	const code = await new Promise((r) => bf.on('close', r));
	ok(code === 0 || code === 3, `pricesync backfill --days 400 stored a history (exit ${code})`, err);
	const page = await newPage({ viewport: { width: 1280, height: 1500 } });
	await load(page);
	await page.waitForSelector('#chart path.line');
	const year = (await api('api/portfolio/history')).points;
	let want = drawable(year, monthsBack(12));
	ok(want.length > 200 && new Set(want.map((p) => p.value_gbp)).size > 20, `the API has a year of varied values (${want.length} days)`, JSON.stringify(want.slice(0, 3)));
	ok(JSON.stringify(await pressed(page)) === '["1Y"]', '1Y is the range shown first (aria-pressed)');
	const why = follows(parsePath(await chartPath(page)), want);
	ok(!why, `1Y: the path's ${want.length} points follow value_gbp (date order, relative heights)`, why);
	// Each run of partial days is shaded from its first to its last day.
	const partial = await page.evaluate(() => [...document.querySelectorAll('#chart .partial rect.band')].map((m) => [m.dataset.from, m.dataset.to]))
		.then((rs) => want.filter((p) => rs.some(([f, t]) => p.date >= f && p.date <= t)).map((p) => p.date));
	const wantPartial = want.filter((p) => p.missing.length).map((p) => p.date);
	ok(JSON.stringify(partial) === JSON.stringify(wantPartial) && partial.length > 100 && partial.length < want.length, `partial days are marked (${partial.length}, the days whose missing is not empty)`, `${partial.slice(0, 5)}… vs ${wantPartial.slice(0, 5)}…`);
	const alt = await page.textContent('#chart-alt');
	const a = want[0], z = want[want.length - 1];
	ok(alt.includes(await gbp(page, a.value_gbp)) && alt.includes(await gbp(page, z.value_gbp)) && /^From .+ to .+: /.test(alt),
		'the text alternative gives the range and the first and last value', alt);
	const desc = await page.evaluate(() => { const c = document.getElementById('chart'); return [c.getAttribute('role'), c.tabIndex, document.getElementById(c.getAttribute('aria-describedby')).id]; });
	ok(desc[0] === 'slider' && desc[1] === 0 && desc[2] === 'chart-alt', 'the chart is a focusable slider described by the text alternative', JSON.stringify(desc));

	// The range buttons change the path, each to its own slice of the series.
	const longest = (await api('api/portfolio/history?from=' + isoDay(Date.now() - 30 * 365.25 * DAYMS))).points;
	for (const [r, from, src] of [['1M', monthsBack(1), year], ['3M', monthsBack(3), year], ['all', '', longest], ['1Y', monthsBack(12), year]]) {
		const before = await chartPath(page);
		await page.click(`#ranges button[data-range="${r}"]`);
		await page.waitForFunction((b) => document.querySelector('#chart path.line').getAttribute('d') !== b, before, { timeout: 5000 }).catch(() => {});
		const w = drawable(src, from), why = follows(parsePath(await chartPath(page)), w);
		const same = w.length === parsePath(before).length;	/* "all" may be the year */
		ok(!why && (same || (await chartPath(page)) !== before) && JSON.stringify(await pressed(page)) === JSON.stringify([r]),
			`${r}: the path changes to the ${w.length} days from ${w[0] && w[0].date}`, why || 'unchanged or not pressed');
	}

	// The pointer shows the date and value of the point under it.
	const box = await page.locator('#chart').boundingBox();
	const xy = parsePath(await chartPath(page));
	const k = Math.floor(want.length * 0.4);
	await page.mouse.move(box.x + xy[k][0], box.y + xy[k][1] + 20);
	await page.waitForSelector('#chart-tip:not([hidden])');
	const tip = await page.evaluate(() => { const t = document.getElementById('chart-tip'); return { date: t.dataset.date, value: +t.dataset.value, text: t.textContent }; });
	ok(tip.date === want[k].date && tip.value === want[k].value_gbp && tip.text.includes(await gbp(page, want[k].value_gbp)),
		`the pointer at ${want[k].date} shows its date and value ("${tip.text}")`, JSON.stringify(tip));
	const tdate = await page.evaluate((d) => new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' }).format(Date.parse(d)), want[k].date);
	ok(tip.text.includes(tdate.replace(/^\w+, /, '')) || tip.text.includes(tdate), 'the tip names the day in words', `${tip.text} / ${tdate}`);
	await page.screenshot({ path: join(cfg.artifacts, 'desktop-chart.png'), clip: { x: 0, y: 0, width: 1280, height: 1000 } });

	// The keyboard: focus shows the last day; arrows, Home and End move.
	await page.mouse.move(0, box.y + box.height + 300);
	await page.focus('#chart');
	const readout = () => page.evaluate(() => [document.getElementById('chart-tip').dataset.date, document.getElementById('chart').getAttribute('aria-valuetext')]);
	let [d, vt] = await readout();
	const okKeys = [d === z.date && vt.includes(await gbp(page, z.value_gbp))];
	await page.keyboard.press('ArrowLeft');
	[d] = await readout();
	okKeys.push(d === want[want.length - 2].date);
	await page.keyboard.press('Home');
	[d, vt] = await readout();
	okKeys.push(d === a.date && vt.includes(await gbp(page, a.value_gbp)));
	await page.keyboard.press('ArrowRight');
	[d] = await readout();
	okKeys.push(d === want[1].date);
	ok(okKeys.every(Boolean), 'keyboard focus shows the last day; ArrowLeft, Home, ArrowRight move the point (aria-valuetext too)', JSON.stringify(okKeys));

	// Sparklines: a symbol with daily points in the last 30 days has one, drawn
	// from them; one without has none.
	await page.waitForFunction(() => document.querySelectorAll('td.spark svg').length > 0);
	const syms = await page.evaluate(() => [...document.querySelectorAll('td.spark')].map((t) => t.dataset.sym));
	const from = isoDay(Date.now() - 30 * DAYMS) + 'T00:00:00Z';
	const hist = {};
	for (const s of syms) hist[s] = (await api(`api/prices/${encodeURIComponent(s)}/history?interval=day&from=${from}`).catch(() => ({ points: [] }))).points;
	const withH = syms.filter((s) => hist[s].length >= 2);
	await page.waitForFunction((n) => document.querySelectorAll('td.spark svg').length >= n, withH.length, { timeout: 10000 }).catch(() => {});
	const drawn = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('td.spark')].map((t) => [t.dataset.sym, t.querySelector('svg path') ? t.querySelector('svg path').getAttribute('d') : null])));
	ok(withH.length > 0 && withH.every((s) => drawn[s]), `a sparkline for each of the ${withH.length} symbols with history`, JSON.stringify(drawn));
	ok(syms.filter((s) => hist[s].length < 2).every((s) => !drawn[s]) && syms.some((s) => hist[s].length < 2), 'none for a symbol without history', syms.filter((s) => hist[s].length < 2).join(' '));
	const s0 = withH[0], sp = parsePath(drawn[s0] || '');
	const sh = hist[s0].map((p) => ({ date: p.time, value_gbp: p.price }));
	ok(!follows(sp, sh), `${s0}'s sparkline follows its ${sh.length} daily prices`, follows(sp, sh));
	await page.context().close();

	// Requests: only for the rows on screen, and not again on a status poll.
	const short = await newPage({ viewport: { width: 1280, height: 600 }, clock: true });
	await load(short);
	await short.waitForSelector('td.spark svg');
	await sleep(300);
	const sparkReqs = () => short.reqs.filter((r) => /\/history\?interval=day/.test(r.url())).length;
	const n0 = sparkReqs();
	ok(n0 > 0 && n0 < syms.length, `with the table half on screen, ${n0} of ${syms.length} sparklines were asked for`);
	await short.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
	await short.waitForFunction((n) => document.querySelectorAll('td.spark svg').length >= n, withH.length, { timeout: 10000 }).catch(() => {});
	ok((await short.locator('td.spark svg').count()) === withH.length, 'scrolled down, the rest are drawn');
	const histReqs = () => short.reqs.filter((r) => /\/history(\?|$)/.test(r.url())).length, h0 = histReqs(), st0 = statusReqs(short).length;
	await short.clock.runFor(61000);
	await until(() => statusReqs(short).length > st0, 10000, 'a status poll');
	await sleep(300);
	ok(histReqs() === h0, 'an unchanged status poll asks for no history again', `${histReqs() - h0} more`);
	await short.context().close();

	// A sync that changes a holding's price: the chart redraws with the new day.
	const page2 = await newPage({ viewport: { width: 1280, height: 1000 } });
	await load(page2);
	await page2.waitForSelector('#chart path.line');
	const p0 = await chartPath(page2);
	const aapl = (await api('api/prices')).symbols.find((s) => s.symbol === 'AAPL');
	await fake({ prices: { AAPL: +(aapl.price * 1.5).toFixed(2) }, quote_time: Math.floor(Date.now() / 1000) });
	await page2.click('#sync');
	await enabled(page2);
	await page2.waitForFunction((b) => document.querySelector('#chart path.line').getAttribute('d') !== b, p0, { timeout: 10000 }).catch(() => {});
	const after = drawable((await api('api/portfolio/history')).points, monthsBack(12));
	const why2 = follows(parsePath(await chartPath(page2)), after);
	ok((await chartPath(page2)) !== p0 && !why2 && after[after.length - 1].value_gbp !== z.value_gbp,
		`after a sync the chart redraws: the last day is now ${after[after.length - 1].value_gbp.toFixed(2)}`, why2 || 'unchanged');
	await page2.screenshot({ path: join(cfg.artifacts, 'desktop-chart-after-sync.png') });
	await fake({ prices: {} });
	await page2.context().close();
	for (const [name, viewport, scheme] of [['phone-chart', PHONE, 'light'], ['phone-chart-dark', PHONE, 'dark']]) {
		const ph = await newPage({ viewport, scheme });
		await load(ph);
		await ph.waitForSelector('#chart path.line');
		await ph.waitForSelector('td.spark svg');
		// Every row on screen once, so the full-page picture has all sparklines.
		await ph.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
		await ph.waitForFunction((n) => document.querySelectorAll('td.spark svg').length >= n, withH.length, { timeout: 10000 }).catch(() => {});
		await ph.evaluate(() => window.scrollTo(0, 0));
		await ph.focus('#chart');
		await ph.keyboard.press('PageDown');
		await ph.screenshot({ path: join(cfg.artifacts, name + '.png'), fullPage: true });
		ok((await ph.evaluate(() => document.documentElement.scrollWidth)) <= viewport.width, `${name}: nothing wider than the screen`);
		await ph.context().close();
	}
});

try {
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
	diag('chromium ' + browser.version());
} catch (e) {
	ok(false, 'chromium starts', e.message);
	process.exit(1);
}
const only = process.env.DASH_ONLY;
for (const t of tests) {
	if (only && !t.name.includes(only)) continue;
	diag('--- ' + t.name);
	try {
		await t.fn();
	} catch (e) {
		ok(false, t.name + ': ' + e.message.split('\n')[0], e.stack);
	}
}
await browser.close();
out({ end: true });
