// mock-server.mjs - a stand-in for memdeltad's HTTP server while developing
// the UI: serves web/static/ and Debian's dygraphs, and answers the API of
// docs/api.md with generated data of the documented shape (two targets, a
// restart, a diff with new, freed and grown ranges, a trend fitted to the
// second instance, one firing and one resolved alert).
//
// Usage: node mock-server.mjs [PORT]   (default 7374; prints "listening PORT")

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const static_dir = path.resolve(here, '../../web/static');
const dygraphs_dir = process.env.MD_DYGRAPHS_DIR || '/usr/share/javascript/dygraphs';
const port = Number(process.argv[2] || 7374);

const TYPES = ['image', 'mapped', 'shareable', 'heap', 'managed_heap', 'stack', 'private', 'page_table', 'unusable', 'free'];
const MiB = 1048576;
const T0 = Date.UTC(2026, 10, 22, 4, 0, 0);

// Snapshot N of target 1: private data grows by 16 MiB every 5 snapshots;
// the process restarts at snapshot 30.
function regions_for(n) {
	const pid = n < 30 ? 4242 : 5151;
	const k = n < 30 ? n : n - 30;
	const r = [];
	let base = 0x55d0c0a00000n;
	const add = (size, type, state, prot, committed, resident, detail) => {
		r.push({ base, size, type, state, protection: prot, committed, resident, detail });
		base += BigInt(size) + 0x1000n;
	};
	add(8192, 'image', 'commit', 'r--p', 0, 8192, '/usr/bin/java');
	add(65536, 'image', 'commit', 'r-xp', 0, 65536, '/usr/bin/java');
	add(4096, 'image', 'commit', 'rw-p', 4096, 4096, '/usr/bin/java');
	add(135168 + 4096 * k, 'heap', 'commit', 'rw-p', 135168 + 4096 * k, 16384 + 4096 * k, '[heap] (brk)');
	base = 0x7f3a10000000n;
	const steps = Math.floor(k / 5);
	for (let i = 0; i < steps; i++) add(16 * MiB, 'private', 'commit', 'rw-p', 16 * MiB, 16 * MiB, '');
	if (k % 7 < 3) add(4 * MiB, 'private', 'commit', 'rw-p', 4 * MiB, 2 * MiB, '[anon:scratch]');
	add(2 * MiB, 'mapped', 'commit', 'r--p', 0, MiB, '/usr/lib/locale/C.utf8/LC_CTYPE');
	add(8 * MiB, 'shareable', 'commit', 'rw-s', 0, MiB, '/dev/shm/cache (deleted)');
	add(64 * MiB - 132 * 1024, 'heap', 'reserve', '---p', 0, 0, 'glibc malloc arena tail');
	add(1708032, 'image', 'commit', 'r-xp', 0, 1200000, '/usr/lib/x86_64-linux-gnu/libc.so.6');
	add(53248, 'image', 'commit', 'rw-p', 53248, 20480, '/usr/lib/x86_64-linux-gnu/libc.so.6 [.bss] (inferred: anonymous, after its data segment)');
	add(4096, 'stack', 'reserve', '---p', 0, 0, 'thread stack guard, tid 4250');
	add(8 * MiB, 'stack', 'commit', 'rw-p', 8 * MiB, 32768, 'thread stack, tid 4250 (stack pointer in range)');
	base = 0x7ffcdf670000n;
	add(135168, 'stack', 'commit', 'rw-p', 135168, 12288, `[stack] main thread, tid ${pid}`);
	r.push({ base: 18446744073699065856n, size: 4096, type: 'image', state: 'commit', protection: '--xp', committed: 0, resident: 0, detail: '[vsyscall]' });
	return { pid, regions: r };
}

function zero_row() {
	return { size: 0, committed: 0, reserved: 0, resident: 0, private_resident: 0, shared_resident: 0, pss: 0, swap: 0, locked: 0, regions: 0, blocks: 0, largest: 0 };
}

function totals_of(regions, ptb) {
	const types = Object.fromEntries(TYPES.map((t) => [t, zero_row()]));
	const states = { commit: zero_row(), reserve: zero_row() };
	const all = zero_row();
	for (const g of regions) {
		const priv = g.protection.endsWith('p') ? g.resident : 0;
		for (const row of [types[g.type], states[g.state], all]) {
			row.size += g.size;
			row.committed += g.committed;
			row.reserved += g.state === 'reserve' ? g.size : 0;
			row.resident += g.resident;
			row.private_resident += priv;
			row.shared_resident += g.resident - priv;
			row.pss += priv;
			row.regions += 1;
			row.blocks += 1;
			row.largest = Math.max(row.largest, g.size);
		}
	}
	for (const row of [types.page_table, states.commit, all]) {
		row.committed += ptb;
		row.resident += ptb;
		row.private_resident += ptb;
	}
	const pc = ['heap', 'managed_heap', 'stack', 'private', 'page_table'].reduce((s, t) => s + types[t].committed, 0);
	const pt = ['heap', 'managed_heap', 'stack', 'private', 'page_table'].reduce((s, t) => s + types[t].private_resident, 0);
	return { types, states, all, free: 140737488355328 - all.size, private_committed: pc, private_touched: pt };
}

const N = 40;
const snaps = [];
for (let n = 0; n < N; n++) {
	const { pid, regions } = regions_for(n);
	const ptb = 40960 + 4096 * Math.floor(n / 5);
	snaps.push({ id: 100 + n, n, pid, time_ms: T0 + n * 10000, regions, ptb, totals: totals_of(regions, ptb), instance: pid === 4242 ? 1 : 2 });
}
const by_id = new Map(snaps.map((s) => [s.id, s]));

// JSON with exact 64-bit integers (BigInt written as digits).
function to_json(v) {
	return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `@@${x}@@` : x)).replace(/"@@(\d+)@@"/g, '$1');
}

function snapshot_object(s) {
	return {
		pid: s.pid,
		start_time: s.pid * 10,
		start_time_ms: T0 - 1000,
		name: 'java',
		cmdline: 'java -Xmx2g -jar app.jar',
		time: s.time_ms,
		flags: [],
		page_table_bytes: s.ptb,
		collect_ns: 812345,
		regions: s.regions.map((g) => ({
			base: g.base,
			base_hex: '0x' + g.base.toString(16),
			size: g.size,
			allocation_base: g.base,
			type: g.type,
			state: g.state,
			protection: g.protection,
			committed: g.committed,
			resident: g.resident,
			private: g.protection.endsWith('p') ? g.resident : 0,
			shared: g.protection.endsWith('p') ? 0 : g.resident,
			pss: g.resident,
			swap: 0,
			locked: 0,
			detail: g.detail,
		})),
		totals: s.totals,
		id: s.id,
		target: 1,
	};
}

function diff_of(a, b) {
	const ident = (s) => ({ pid: s.pid, start_time: s.pid * 10, start_time_ms: T0 - 1000, name: 'java', time: s.time_ms, truncated: false, snapshot: s.id });
	const key = (g) => g.base.toString();
	const am = new Map(a.regions.map((g) => [key(g), g]));
	const bm = new Map(b.regions.map((g) => [key(g), g]));
	const entries = [];
	const zero = () => ({ new_bytes: 0, freed_bytes: 0, committed_delta: 0, resident_delta: 0, private_delta: 0, swap_delta: 0, new: 0, freed: 0, grew: 0, shrank: 0, changed: 0, same: 0 });
	const tt = Object.fromEntries(TYPES.map((t) => [t, zero()]));
	const all = zero();
	const push = (kind, g, o) => {
		const e = {
			kind,
			base: g.base,
			size: g.size,
			type: g.type,
			before_type: o ? o.type : g.type,
			committed_delta: kind === 'freed' ? -g.committed : g.committed - (o ? o.committed : 0),
			resident_delta: kind === 'freed' ? -g.resident : g.resident - (o ? o.resident : 0),
			private_delta: 0,
			swap_delta: 0,
			state: g.state,
			protection: g.protection,
			detail: g.detail,
		};
		e.private_delta = e.resident_delta;
		if (o) Object.assign(e, { before_state: o.state, before_protection: o.protection, before_detail: o.detail });
		for (const row of [tt[g.type], all]) {
			row[kind] += 1;
			if (kind === 'new') row.new_bytes += g.size;
			if (kind === 'freed') row.freed_bytes += g.size;
			row.committed_delta += e.committed_delta;
			row.resident_delta += e.resident_delta;
			row.private_delta += e.private_delta;
		}
		if (kind !== 'same') entries.push(e);
	};
	for (const g of b.regions) {
		const o = am.get(key(g));
		if (!o) push('new', g, null);
		else if (o.committed !== g.committed || o.resident !== g.resident || o.size !== g.size)
			push(g.committed > o.committed || (g.committed === o.committed && g.resident > o.resident) ? 'grew' : 'shrank', g, o);
		else push('same', g, o);
	}
	for (const g of a.regions) if (!bm.has(key(g))) push('freed', g, null);
	entries.sort((x, y) => (x.base < y.base ? -1 : 1));
	return { before: ident(a), after: ident(b), totals: { all, types: tt }, entries, summary: { before: a.totals, after: b.totals } };
}

function timeline() {
	const last = snaps[snaps.length - 1];
	return {
		target: 1,
		from_ms: snaps[0].time_ms,
		to_ms: last.time_ms,
		types: TYPES,
		points: snaps.map((s) => ({
			time_ms: s.time_ms,
			snapshot: s.id,
			instance: s.instance,
			committed: TYPES.map((t) => s.totals.types[t].committed),
			resident: TYPES.map((t) => s.totals.types[t].resident),
			private_committed: s.totals.private_committed,
			private_touched: s.totals.private_touched,
		})),
		restarts: [{ time_ms: snaps[30].time_ms, instance: 2, pid: 5151 }],
	};
}

// A least-squares line through the second instance's committed private
// bytes, in the shape of /trend (the mock does not run the real detector).
function trend() {
	const pts = snaps.filter((s) => s.instance === 2);
	const n = pts.length;
	const xs = pts.map((s) => s.time_ms);
	const ys = pts.map((s) => s.totals.private_committed);
	const mx = xs.reduce((a, b) => a + b, 0) / n;
	const my = ys.reduce((a, b) => a + b, 0) / n;
	let sxy = 0;
	let sxx = 0;
	for (let i = 0; i < n; i++) {
		sxy += (xs[i] - mx) * (ys[i] - my);
		sxx += (xs[i] - mx) ** 2;
	}
	const b = sxy / sxx;
	const at = (x) => my + b * (x - mx);
	const t0 = xs[0];
	const t1 = xs[n - 1];
	return {
		target: 1, instance: 2, series: 'private_committed', instance_start_ms: t0, now_ms: t1, samples: n,
		params: { warmup_ms: 0, window_ms: 21600000, min_span_ms: 60000, step_ms: 10000, min_window_ms: 0, alpha: 0.01, min_r2: 0.7, min_bytes_per_h: 524288, min_pct_per_h: 0.1 },
		ok: true, points: n, t0_ms: t0, t1_ms: t1, slope_bytes_per_h: b * 3600000, intercept: at(t0), level: at(t1), start_level: ys[0],
		pct_per_h: ((b * 3600000) / ys[0]) * 100, r2: 0.95, mk_s: 100, mk_z: 5, mk_p: 1e-6, recent_slope_bytes_per_h: b * 3600000, holds: true,
		line: [{ time_ms: t0, value: at(t0) }, { time_ms: t1, value: at(t1) }],
	};
}

function alerts() {
	const last = snaps[snaps.length - 1];
	const base = { target: 1, target_name: 'java', instance: 2, rule: 'trend', series: 'private_committed', r2: 0.95, mk_p: 1e-6, pct_per_h: 120 };
	const firing = { ...base, id: 2, state: 'firing', started_ms: last.time_ms - 60000, fired_ms: last.time_ms - 30000, resolved_ms: 0, updated_ms: last.time_ms, baseline_snapshot: 130, trigger_snapshot: last.id, slope_bytes_per_h: trend().slope_bytes_per_h, value: last.totals.private_committed, summary: 'java (pid 5151): Private Data grows (mock)' };
	const resolved = { ...base, id: 1, instance: 1, series: 'committed:heap', state: 'resolved', started_ms: T0 + 50000, fired_ms: T0 + 80000, resolved_ms: T0 + 200000, updated_ms: T0 + 200000, baseline_snapshot: 105, trigger_snapshot: 120, slope_bytes_per_h: 1474560, value: 200000, summary: 'resolved: java (pid 4242): Heap grows (mock)' };
	return [firing, resolved];
}

function targets() {
	const last = snaps[snaps.length - 1];
	const t1 = {
		id: 1,
		name: 'java',
		last_snapshot: last.id,
		last_time_ms: last.time_ms,
		instance: 2,
		pid: last.pid,
		instances: 2,
		private_committed: last.totals.private_committed,
		private_touched: last.totals.private_touched,
		committed: Object.fromEntries(TYPES.map((t) => [t, last.totals.types[t].committed])),
		resident: Object.fromEntries(TYPES.map((t) => [t, last.totals.types[t].resident])),
		trend: 'rising',
		runtime: { interval_s: 10, ticks: 40, ticks_missed: 0, last_cost_ns: 1800000, watching: true, trend_slope_bytes_per_h: trend().slope_bytes_per_h, alert_state: 'firing' },
	};
	const t2 = { ...t1, id: 2, name: 'w3wp.exe', instances: 1, pid: 900, private_committed: 52428800, last_snapshot: 100, runtime: undefined };
	return { targets: [t1, t2] };
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

function send(res, status, type, body) {
	res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
	res.end(body);
}

function json(res, status, obj) {
	send(res, status, 'application/json', to_json(obj));
}

const server = http.createServer((req, res) => {
	const u = new URL(req.url, 'http://localhost');
	const p = u.pathname;
	let m;
	// MD_MOCK_TOKEN: the API wants the token, as a non-loopback memdeltad does.
	const token = process.env.MD_MOCK_TOKEN;
	if (token && (p.startsWith('/api/') || p === '/healthz')) {
		const cookie = (req.headers.cookie || '').split(/;\s*/).find((c) => c.startsWith('memdelta_token='));
		const given = req.headers.authorization === `Bearer ${token}` || (cookie && decodeURIComponent(cookie.slice(15)) === token);
		if (!given) {
			res.setHeader('WWW-Authenticate', 'Bearer');
			return json(res, 401, { error: 'access token required' });
		}
	}
	if (p === '/healthz')
		return json(res, 200, { status: 'ok', storage: 'ok', storage_error: '', snapshots_written: N, ticks_missed: 0, last_snapshot_ms: snaps[N - 1].time_ms, started_ms: T0, targets: 2, db_bytes: 5242880, version: '0.1.0' });
	if (p === '/api/v1/targets') return json(res, 200, targets());
	if (p === '/api/v1/alerts') {
		const st = u.searchParams.get('state');
		const tg = u.searchParams.get('target');
		return json(res, 200, { alerts: alerts().filter((a) => (!st || a.state === st) && (!tg || String(a.target) === tg)) });
	}
	if ((m = p.match(/^\/api\/v1\/alerts\/(\d+)$/))) {
		const a = alerts().find((x) => String(x.id) === m[1]);
		if (!a) return json(res, 404, { error: `alert ${m[1]} not found` });
		return json(res, 200, { ...a, evidence: { rule: a.rule, types: [{ type: 'private', label: 'Private Data', share: 1, slope_bytes_per_h: a.slope_bytes_per_h }], regions: [] } });
	}
	if (p === '/api/v1/targets/1/trend') return json(res, 200, trend());
	if ((m = p.match(/^\/api\/v1\/targets\/(\d+)\/(timeline|snapshots|instances)$/))) {
		if (m[1] === '2') {
			if (m[2] === 'timeline') return json(res, 200, { target: 2, from_ms: T0, to_ms: T0, types: TYPES, points: [], restarts: [] });
			if (m[2] === 'snapshots') return json(res, 200, { target: 2, snapshots: [] });
		}
		if (m[1] !== '1' && m[1] !== '2') return json(res, 404, { error: 'no such target' });
		if (m[2] === 'timeline') return json(res, 200, timeline());
		if (m[2] === 'snapshots')
			return json(res, 200, { target: 1, snapshots: snaps.map((s) => ({ id: s.id, time_ms: s.time_ms, instance: s.instance, pid: s.pid, regions: s.regions.length, flags: [], collect_ns: 1800000 })) });
		const inst = (k, pid) => {
			const ss = snaps.filter((s) => s.instance === k);
			return { id: k, pid, start_time: pid * 10, start_time_ms: ss[0].time_ms, name: 'java', first_time_ms: ss[0].time_ms, last_time_ms: ss[ss.length - 1].time_ms, snapshots: ss.length };
		};
		return json(res, 200, { target: 1, instances: [inst(1, 4242), inst(2, 5151)] });
	}
	if ((m = p.match(/^\/api\/v1\/snapshots\/(\d+)$/))) {
		const s = by_id.get(Number(m[1]));
		return s ? json(res, 200, snapshot_object(s)) : json(res, 404, { error: 'no such snapshot' });
	}
	if (p === '/api/v1/diff') {
		const a = by_id.get(Number(u.searchParams.get('a')));
		const b = by_id.get(Number(u.searchParams.get('b')));
		if (!a || !b) return json(res, 404, { error: 'no such snapshot' });
		return json(res, 200, diff_of(a, b));
	}
	if (p.startsWith('/api/')) return json(res, 404, { error: 'unknown path' });
	let file;
	if (p === '/dygraph.min.js' || p === '/dygraph.min.css') file = path.join(dygraphs_dir, p);
	else file = path.join(static_dir, p === '/' ? 'index.html' : path.normalize(p).replace(/^([/\\])+/, ''));
	if (!file.startsWith(static_dir) && !file.startsWith(dygraphs_dir)) return json(res, 404, { error: 'not found' });
	fs.readFile(file, (err, data) => {
		if (err) return json(res, 404, { error: 'not found' });
		send(res, 200, MIME[path.extname(file)] || 'application/octet-stream', data);
	});
});

server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
