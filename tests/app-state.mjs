// app-state.mjs: the dashboard's state machine (www/app.js's transition)
// under node, no browser; run by tests/t-app.py. app.js exports its pure
// part when there is no document. Speaks TAP. Its one argument is app.js.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const app = createRequire(import.meta.url)(resolve(process.argv[2]));
const { initial, transition, ago } = app;
let n = 0, failed = 0;
function ok(cond, name, diag) {
	n++;
	if (!cond) failed++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
	if (!cond && diag !== undefined) console.log('# ' + JSON.stringify(diag));
	return cond;
}
function freeze(o) {
	if (o && typeof o === 'object') { Object.values(o).forEach(freeze); Object.freeze(o); }
	return o;
}
// Events in turn from s; every state and event frozen, so a transition
// that changes its input throws (app.js is strict).
function run(s, ...events) {
	for (const e of events) s = transition(freeze(s), freeze(e));
	return s;
}
const ev = (event) => ({ type: 'stream-event', event });
const polled = (status) => ({ type: 'status-polled', status });
const failedWith = (error) => ({ type: 'stream-failed', error });
const text = (s) => s.msg && s.msg.text, kind = (s) => s.msg && s.msg.kind;

const s0 = freeze(initial());
ok(s0.sync === 'idle' && s0.msg === null && s0.status === null, 'the page starts idle, with nothing said');
ok(transition(s0, { type: 'no-such-event' }) === s0, 'an unknown event changes nothing');

// Our sync: the button, the stream's events, its end.
const ours = run(s0, { type: 'sync-clicked' });
ok(ours.sync === 'ours' && text(ours) === 'Starting sync…' && kind(ours) === 'run', 'sync-clicked: idle becomes ours, "Starting sync…"');
ok(transition(ours, { type: 'sync-clicked' }) === ours, 'a second click while ours changes nothing (no second POST)');
let s = run(ours, ev({ type: 'start', total: 10 }), ev({ type: 'progress', done: 3, total: 10, failed: 1 }));
ok(text(s) === 'Syncing… 3 / 10, 1 failed' && kind(s) === 'run' && !s.ended, 'progress events: "Syncing… 3 / 10, 1 failed"', text(s));
ok(run(s, ev({ type: 'symbol', symbol: 'X' })) === s, 'an event of another type changes nothing');
s = run(s, ev({ type: 'complete', updated: 9, failed: 1, failed_symbols: ['NOSUCH1'] }));
ok(s.sync === 'ours' && s.ended && text(s) === 'Updated 9, 1 failed (NOSUCH1)' && kind(s) === 'warn', 'complete: the result, still ours until the stream ends', s);
const done = run(s, { type: 'stream-ended' });
ok(done.sync === 'idle' && text(done) === text(s) && done.wantPrices, 'stream-ended after the result: idle, the result stays, prices wanted', done);
ok(run(s, failedWith(new TypeError('x'))) === s, 'a failure after the result changes nothing');
s = run(ours, ev({ type: 'complete', updated: 4, fx_error: 'no rate' }));
ok(text(s) === 'Updated 4. Exchange rate not updated: no rate' && kind(s) === 'ok', 'complete without failures is ok; an fx error is said', text(s));
s = run(ours, ev({ type: 'error', code: 'upstream_auth', message: 'the key was refused' }));
ok(s.ended && text(s) === 'Sync failed: the key was refused' && kind(s) === 'bad', 'an error event: its message', text(s));
s = run(ours, ev({ type: 'progress', done: 1, total: 5 }), { type: 'stream-ended' });
ok(s.sync === 'idle' && kind(s) === 'warn' && /^The connection closed before the sync ended/.test(text(s)), 'a stream that ends without a result says so', text(s));

// Refusals and failures of the POST.
const refused = (e) => run(ours, failedWith(e), { type: 'stream-ended' });
s = refused({ status: 409, message: '' });
ok(s.sync === 'idle' && text(s) === 'A sync is already running.' && kind(s) === 'warn', '409: "A sync is already running." (warn), then idle', s);
ok(text(refused({ status: 429, retry: 90 })) === 'Synced too recently: try again in 90 seconds.', '429: the wait in seconds under 2 minutes');
ok(text(refused({ status: 429, retry: 601 })) === 'Synced too recently: try again in 11 minutes.', '429: else in minutes, rounded up');
ok(text(refused({ status: 429, retry: NaN })) === 'Synced too recently.', '429 without Retry-After');
s = refused({ status: 403, code: 'forbidden_origin', message: 'the Origin is not allowed' });
ok(text(s) === 'Refused (forbidden_origin): the Origin is not allowed' && kind(s) === 'bad', '403: code and message', text(s));
ok(text(refused({ status: 502, statusText: 'Bad Gateway' })) === 'Sync failed (502): Bad Gateway', 'another status: its status text');
s = refused(new TypeError('Failed to fetch'));
ok(text(s) === 'Could not reach the server: check the connection and try again.' && kind(s) === 'bad', 'a network failure says so', text(s));

// A sync that runs elsewhere, seen through the status.
const before = { running: false, last_synced: '2026-12-01T10:00:00Z', last_result: { updated: 3 }, fx: { rate: 0.78 } };
const idle = run(s0, polled(before));
ok(idle.sync === 'idle' && idle.wantPrices && idle.status === before, 'the first status: stored, prices wanted', idle);
const loaded = run(idle, { type: 'prices-loaded', prices: { symbols: [] } });
ok(!loaded.wantPrices && loaded.prices.symbols.length === 0, 'prices-loaded: kept, no longer wanted');
ok(run(loaded, { type: 'prices-loaded', prices: null }).prices === loaded.prices, 'prices unchanged (304): the kept ones stay');
ok(!run(loaded, polled({ ...before })).wantPrices, 'the same status again: no prices wanted');
ok(run(loaded, polled({ ...before, fx: { rate: 0.8 } })).wantPrices, 'a new rate: prices wanted');
const running = { ...before, running: true, progress: { type: 'progress', done: 5, total: 20 } };
const away = run(loaded, polled(running));
ok(away.sync === 'elsewhere' && text(away) === 'Syncing… 5 / 20 (started elsewhere)' && kind(away) === 'run', 'status running while idle: elsewhere, with its progress', away);
ok(text(run(loaded, polled({ ...running, progress: { type: 'complete', updated: 20 } }))) === 'Syncing… (started elsewhere)', 'a finished progress event is not shown as progress');
ok(transition(away, { type: 'sync-clicked' }) === away, 'no POST while a sync runs elsewhere');
s = run(away, polled({ ...before, last_synced: '2026-12-01T11:00:00Z', last_result: { updated: 20 } }));
ok(s.sync === 'idle' && text(s) === 'Sync finished: Updated 20' && kind(s) === 'ok' && s.wantPrices, 'it ends with a new result: idle, "Sync finished: …", prices wanted', s);
s = run(away, polled(before));
ok(s.sync === 'idle' && text(s) === 'The other sync stopped before it completed.' && kind(s) === 'warn', 'it ends with no new result: says it stopped', text(s));
s = run(ours, polled(running));
ok(s.sync === 'ours' && text(s) === 'Starting sync…' && s.status.running, 'status running while ours: still ours, our text stays');
s = run(ours, polled(running), ev({ type: 'complete', updated: 1 }), { type: 'stream-ended' });
ok(s.sync === 'idle', 'ours ends idle even when the last status said running (the next poll decides)');

// Polling problems.
const notice = (e, what) => run(s0, { type: 'poll-failed', error: e, what }).notice;
ok(notice(new TypeError('x'), 'status') === 'Cannot reach the server; retrying.', 'poll failed, out of reach');
ok(notice({ status: 502, statusText: 'Bad Gateway' }, 'status') === 'Status unavailable (502): Bad Gateway', 'status answered an HTTP error');
ok(notice({ status: 500 }, 'prices') === 'Prices unavailable (500)', 'prices answered an HTTP error');
ok(notice(new SyntaxError('bad JSON'), 'status') === 'bad JSON', 'any other error: its message');
s = run(s0, { type: 'poll-failed', error: new TypeError('x'), what: 'status' }, polled(null));
ok(s.notice === '' && s.status === null, 'the next poll that answers (304 too) clears the notice');

// "N minutes ago".
const now = Date.parse('2026-12-03T12:00:00Z');
const agos = [30, 60, 179, 7200, 86400 * 3].map((sec) => ago(now - sec * 1000, now));
ok(JSON.stringify(agos) === JSON.stringify(['just now', '1 minute ago', '3 minutes ago', '2 hours ago', '3 days ago']), 'ago: ' + agos.join(', '), agos);

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
