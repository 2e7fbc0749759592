// fake-memdeltad.mjs - a development stand-in for memdeltad built on the
// memdelta CLI: with the command line of memdeltad (-f --db FILE --listen
// ADDR:PORT --watch-name NAME --interval S), it snapshots the processes named
// NAME with `memdelta snapshot PID --format=json`, keeps them in memory, and
// serves web/static/ and the API of docs/api.md (diffs by `memdelta diff`).
// It lets e2e.mjs run on real collected data before memdeltad exists:
//   MD_FAKE_CLI=/path/to/memdelta node fake-memdeltad.mjs -f --db x ...
// Not used by `make check`.

import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const static_dir = path.resolve(here, '../../web/static');
const dyg = '/usr/share/javascript/dygraphs';
const cli = process.env.MD_FAKE_CLI;
const TYPES = ['image', 'mapped', 'shareable', 'heap', 'managed_heap', 'stack', 'private', 'page_table', 'unusable', 'free'];

const argv = process.argv.slice(2);
const opt = (k) => argv[argv.indexOf(k) + 1];
const [host, port] = opt('--listen').split(':');
const name = opt('--watch-name');
const interval = Number(opt('--interval') || 10) * 1000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-memdeltad-'));

const snaps = []; // {id, time_ms, pid, start_time, instance, text, obj}
let instance = 0;
let last_ident = '';

function find_pid() {
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name) return Number(d);
		} catch (e) {
			/* gone */
		}
	}
	return 0;
}

function tick() {
	const pid = find_pid();
	if (!pid) return;
	let text;
	try {
		text = execFileSync(cli, ['snapshot', String(pid), '--format=json'], { encoding: 'utf8' });
	} catch (e) {
		return;
	}
	const obj = JSON.parse(text);
	const ident = `${obj.pid}/${obj.start_time}`;
	if (ident !== last_ident) {
		instance++;
		last_ident = ident;
	}
	const id = snaps.length + 1;
	fs.writeFileSync(path.join(tmp, `${id}.json`), text);
	snaps.push({ id, time_ms: obj.time, pid: obj.pid, instance, text, obj, start_ms: obj.start_time_ms });
}
setInterval(tick, interval);
tick();

function json(res, status, body) {
	res.writeHead(status, { 'Content-Type': 'application/json' });
	res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function point(s) {
	const t = s.obj.totals;
	return {
		time_ms: s.time_ms,
		snapshot: s.id,
		instance: s.instance,
		committed: TYPES.map((n) => (n === 'free' ? 0 : (t.types[n] || {}).committed || 0)),
		resident: TYPES.map((n) => (n === 'free' ? 0 : (t.types[n] || {}).resident || 0)),
		private_committed: t.private_committed,
		private_touched: t.private_touched,
	};
}

http
	.createServer((req, res) => {
		const u = new URL(req.url, 'http://x');
		const p = u.pathname;
		let m;
		if (p === '/healthz') return json(res, 200, { status: 'ok', storage: 'ok', storage_error: '', snapshots_written: snaps.length, ticks_missed: 0, last_snapshot_ms: 0, started_ms: 0, targets: 1, db_bytes: 0, version: 'fake' });
		if (p === '/api/v1/targets') {
			if (!snaps.length) return json(res, 200, { targets: [] });
			const l = snaps[snaps.length - 1];
			return json(res, 200, {
				targets: [
					{
						id: 1,
						name,
						last_snapshot: l.id,
						last_time_ms: l.time_ms,
						instance: l.instance,
						pid: l.pid,
						instances: instance,
						private_committed: l.obj.totals.private_committed,
						private_touched: l.obj.totals.private_touched,
						committed: {},
						resident: {},
						trend: 'none',
						runtime: { interval_s: interval / 1000, ticks: snaps.length, ticks_missed: 0, last_cost_ns: 0, watching: true },
					},
				],
			});
		}
		if (p === '/api/v1/targets/1/snapshots')
			return json(res, 200, { target: 1, snapshots: snaps.map((s) => ({ id: s.id, time_ms: s.time_ms, instance: s.instance, pid: s.pid, regions: s.obj.regions.length, flags: [], collect_ns: 0 })) });
		if (p === '/api/v1/targets/1/instances') {
			const ids = [...new Set(snaps.map((s) => s.instance))];
			return json(res, 200, {
				target: 1,
				instances: ids.map((k) => {
					const ss = snaps.filter((s) => s.instance === k);
					return { id: k, pid: ss[0].pid, start_time: 0, start_time_ms: ss[0].start_ms, name, first_time_ms: ss[0].time_ms, last_time_ms: ss[ss.length - 1].time_ms, snapshots: ss.length };
				}),
			});
		}
		if (p === '/api/v1/targets/1/timeline') {
			const restarts = [];
			for (let i = 1; i < snaps.length; i++) if (snaps[i].instance !== snaps[i - 1].instance) restarts.push({ time_ms: snaps[i].start_ms || snaps[i].time_ms, instance: snaps[i].instance, pid: snaps[i].pid });
			return json(res, 200, { target: 1, from_ms: snaps.length ? snaps[0].time_ms : 0, to_ms: snaps.length ? snaps[snaps.length - 1].time_ms : 0, types: TYPES, points: snaps.map(point), restarts });
		}
		if ((m = p.match(/^\/api\/v1\/snapshots\/(\d+)$/))) {
			const s = snaps[Number(m[1]) - 1];
			if (!s) return json(res, 404, { error: 'no such snapshot' });
			return json(res, 200, s.text.replace(/}\s*$/, `,"id":${s.id},"target":1}`));
		}
		if (p === '/api/v1/diff') {
			const a = snaps[Number(u.searchParams.get('a')) - 1];
			const b = snaps[Number(u.searchParams.get('b')) - 1];
			if (!a || !b) return json(res, 404, { error: 'no such snapshot' });
			let d = execFileSync(cli, ['diff', path.join(tmp, `${a.id}.json`), path.join(tmp, `${b.id}.json`), '--format=json'], { encoding: 'utf8' });
			d = d.replace(/}\s*$/, `,"summary":{"before":${JSON.stringify(a.obj.totals)},"after":${JSON.stringify(b.obj.totals)}}}`);
			return json(res, 200, d);
		}
		if (p.startsWith('/api/')) return json(res, 404, { error: 'unknown path' });
		const file = p === '/dygraph.min.js' || p === '/dygraph.min.css' ? path.join(dyg, p) : path.join(static_dir, p === '/' ? 'index.html' : path.basename(p));
		fs.readFile(file, (err, data) => {
			if (err) return json(res, 404, { error: 'not found' });
			const ext = path.extname(file);
			res.writeHead(200, { 'Content-Type': ext === '.js' ? 'text/javascript' : ext === '.css' ? 'text/css' : 'text/html' });
			res.end(data);
		});
	})
	.listen(Number(port), host);
