// walkthrough.mjs - the three cases of docs/investigating-a-leak.md, played
// for real and checked in the browser; the screenshots of that page are taken
// here.  A real memdeltad (1 s interval, its leak detector scaled down as in
// e2e.mjs so that alerts fire within seconds) watches three real grower
// processes:
//
//   dumperNNNN    leaks like MiniDumper did with an undisposed ClrMD
//                 DataTarget: every "operation" maps 5 MiB of private data,
//                 writes it, and never frees it;
//   workersNNNN   leaks threads: every operation starts a thread that parks
//                 for ever, so 8 MiB stacks (ulimit -s 8192) pile up;
//   reserverNNNN  commits 16 MiB once, then reserves 512 MiB of PROT_NONE
//                 address space per operation, up to 8 GiB: the number top
//                 calls VIRT climbs by gigabytes, nothing is committed.
//
// In the UI we check what the page claims: the alert of dumper names Private
// Data, the diff of its first and last snapshots lists new (green) Private
// Data ranges that add up to the bytes leaked (within 10%), and the diff of
// two neighbouring snapshots one green 5 MiB range; workers' alert names
// Stack and its diff shows one new 8 MiB Stack range per thread, the Stack
// row of the summary growing by threads x 8 MiB; reserver has no alert, and
// its snapshot shows gigabytes Reserved against a few MiB Committed.  The
// measured figures go to MD_ARTIFACTS/figures.json, the screenshots (PNG,
// 1200 px wide, cropped to what the page shows) beside it.
//
// Run by tests/test_walkthrough.sh.  Environment: MD_MEMDELTAD, MD_GROWER,
// MD_SCRATCH (an empty directory), MD_ARTIFACTS, MD_CHROMIUM.
// Exit status: 0 pass, 1 fail.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MiB, artifacts, check, chromium_path, free_port, grower, grower_bin, launch, log, run, scratch, shots, sleep, start_memdeltad, stats, t_start, wait_for as wait_until } from './browser.mjs';

const GiB = 1024 * MiB;
const LEAK = 5 * MiB; // per operation of dumper
const STACK = 8 * MiB; // workers' thread stacks: ulimit -s 8192
const RESERVE = 512 * MiB; // per operation of reserver
const RESERVE_MAX = 8 * GiB;
const COMMIT_ONCE = 16 * MiB; // reserver's private data, at start
const MAX_OPS = 90; // a bound: the leaks stop once the pages that show them are seen
const OP_MS = 1000;
const DEADLINE_MS = 170000;

const figures = { measured_at: new Date().toISOString() };

const near = (x, want, frac) => Math.abs(x - want) <= want * frac;
const mib = (n) => `${(n / MiB).toFixed(1)} MiB`;
// A check that fails inside the waited-for function fails at once.
const wait_for = (what, fn, timeout_ms, every_ms = 250) => wait_until(what, fn, timeout_ms, every_ms, true);

// A grower copied under a name of our own (so that no other test's grower
// matches it), started through sh to pin its stack limit (the default size
// of its threads' stacks).
function start_grower(name) {
	const exe = path.join(scratch, name);
	fs.copyFileSync(grower_bin, exe);
	fs.chmodSync(exe, 0o755);
	const proc = spawn('/bin/sh', ['-c', `ulimit -s ${STACK / 1024} && exec "$0"`, exe], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, GROWER_DIR: scratch } });
	return new grower(proc, name);
}

// A screenshot of the page from its top (the header says where we are) to
// the bottom of @sel, at most @max_h pixels high; the viewport without @sel.
async function shot(page, name, sel = null, max_h = 800) {
	const f = path.join(artifacts, `${name}.png`);
	await page.waitForTimeout(300); // let the charts settle
	if (!sel) {
		await page.screenshot({ path: f });
	} else {
		const bottom = await page.locator(sel).first().evaluate((e) => e.getBoundingClientRect().bottom + window.scrollY);
		const width = await page.evaluate(() => document.documentElement.clientWidth);
		await page.screenshot({ path: f, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(Math.ceil(bottom) + 8, max_h) } });
	}
	shots.push(f);
	figures.screenshots = figures.screenshots || {};
	figures.screenshots[name] = fs.statSync(f).size;
	log('screenshot', f, `${(fs.statSync(f).size / 1024).toFixed(0)} KiB`);
}

async function main() {
	const n = process.pid % 10000;
	const port = await free_port();
	const base = `http://127.0.0.1:${port}`;
	const db = path.join(scratch, 'walkthrough.db');

	// The processes first, so that the first snapshots predate the leaks.
	const dumper = start_grower(`dumper${n}`);
	const workers = start_grower(`workers${n}`);
	const reserver = start_grower(`reserver${n}`);
	for (const g of [dumper, workers, reserver]) check((await g.next_line()) === 'ready', `${g.name} prints ready`);
	await reserver.command(`private ${COMMIT_ONCE / MiB}M`);

	const api = start_memdeltad(db, port, [dumper, workers, reserver].map((g) => g.name));

	const tids = {};
	await wait_for(
		'the three targets in /api/v1/targets, each with a snapshot',
		async () => {
			const ts = (await api('/api/v1/targets')).targets;
			for (const g of [dumper, workers, reserver]) {
				const t = ts.find((x) => x.name === g.name && x.last_snapshot);
				if (!t) return false;
				tids[g.name] = t.id;
			}
			return true;
		},
		20000
	);
	const snaps = async (g) => (await api(`/api/v1/targets/${tids[g.name]}/snapshots`)).snapshots;
	const first = {};
	for (const g of [dumper, workers, reserver]) first[g.name] = (await snaps(g))[0];

	// The operations, one a second, in the background until stop_ops():
	// they go on while the first pages are looked at, as a leak would.
	let ops = 0;
	let reserved = 0;
	let ops_on = true;
	let last_op_ms = 0;
	const leak_start = Date.now();
	const ticker = (async () => {
		while (ops_on && ops < MAX_OPS) {
			const t0 = Date.now();
			await dumper.command(`private ${LEAK / MiB}M`);
			await workers.command('threads 1');
			if (reserved < RESERVE_MAX) {
				await reserver.command(`reserve ${RESERVE / MiB}M`);
				reserved += RESERVE;
			}
			ops++;
			last_op_ms = Date.now();
			await sleep(Math.max(0, OP_MS - (Date.now() - t0)));
		}
	})();
	const stop_ops = async () => {
		ops_on = false;
		await ticker;
	};

	const firing = async (g) => (await api(`/api/v1/alerts?target=${tids[g.name]}&state=firing`)).alerts[0];
	const a_dumper = await wait_for('the alert of dumper', () => firing(dumper), 60000, 500);
	check(true, `dumper's leak fires an alert after ${ops} operations: ${a_dumper.summary}`);
	const a_workers = await wait_for('the alert of workers', () => firing(workers), 20000, 500);
	check(true, `workers' leak fires an alert after ${ops} operations: ${a_workers.summary}`);
	figures.leak_per_op = LEAK;
	figures.stack_size = STACK;
	figures.reserver_committed_once = COMMIT_ONCE;
	for (const [k, a] of [
		['dumper', a_dumper],
		['workers', a_workers],
	]) {
		figures[`${k}_alert`] = { id: a.id, summary: a.summary, fired_after_s: (a.fired_ms - leak_start) / 1000, ops_when_seen: ops, slope_bytes_per_h: a.slope_bytes_per_h, r2: a.r2, baseline: a.baseline_snapshot, trigger: a.trigger_snapshot };
	}

	const { page, page_errors } = await launch(chromium_path, path.join(scratch, 'chromium-profile'), 1200);
	const ready = () => page.waitForSelector('#view[data-state=ready]');
	// A change of the hash routes on the hashchange event, a task after
	// the URL changed: until then the old view still reads "ready".  Marking
	// it stale before the change makes ready() wait for the new view.
	const stale = () => page.evaluate(() => (document.getElementById('view').dataset.state = 'stale'));
	const go = async (hash) => {
		if (page.url().startsWith(base)) await stale();
		await page.goto(`${base}/${hash}`);
		await ready();
	};
	const bytes_in = async (sel) => Number(await page.getAttribute(sel, 'data-bytes'));
	// Cells of the summary table's row of @type: in a diff each metric has
	// before, after and delta cells after the type's header cell.
	const diff_delta = (type, metric) => bytes_in(`#summary tr[data-type="${type}"] td:nth-child(${2 + metric * 3 + 2}) span.bytes`);
	const SIZE = 0;
	const COMMITTED = 1;

	// ---- 1. The overview: two targets rising, one flat.
	await go('#/');
	// (a flat sparkline has no height, which playwright calls hidden)
	for (const g of [dumper, workers, reserver]) await page.waitForSelector(`#targets tr[data-target-name="${g.name}"] svg.sparkline polyline`, { state: 'attached' });
	const trend_of = async (g) => page.getAttribute(`#targets tr[data-target-name="${g.name}"] .trend`, 'data-trend');
	check((await trend_of(dumper)) === 'rising' && (await trend_of(workers)) === 'rising', 'the overview says "rising" for dumper and workers');
	const rt = await trend_of(reserver);
	check(rt !== 'rising', `the overview does not say reserver rises (${rt})`);
	check((await page.locator(`#targets tr[data-target-name="${reserver.name}"] .alert-link`).count()) === 0, 'reserver has no alert badge');
	await page.waitForFunction(() => Number(document.getElementById('alert-count').dataset.firing) >= 2);
	figures.header_firing = Number(await page.getAttribute('#alert-count', 'data-firing'));
	figures.overview_ops = ops;
	await shot(page, 'overview', 'main');

	// ---- 2. The alerts page: dumper's alert names Private Data, workers' Stack.
	await go('#/alerts');
	const arow = (a) => page.locator(`#alerts tr.alert-row[data-alert-id="${a.id}"]`);
	const s_dumper = await arow(a_dumper).locator('td.summary').textContent();
	check(/Private Data grows/.test(s_dumper), `dumper's alert names Private Data: "${s_dumper}"`);
	const s_workers = await arow(a_workers).locator('td.summary').textContent();
	check(/Stack grows/.test(s_workers), `workers' alert names Stack: "${s_workers}"`);
	check((await page.locator(`#alerts tr.alert-row[data-target-id="${tids[reserver.name]}"]`).count()) === 0, 'the alerts page has no row for reserver');
	await shot(page, 'alerts', 'main');

	// ---- 3. dumper's alert: the evidence.
	await stale();
	await arow(a_dumper).locator('td.summary a').click();
	await page.waitForURL(new RegExp(`#/alert/${a_dumper.id}$`));
	await ready();
	const types = await page.locator('#alert-types tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.type));
	check(types[0] === 'private', `the alert page puts Private Data first among the types that grew (${types.join(', ')})`);
	const ev = (await api(`/api/v1/alerts/${a_dumper.id}`)).evidence;
	figures.dumper_alert.types = ev.types.map((t) => ({ type: t.type, share: t.share }));
	figures.dumper_alert.regions = ev.regions.map((r) => ({ base_hex: '0x' + BigInt(r.base).toString(16), kind: r.kind, size: r.size, committed_delta: r.committed_delta }));
	check(ev.regions.length >= 1 && ev.regions[0].type === 'private' && ev.regions[0].committed_delta >= LEAK, `it lists the region that grew most: Private Data, +${mib(ev.regions[0].committed_delta)}`);
	await shot(page, 'alert-dumper', 'main');

	// "What grew": the diff of the alert's baseline and trigger snapshots.
	await stale();
	await page.click('a.what-grew');
	await page.waitForURL(new RegExp(`#/diff/${a_dumper.baseline_snapshot}/${a_dumper.trigger_snapshot}$`));
	await ready();
	const new_of = async (type) => {
		const rows = page.locator(`#details tr.row[data-kind="new"][data-type="${type}"]`);
		const sizes = await rows.evaluateAll((trs) => trs.map((t) => Number(t.dataset.size)));
		return { count: sizes.length, sum: sizes.reduce((s, x) => s + x, 0), sizes, rows };
	};
	const wg = await new_of('private');
	figures.what_grew = { a: a_dumper.baseline_snapshot, b: a_dumper.trigger_snapshot, rows: wg.count, sum: wg.sum };
	check(wg.count >= 1 && wg.sum >= LEAK && wg.sum % LEAK <= LEAK * 0.1, `"what grew" lists ${wg.count} green Private Data range(s), ${mib(wg.sum)}: whole operations of 5 MiB`);

	// ---- 4. The timelines while the leaks go on: the layers climb, the
	// trend line follows.
	const timeline = async (g, name) => {
		await go(`#/target/${tids[g.name]}`);
		await page.waitForFunction(() => document.getElementById('chart').dataset.trend === 'shown' && window.memdelta_graph && window.memdelta_graph.numRows() >= 5, null, { timeout: 20000 });
		await page.waitForSelector('#trend-info[data-ok="true"]');
		check((await page.locator('#alert-banner[data-state="firing"]').count()) === 1, `${g.name}'s page shows the firing alert's banner`);
		check((await page.locator('#trend-info .holds').count()) === 1, `${g.name}'s trend line: "the leak conditions hold" (${(await page.textContent('#trend-info')).trim()})`);
		figures[`${name}_trend_info`] = (await page.textContent('#trend-info')).trim();
		await shot(page, `timeline-${name}`, 'main');
	};
	await timeline(dumper, 'dumper');
	await timeline(workers, 'workers');

	// ---- The leaks stop; every target gets a snapshot after the last operation.
	await stop_ops();
	log(`${ops} operations done`);
	figures.ops = ops;
	figures.reserved = reserved;
	const last = {};
	for (const g of [dumper, workers, reserver]) {
		last[g.name] = await wait_for(
			`a snapshot of ${g.name} after the last operation`,
			async () => {
				const s = await snaps(g);
				const l = s[s.length - 1];
				return l.time_ms > last_op_ms + 200 ? l : null;
			},
			15000
		);
	}
	figures.reserver_vmsize = reserver.status('VmSize');
	figures.reserver_vmrss = reserver.status('VmRSS');
	figures.dumper_vmrss = dumper.status('VmRSS');
	figures.workers_vmsize = workers.status('VmSize');
	figures.workers_vmrss = workers.status('VmRSS');
	const reserver_alerts = (await api(`/api/v1/alerts?target=${tids[reserver.name]}`)).alerts;
	check(reserver_alerts.length === 0, `reserver, ${reserved / GiB} GiB reserved, has no alert in any state (${reserver_alerts.map((a) => a.summary).join('; ')})`);
	check(figures.reserver_vmsize >= reserved, `reserver's VmSize (top's VIRT) is ${(figures.reserver_vmsize / GiB).toFixed(2)} GiB, its VmRSS ${mib(figures.reserver_vmrss)}`);

	// ---- 5. dumper: click the first and the last point of the chart.
	await go(`#/target/${tids[dumper.name]}`);
	await page.waitForFunction(() => window.memdelta_graph && window.memdelta_graph.numRows() >= 5);
	const click_point = async (which) => {
		const xy = await page.evaluate((which) => {
			const g = window.memdelta_graph;
			const row = which === 'first' ? 0 : g.numRows() - 1;
			const [cx, cy] = g.toDomCoords(g.getValue(row, 0), g.yAxisRange()[1] / 2);
			const r = document.getElementById('chart').getBoundingClientRect();
			return { x: r.left + cx, y: r.top + cy };
		}, which);
		await page.mouse.click(xy.x, xy.y);
	};
	await click_point('first');
	await stale();
	await click_point('last');
	await page.waitForURL(/#\/diff\/\d+\/\d+$/);
	await ready();
	const [, da, db_] = page.url().match(/#\/diff\/(\d+)\/(\d+)$/);
	check(Number(da) === first[dumper.name].id && Number(db_) >= last[dumper.name].id, `clicking the first and last points opens diff #${da} -> #${db_}`);
	const whole = await new_of('private');
	const leaked = ops * LEAK;
	figures.dumper_diff = { a: Number(da), b: Number(db_), rows: whole.count, sum: whole.sum, leaked };
	check(near(whole.sum, leaked, 0.1), `the green Private Data ranges add up to ${mib(whole.sum)}: ${ops} operations x 5 MiB = ${mib(leaked)} (within 10%)`);
	const rgb = await whole.rows.first().evaluate((tr) => getComputedStyle(tr).backgroundColor.match(/\d+(\.\d+)?/g).map(Number));
	check(rgb[1] > rgb[0] && rgb[1] > rgb[2], `they are green (${rgb.slice(0, 3).join(',')})`);
	const private_delta = await diff_delta('private', COMMITTED);
	figures.dumper_diff.private_committed_delta = private_delta;
	check(near(private_delta, leaked, 0.1), `the summary's Private Data Committed delta is +${mib(private_delta)}`);
	await shot(page, 'diff-dumper', 'main');

	// Two neighbouring snapshots with one operation between them: one 5 MiB range.
	const tl = await api(`/api/v1/targets/${tids[dumper.name]}/timeline?points=5000`);
	const pi = tl.types.indexOf('private');
	let pair = null;
	for (let i = tl.points.length - 1; i > 0 && !pair; i--) {
		const p0 = tl.points[i - 1];
		const p1 = tl.points[i];
		if (p0.snapshot && p1.snapshot && p1.committed[pi] - p0.committed[pi] === LEAK) pair = [p0.snapshot, p1.snapshot];
	}
	check(!!pair, 'two neighbouring snapshots of dumper differ by one operation');
	await go(`#/diff/${pair[0]}/${pair[1]}`);
	const step = await new_of('private');
	figures.dumper_step = { a: pair[0], b: pair[1], rows: step.count, sum: step.sum };
	check(step.count >= 1 && near(step.sum, LEAK, 0.1), `the diff of neighbours #${pair[0]} -> #${pair[1]} lists ${step.count} green Private Data range(s) of ${mib(step.sum)}`);
	await step.rows.first().click();
	await shot(page, 'diff-dumper-step', 'main');

	// ---- 6. workers: stacks pile up.
	await go(`#/diff/${first[workers.name].id}/${last[workers.name].id}`);
	const stacks = await new_of('stack');
	const full_stacks = stacks.sizes.filter((s) => s === STACK).length;
	figures.workers_diff = { a: first[workers.name].id, b: last[workers.name].id, new_stack_rows: stacks.count, stacks_of_8m: full_stacks, threads: ops };
	check(full_stacks === ops, `the diff lists ${full_stacks} new Stack ranges of 8 MiB, one per thread started (${ops})`);
	const stack_delta = await diff_delta('stack', COMMITTED);
	figures.workers_diff.stack_committed_delta = stack_delta;
	check(near(stack_delta, ops * STACK, 0.1), `the summary's Stack Committed delta is +${mib(stack_delta)}: ${ops} threads x 8 MiB = ${mib(ops * STACK)}`);
	await page.selectOption('#filter-type', 'stack');
	await shot(page, 'diff-workers', 'main', 740);

	// ---- 7. reserver: gigabytes reserved, little committed, no alarm.
	await go(`#/target/${tids[reserver.name]}`);
	await page.waitForFunction(() => window.memdelta_graph && window.memdelta_graph.numRows() >= 5);
	const top = await page.evaluate(() => window.memdelta_graph.yAxisRange()[1]);
	figures.reserver_chart_top = top;
	check(top < 64 * MiB, `reserver's chart of committed bytes stays flat and low: its axis tops at ${mib(top)}`);
	check((await page.locator('#alert-banner').count()) === 0, "reserver's page shows no alert banner");
	figures.reserver_trend_info = (await page.textContent('#trend-info')).trim();
	await shot(page, 'timeline-reserver', 'main');
	await go(`#/diff/${first[reserver.name].id}/${last[reserver.name].id}`);
	const r_size = await diff_delta('private', SIZE);
	const r_comm = await diff_delta('private', COMMITTED);
	figures.reserver_diff = { a: first[reserver.name].id, b: last[reserver.name].id, private_size_delta: r_size, private_committed_delta: r_comm };
	check(r_size === reserved && r_comm === 0, `its diff: Private Data Size +${(r_size / GiB).toFixed(2)} GiB, Committed ${r_comm}`);
	await shot(page, 'diff-reserver', 'main', 740);
	await go(`#/snapshot/${last[reserver.name].id}`);
	const st_reserved = await bytes_in('#state-summary [data-state="reserve"] span.bytes');
	const st_committed = await bytes_in('#state-summary [data-state="commit"] span.bytes');
	const st_private = await bytes_in('#state-summary [data-state="private-committed"] span.bytes');
	figures.reserver_snapshot = { id: last[reserver.name].id, reserved: st_reserved, committed_space: st_committed, private_committed: st_private };
	check(st_reserved >= reserved, `the snapshot shows ${(st_reserved / GiB).toFixed(2)} GiB Reserved`);
	check(st_private < 64 * MiB && st_private >= COMMIT_ONCE, `against ${mib(st_private)} private committed`);
	const row = '#summary tr[data-type="private"]';
	const p_size = await bytes_in(`${row} td:nth-child(2) span.bytes`);
	const p_comm = await bytes_in(`${row} td:nth-child(3) span.bytes`);
	figures.reserver_snapshot.private_size = p_size;
	figures.reserver_snapshot.private_committed_type = p_comm;
	check(p_size >= reserved && p_comm < 64 * MiB, `its Private Data row: Size ${(p_size / GiB).toFixed(2)} GiB, Committed ${mib(p_comm)}`);
	await page.selectOption('#filter-type', 'private');
	await page.click('#details th[data-sort="size"]');
	const first_row = page.locator('#details tr.row').first();
	check((await first_row.getAttribute('data-state')) === 'reserve' && Number(await first_row.getAttribute('data-size')) === reserved && /reserved \(PROT_NONE\)/.test(await first_row.textContent()), 'the largest Private Data region is the reservation: reserve, "reserved (PROT_NONE)"');
	await shot(page, 'snapshot-reserver', 'main', 760);

	check(page_errors.length === 0, `no script errors in the page${page_errors.length ? ': ' + page_errors.join(' | ') : ''}`);
	for (const g of [dumper, workers, reserver]) await g.stop();
}

await run(
	main,
	DEADLINE_MS,
	() => {
		figures.seconds = (Date.now() - t_start) / 1000;
		figures.checks = stats.checks;
		return `PASS (${stats.checks} checks in ${figures.seconds.toFixed(0)} s)`;
	},
	() => fs.writeFileSync(path.join(artifacts, 'figures.json'), JSON.stringify(figures, null, 2) + '\n')
);
