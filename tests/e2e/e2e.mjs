// e2e.mjs - memdeltad's UI end to end, in headless Chromium driven by
// playwright-core: memdeltad watches a grower process by name on a scratch
// database; the grower maps 3 x 16 MiB of private data a few seconds apart,
// then a 1 MiB file, and unmaps 4 MiB of private data it had mapped before
// the first snapshot.  Through the UI we check the timeline; zoom (a drag
// across 40-80 % of the chart narrows the window to that range and fetches
// its points: a timeline request with that from and to, exactly the
// snapshots of the range drawn), pan (shift-drag: same width, moved back by
// half of it, fetched likewise) and zoom out (double-click: the whole
// timeline fetched again); click the first and the last snapshot on the
// chart; check that the diff lists the new Private Data in green with the
// size allocated (within 10%), that ticking one change kind alone (freed,
// new) shows exactly the API's rows of that kind, that searching the mapped
// file's name leaves the rows whose path contains it, and that clicking the
// Size header sorts largest first, then smallest first; check at phone
// width (390 x 844) that the diff, snapshot, target and overview pages do
// not scroll sideways; restart the grower under the same name and check
// that the timeline shows a restart marker.  Then the
// second grower leaks private data steadily; memdeltad runs its leak
// detector with the parameters scaled down (ALERTS_CONF in browser.mjs: a 2 s
// warm-up, a 60 s window, a fit once 8 s of data are there, 1 s steps,
// firing after 2 evaluations in a row, one evaluation a second) so that it
// fires within seconds: the alerts page lists the firing alert, its "what
// grew" link opens the diff with the new Private Data in green, and the
// target page shows the alert's banner and the fitted trend line.
//
// Run by tests/test_e2e.sh, which installs the tools.  Environment:
//   MD_MEMDELTAD   the memdeltad binary        MD_GROWER  the grower binary
//   MD_SCRATCH     an empty scratch directory  MD_ARTIFACTS  where screenshots go
//   MD_CHROMIUM    chromium (default /usr/bin/chromium)
// Exit status: 0 pass, 1 fail.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MiB, artifacts, check, chromium_path, free_port, grower, grower_bin, launch, log, run, scratch, shots, sleep, start_memdeltad, wait_for } from './browser.mjs';

const STEP = 16 * MiB;
const STEPS = 3;
const DEADLINE_MS = 240000;

async function shot(page, name, full = true) {
	const f = path.join(artifacts, `${name}.png`);
	await page.screenshot({ path: f, fullPage: full });
	shots.push(f);
	log('screenshot', f);
}

async function main() {
	const name = `mdui${process.pid % 100000}`; // comm is at most 15 bytes
	const exe = path.join(scratch, name);
	fs.copyFileSync(grower_bin, exe);
	fs.chmodSync(exe, 0o755);
	const port = await free_port();
	const base = `http://127.0.0.1:${port}`;
	const db = path.join(scratch, 'e2e.db');

	// The process first, so that the first snapshot predates the growth.
	// The grower copied under a name of our own (so that no other test's
	// grower matches).
	const start_grower = () => new grower(spawn(exe, [], { stdio: ['pipe', 'pipe', 'inherit'] }));
	let g = start_grower();
	check((await g.next_line()) === 'ready', 'grower prints ready');
	// 4 MiB of private data in the first snapshot, freed after the growth:
	// the diff's freed rows.
	const doomed = (await g.command('private 4M')).split(' ')[1];

	const api = start_memdeltad(db, port, [name]);

	const target = await wait_for(
		`target ${name} in /api/v1/targets`,
		async () => (await api('/api/v1/targets')).targets.find((t) => t.name === name && t.last_snapshot),
		20000
	);
	const tid = target.id;
	log(`target ${name} is id ${tid}`);
	const snaps = async () => (await api(`/api/v1/targets/${tid}/snapshots`)).snapshots;
	const first = (await snaps())[0];

	for (let i = 0; i < STEPS; i++) {
		if (i) await sleep(2000);
		const r = await g.command(`private ${STEP / MiB}M`);
		log('grower:', r);
	}
	// A mapped file, new in the diff, to search for by its path; then the
	// doomed private data goes (freed rows).
	const mapped_path = (await g.command('mapped 1M')).split(' ')[3];
	log('grower mapped', mapped_path, 'and frees', doomed, await g.command(`free ${doomed}`));
	const grown_at = Date.now();
	const after_growth = await wait_for(
		'>= 5 snapshots, one after the last allocation',
		async () => {
			const s = await snaps();
			return s.length >= 5 && s[s.length - 1].time_ms > grown_at + 500 ? s : null;
		},
		30000
	);
	log(`${after_growth.length} snapshots, first #${first.id}`);

	const { page, page_errors } = await launch(chromium_path, path.join(scratch, 'chromium-profile'), 1280);
	const ready = () => page.waitForSelector('#view[data-state=ready]');
	// A hash change routes on the hashchange event, a task after the URL
	// changed: until then the old view still reads "ready".  Marking it
	// stale before each navigation makes ready() wait for the new view.
	const stale = () => page.evaluate(() => (document.getElementById('view').dataset.state = 'stale'));

	// Overview: one request brings the list with its sparklines (no
	// timeline request per target; the alerts badge polls on its own).
	const api_requests = [];
	const on_request = (r) => {
		const u = new URL(r.url());
		if (u.pathname.startsWith('/api/v1/targets')) api_requests.push(u.pathname + u.search);
	};
	page.on('request', on_request);
	await page.goto(`${base}/#/`);
	await ready();
	check(await page.locator(`#targets tr[data-target-name="${name}"]`).count() === 1, 'the overview lists the target');
	await page.waitForSelector(`#targets tr[data-target-name="${name}"] svg.sparkline polyline`);
	const spark_points = await page.locator(`#targets tr[data-target-name="${name}"] svg.sparkline polyline`).first().getAttribute('points');
	check(spark_points.trim().split(/\s+/).length >= 2, `the overview draws its sparkline (${spark_points.trim().split(/\s+/).length} points)`);
	page.off('request', on_request);
	check(
		api_requests.length === 1 && api_requests[0] === '/api/v1/targets?spark=80',
		`the overview made one targets request, /api/v1/targets?spark=80 (${api_requests.join(', ')})`
	);
	await shot(page, 'overview');

	// Timeline.
	await stale();
	await page.click(`#targets tr[data-target-name="${name}"] a.target-link`);
	await ready();
	await page.waitForFunction(() => window.memdelta_graph && window.memdelta_graph.numRows() >= 5);
	const npoints = Number(await page.getAttribute('#chart', 'data-points'));
	check(npoints >= 5, `the timeline has data (${npoints} points)`);
	const top = await page.evaluate(() => {
		const g = window.memdelta_graph;
		return g.yAxisRange()[1];
	});
	check(top >= STEPS * STEP, `the chart's y axis reaches the allocated ${STEPS * 16} MiB (top ${top})`);
	await page.click('#metric-resident');
	check((await page.getAttribute('#chart', 'data-metric')) === 'resident', 'the resident toggle switches the chart');
	await page.click('#metric-committed');
	await shot(page, 'timeline', false);

	// Zoom and pan (dygraphs' drag and shift-drag): each fetches the points
	// of the window it shows (a timeline request with that from and to, its
	// points drawn); a double-click zooms out to the whole timeline.
	const tl_requests = [];
	const on_tl = (r) => {
		const u = new URL(r.url());
		if (u.pathname === `/api/v1/targets/${tid}/timeline`) tl_requests.push({ from: u.searchParams.get('from'), to: u.searchParams.get('to') });
	};
	page.on('request', on_tl);
	const chart_view = () =>
		page.evaluate(() => {
			const g = window.memdelta_graph;
			const a = g.getArea();
			const r = document.getElementById('chart').getBoundingClientRect();
			const rows = g.numRows();
			return {
				range: g.xAxisRange(),
				zoomed: g.isZoomed('x'),
				area: { x: r.left + a.x, y: r.top + a.y, w: a.w, h: a.h },
				rows,
				first: rows ? g.getValue(0, 0) : null,
				last: rows ? g.getValue(rows - 1, 0) : null,
			};
		});
	// The snapshots of [from, to] (the API's range is inclusive).
	const snaps_in = async (from, to) => (await snaps()).filter((s) => s.time_ms >= from && s.time_ms <= to).map((s) => s.time_ms);
	// Waits for a timeline request for [floor(r0), ceil(r1)] and then for the
	// chart to draw exactly the snapshots of that range.
	const fetched = async (what, [r0, r1]) => {
		const from = Math.floor(r0);
		const to = Math.ceil(r1);
		await wait_for(`${what}: a timeline request from=${from}&to=${to}`, async () => tl_requests.some((q) => Number(q.from) === from && Number(q.to) === to), 10000, 100);
		const want = await snaps_in(from, to);
		await page.waitForFunction(
			(w) => {
				const g = window.memdelta_graph;
				return g && g.numRows() === w.n && g.getValue(0, 0) === w.first && g.getValue(g.numRows() - 1, 0) === w.last;
			},
			{ n: want.length, first: want[0], last: want[want.length - 1] },
			{ timeout: 10000 }
		);
		return want;
	};
	const full = await chart_view();
	const full_len = full.range[1] - full.range[0];
	check(!full.zoomed && full.rows >= 5, `the chart starts unzoomed over the whole timeline (${full.rows} points)`);
	const mid_y = full.area.y + full.area.h / 2;
	await page.mouse.move(full.area.x + full.area.w * 0.4, mid_y);
	await page.mouse.down();
	await page.mouse.move(full.area.x + full.area.w * 0.8, mid_y, { steps: 8 });
	await page.mouse.up();
	const zoomed = await chart_view();
	const zlen = zoomed.range[1] - zoomed.range[0];
	check(
		zoomed.zoomed && zoomed.range[0] > full.range[0] + full_len * 0.3 && zoomed.range[1] < full.range[1] - full_len * 0.1 && Math.abs(zlen - full_len * 0.4) < full_len * 0.05,
		`dragging across 40-80 % of the chart zooms into that range (${Math.round(zlen)} of ${Math.round(full_len)} ms)`
	);
	const zsnaps = await fetched('the zoom', zoomed.range);
	check(zsnaps.length >= 1 && zsnaps.length < full.rows, `the zoom fetched and drew the ${zsnaps.length} snapshot(s) of its range (of ${full.rows})`);
	// Shift-drag half the plot's width to the right: the window keeps its
	// width and moves back by half of it.
	const n_req = tl_requests.length;
	await page.keyboard.down('Shift');
	await page.mouse.move(zoomed.area.x + zoomed.area.w * 0.3, mid_y);
	await page.mouse.down();
	await page.mouse.move(zoomed.area.x + zoomed.area.w * 0.8, mid_y, { steps: 8 });
	await page.mouse.up();
	await page.keyboard.up('Shift');
	const panned = await chart_view();
	const plen = panned.range[1] - panned.range[0];
	const moved = zoomed.range[0] - panned.range[0];
	check(panned.zoomed && Math.abs(plen - zlen) < 1 && Math.abs(moved - zlen * 0.5) < zlen * 0.05, `shift-drag pans: the window keeps its width (${Math.round(plen)} ms) and moves back by half of it (${Math.round(moved)} ms)`);
	const psnaps = await fetched('the pan', panned.range);
	check(tl_requests.length > n_req && psnaps.length >= 1, `the pan fetched and drew the ${psnaps.length} snapshot(s) of its window`);
	// Double-click: zoomed out, the whole timeline fetched again.
	const n_req2 = tl_requests.length;
	const read_picks = () => page.evaluate(() => [document.getElementById('pick-a').value, document.getElementById('pick-b').value]);
	// Picks of its own first: the first and the last snapshot, away from
	// the middle where the double-click lands.
	const opts = await page.evaluate(() => [...document.getElementById('pick-a').options].map((o) => o.value));
	await page.selectOption('#pick-a', opts[0]);
	await page.selectOption('#pick-b', opts[opts.length - 1]);
	const picks_before = await read_picks();
	await page.mouse.dblclick(panned.area.x + panned.area.w / 2, mid_y);
	await wait_for('a timeline request without a range', async () => tl_requests.slice(n_req2).some((q) => q.from === null && q.to === null), 10000, 100);
	await page.waitForFunction((n) => window.memdelta_graph && !window.memdelta_graph.isZoomed('x') && window.memdelta_graph.numRows() >= n, full.rows, { timeout: 10000 });
	const reset = await chart_view();
	check(!reset.zoomed && reset.range[0] === full.range[0] && reset.range[1] >= full.range[1] && reset.rows >= full.rows, `a double-click zooms out to the whole timeline (${reset.rows} points)`);
	// Its two clicks are not picks: A and B are as they were, no diff opened.
	await page.waitForTimeout(600); // past the delay of a diff a B pick opens
	const picks_after = await read_picks();
	check(
		picks_after[0] === picks_before[0] && picks_after[1] === picks_before[1] && page.url().includes('#/target/'),
		`the double-click left the picks as they were (A '${picks_before[0]}' -> '${picks_after[0]}', B '${picks_before[1]}' -> '${picks_after[1]}') and opened no diff`
	);
	page.off('request', on_tl);
	// A fresh page for the picks below.
	await page.reload();
	await ready();
	await page.waitForFunction(() => window.memdelta_graph && window.memdelta_graph.numRows() >= 5);

	// Click the first point, then the last: the diff opens.
	const click_point = async (which) => {
		const xy = await page.evaluate((which) => {
			const g = window.memdelta_graph;
			const row = which === 'first' ? 0 : g.numRows() - 1;
			const x = g.getValue(row, 0);
			const [cx, cy] = g.toDomCoords(x, g.yAxisRange()[1] / 2);
			const r = document.getElementById('chart').getBoundingClientRect();
			return { x: r.left + cx, y: r.top + cy, time: x };
		}, which);
		await page.mouse.click(xy.x, xy.y);
		return xy.time;
	};
	await click_point('first');
	check((await page.textContent('#pick-hint')).includes('snapshot B'), 'the first click picks A');
	await stale();
	await click_point('last');
	await page.waitForURL(/#\/diff\/\d+\/\d+$/);
	const [, a, b] = page.url().match(/#\/diff\/(\d+)\/(\d+)$/);
	check(Number(a) === first.id, `A is the first snapshot (#${a})`);
	const all = await snaps();
	const sb = all.find((s) => s.id === Number(b));
	check(sb && sb.time_ms > grown_at, `B (#${b}) was taken after the growth`);
	await ready();

	// The diff: green Private Data rows of the size allocated.
	const rows = page.locator('#details tr.row[data-kind="new"][data-type="private"]');
	const n = await rows.count();
	check(n >= 1, `the diff lists ${n} new Private Data row(s)`);
	const sizes = (await rows.evaluateAll((trs) => trs.map((t) => Number(t.dataset.size)))).sort((x, y) => y - x);
	const want = STEPS * STEP;
	const sum = sizes.reduce((s, x) => s + x, 0);
	log('new private sizes', sizes.join(', '));
	check(Math.abs(sizes[0] - STEP) <= STEP * 0.1 || Math.abs(sizes[0] - want) <= want * 0.1 || Math.abs(sum - want) <= want * 0.1, `new Private Data matches the ${want} bytes allocated (largest ${sizes[0]}, sum ${sum})`);
	const row0 = rows.first();
	const look = await row0.evaluate((tr) => {
		const c = getComputedStyle(tr).backgroundColor.match(/\d+(\.\d+)?/g).map(Number);
		return { rgb: c, text: tr.textContent };
	});
	check(look.rgb[1] > look.rgb[0] && look.rgb[1] > look.rgb[2], `the new row is green (${look.rgb.slice(0, 3).join(',')})`);
	check(/new/.test(look.text) && look.text.includes('+'), 'the change kind is also a word and a symbol');
	check((await page.locator('#summary tr[data-type="private"]').count()) === 1, 'the summary table has a Private Data row');
	// Filter by kind and expand a row.
	await page.selectOption('#filter-type', 'private');
	check((await page.locator('#details tr.row:not([data-type="private"])').count()) === 0, 'the type filter keeps Private Data only');
	await page.selectOption('#filter-type', '');
	await row0.click();
	check(await page.locator('#details tr.expanded dl.expansion').count() === 1, 'a row expands to its address, size, protection, state, detail');
	await shot(page, 'diff');

	// The change-kind filter, against the API's diff: ticking one kind alone
	// shows exactly that kind's rows.
	const entries = (await api(`/api/v1/diff?a=${a}&b=${b}`)).entries;
	const n_kind = (k) => entries.filter((e) => e.kind === k).length;
	const row_kinds = () => page.locator('#details tr.row').evaluateAll((trs) => trs.map((t) => t.dataset.kind));
	const per_kind = (ks) => ks.reduce((m, k) => ((m[k] = (m[k] || 0) + 1), m), {});
	const shown_kinds = async () => page.locator('#filter-kinds input[data-kind]').evaluateAll((cbs) => cbs.filter((c) => c.checked).map((c) => c.dataset.kind));
	const only_kind = async (k) => {
		for (const cb of await page.locator('#filter-kinds input[data-kind]').all()) await cb.setChecked((await cb.getAttribute('data-kind')) === k);
	};
	const default_kinds = await shown_kinds();
	const before = per_kind(await row_kinds());
	log('rows per kind', JSON.stringify(before), 'API', JSON.stringify(per_kind(entries.map((e) => e.kind))));
	check(n_kind('new') >= 1 && n_kind('freed') >= 1 && before.new === n_kind('new') && before.freed === n_kind('freed'), `the diff lists new and freed rows (${before.new} new, ${before.freed} freed), as many as the API`);
	for (const k of ['freed', 'new']) {
		await only_kind(k);
		const ks = await row_kinds();
		check(ks.length === n_kind(k) && ks.every((x) => x === k), `ticking "${k}" alone shows its ${n_kind(k)} row(s) only (${JSON.stringify(per_kind(ks))})`);
	}
	for (const cb of await page.locator('#filter-kinds input[data-kind]').all()) await cb.setChecked(default_kinds.includes(await cb.getAttribute('data-kind')));
	check(JSON.stringify(per_kind(await row_kinds())) === JSON.stringify(before), 'ticking the kinds back shows every row again');

	// The search by path: the file the grower mapped.
	const needle = path.basename(mapped_path).toLowerCase();
	const matching = entries.filter((e) => e.kind !== 'same' && `${e.detail || ''} ${e.before_detail || ''}`.toLowerCase().includes(needle)).length;
	const n_all = await page.locator('#details tr.row').count();
	await page.fill('#filter-search', needle);
	const details = await page.locator('#details tr.row td.detail').allTextContents();
	check(matching >= 1 && details.length === matching && details.length < n_all && details.every((d) => d.toLowerCase().includes(needle)), `searching "${needle}" narrows ${n_all} rows to the ${details.length} whose path contains it`);
	await page.fill('#filter-search', '');
	check((await page.locator('#details tr.row').count()) === n_all, 'clearing the search shows every row again');

	// Sorting: Size sorts largest first, a second click reverses.
	const row_sizes = () => page.locator('#details tr.row').evaluateAll((trs) => trs.map((t) => Number(t.dataset.size)));
	const sorted = (v, dir) => v.every((x, i) => i === 0 || (dir > 0 ? v[i - 1] <= x : v[i - 1] >= x));
	const by_addr = await row_sizes();
	check(new Set(by_addr).size >= 2, `the rows have sizes to sort (${by_addr.length} rows, ${new Set(by_addr).size} sizes)`);
	await page.click('#details th[data-sort="size"]');
	const desc = await row_sizes();
	check(sorted(desc, -1) && (await page.getAttribute('#details th[data-sort="size"]', 'aria-sort')) === 'descending', `clicking Size sorts largest first (${desc.slice(0, 4).join(', ')}, ...)`);
	await page.click('#details th[data-sort="size"]');
	const asc = await row_sizes();
	check(sorted(asc, 1) && !sorted(asc, -1) && (await page.getAttribute('#details th[data-sort="size"]', 'aria-sort')) === 'ascending', `clicking it again sorts smallest first (${asc.slice(0, 4).join(', ')}, ...)`);
	check(JSON.stringify([...asc].sort((x, y) => x - y)) === JSON.stringify([...by_addr].sort((x, y) => x - y)), 'sorting keeps the same rows');
	await page.setViewportSize({ width: 390, height: 844 });
	await page.waitForTimeout(200);
	const sw = await page.evaluate(() => document.documentElement.scrollWidth);
	check(sw <= 391, `at phone width the page does not scroll sideways (${sw} px; wide tables scroll inside their box)`);
	await shot(page, 'diff-phone', false);
	await page.setViewportSize({ width: 1280, height: 800 });

	// Brushing a range on the chart picks its two ends.
	await stale();
	await page.goto(`${base}/#/target/${tid}`);
	await ready();
	await page.waitForFunction(() => window.memdelta_graph && window.memdelta_graph.numRows() >= 5);
	await page.check('#brush-mode');
	const ends = await page.evaluate(() => {
		const g = window.memdelta_graph;
		const r = document.getElementById('chart').getBoundingClientRect();
		const at = (row) => g.toDomCoords(g.getValue(row, 0), g.yAxisRange()[1] / 2);
		const [x0, y] = at(0);
		const [x1] = at(g.numRows() - 1);
		return { x0: r.left + x0 + 1, x1: r.left + x1 - 1, y: r.top + y };
	});
	await page.mouse.move(ends.x0, ends.y);
	await stale();
	await page.mouse.down();
	await page.mouse.move(ends.x1, ends.y, { steps: 8 });
	await page.mouse.up();
	await page.waitForURL(/#\/diff\/\d+\/\d+$/);
	const [, a2, b2] = page.url().match(/#\/diff\/(\d+)\/(\d+)$/);
	check(Number(a2) === first.id && Number(b2) > Number(a2), `brushing the whole chart opens the diff of the first and last snapshots (#${a2} -> #${b2})`);
	await ready();

	// Snapshot view of B.
	await stale();
	await page.goto(`${base}/#/snapshot/${b}`);
	await ready();
	check((await page.locator('#state-summary [data-state="commit"]').count()) === 1, 'the snapshot view shows the committed/reserved/free summary');
	check((await page.locator('#details tr.row').count()) > 5, 'the snapshot view lists regions');
	await shot(page, 'snapshot');

	// Phone width (390 x 844): the snapshot, target and overview pages fit
	// the screen's width (wide tables scroll inside their box); the target
	// and overview pages are loaded at that width.
	const no_sideways = async (what) => {
		const w = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
		check(w.cw <= 390 && w.sw <= w.cw, `at phone width the ${what} does not scroll sideways (${w.sw} px wide in ${w.cw})`);
	};
	await page.setViewportSize({ width: 390, height: 844 });
	await page.waitForTimeout(200);
	await no_sideways('snapshot page');
	await shot(page, 'snapshot-phone', false);
	await stale();
	await page.goto(`${base}/#/target/${tid}`);
	await ready();
	await page.waitForFunction(() => window.memdelta_graph && window.memdelta_graph.numRows() >= 5);
	await no_sideways('target page');
	await shot(page, 'target-phone', false);
	await stale();
	await page.goto(`${base}/#/`);
	await ready();
	await page.waitForSelector(`#targets tr[data-target-name="${name}"] svg.sparkline polyline`);
	await no_sideways('overview');
	await shot(page, 'overview-phone', false);
	await page.setViewportSize({ width: 1280, height: 800 });

	// Restart: another process under the same name.
	await g.stop();
	log('grower stopped; starting another');
	g = start_grower();
	check((await g.next_line()) === 'ready', 'the second grower prints ready');
	await wait_for('a restart in the timeline API', async () => (await api(`/api/v1/targets/${tid}/timeline`)).restarts.length >= 1, 30000);
	await stale();
	await page.goto(`${base}/#/target/${tid}`);
	await ready();
	await page.waitForSelector('#restarts li.restart', { timeout: 15000 });
	check(Number(await page.getAttribute('#chart', 'data-restarts')) >= 1, 'the chart draws a restart marker');
	await shot(page, 'restart', false);

	// A steady leak in the second grower: 2 MiB every 0.4 s until an alert
	// of its instance fires (at most 40 s).
	const newest_instance = async () => {
		const v = (await api(`/api/v1/targets/${tid}/instances`)).instances;
		return v[v.length - 1].id;
	};
	const inst2 = await wait_for('the second instance', async () => {
		const id = await newest_instance();
		return id !== target.instance ? id : null;
	}, 15000);
	const firing_alert = async () => (await api(`/api/v1/alerts?target=${tid}&instance=${inst2}&state=firing`)).alerts[0];
	let alert = null;
	const leak_end = Date.now() + 40000;
	let leaked = 0;
	while (!alert && Date.now() < leak_end) {
		await g.command('private 2M');
		leaked += 2;
		await sleep(400);
		alert = await firing_alert();
	}
	check(!!alert, `an alert of the leaking instance fires (after ${leaked} MiB leaked)`);
	log(`alert #${alert.id}: ${alert.summary}`);
	check(alert.baseline_snapshot > 0 && alert.trigger_snapshot > alert.baseline_snapshot, `the alert names its baseline and trigger snapshots (#${alert.baseline_snapshot} -> #${alert.trigger_snapshot})`);

	// The alerts page.
	await stale();
	await page.goto(`${base}/#/alerts`);
	await ready();
	const arow = page.locator(`#alerts tr.alert-row[data-alert-id="${alert.id}"]`);
	check((await arow.count()) === 1, 'the alerts page lists the alert');
	check((await arow.getAttribute('data-state')) === 'firing' && (await arow.locator('.alert-state').textContent()) === 'firing', 'its state reads "firing"');
	check((await arow.locator('a.target-link').textContent()) === name, 'it names the target');
	check(/^\+.*\/h$/.test((await arow.locator('td.slope').textContent()).trim()), `it shows the slope (${(await arow.locator('td.slope').textContent()).trim()})`);
	await page.waitForFunction(() => Number(document.getElementById('alert-count').dataset.firing) >= 1);
	check(!(await page.locator('#alert-count').isHidden()), `the header counts ${await page.getAttribute('#alert-count', 'data-firing')} firing alert(s)`);
	await shot(page, 'alerts');
	await page.setViewportSize({ width: 390, height: 844 });
	await page.waitForTimeout(200);
	const asw = await page.evaluate(() => document.documentElement.scrollWidth);
	check(asw <= 391, `at phone width the alerts page does not scroll sideways (${asw} px)`);
	await shot(page, 'alerts-phone', false);
	await page.setViewportSize({ width: 1280, height: 800 });
	await stale();
	await page.selectOption('#alert-filter', 'resolved');
	await page.waitForURL(/#\/alerts\/resolved$/);
	await ready();
	check((await page.locator(`#alerts tr[data-alert-id="${alert.id}"]`).count()) === 0, 'filtering by state "resolved" hides it');
	await stale();
	await page.selectOption('#alert-filter', 'firing');
	await page.waitForURL(/#\/alerts\/firing$/);
	await ready();
	check((await page.locator(`#alerts tr[data-alert-id="${alert.id}"]`).count()) === 1, 'filtering by state "firing" shows it');

	// The alert's own page: the evidence, attributed to Private Data.
	await stale();
	await page.click(`#alerts tr[data-alert-id="${alert.id}"] td.summary a`);
	await page.waitForURL(new RegExp(`#/alert/${alert.id}$`));
	await ready();
	check((await page.locator('#alert-types tr[data-type="private"]').count()) === 1, 'the alert page attributes the growth to Private Data');
	const ev_rows = await page.locator('#alert-regions tr.row[data-type="private"]').count();
	check(ev_rows >= 1, `the alert page lists ${ev_rows} grown Private Data region(s)`);
	await shot(page, 'alert');
	await stale();
	await page.goBack();
	await page.waitForURL(/#\/alerts\/firing$/);
	await ready();

	// "What grew": the diff of baseline and trigger, new Private Data in green.
	await stale();
	await page.click(`#alerts tr[data-alert-id="${alert.id}"] a.what-grew`);
	await page.waitForURL(/#\/diff\/\d+\/\d+$/);
	const [, wa, wb] = page.url().match(/#\/diff\/(\d+)\/(\d+)$/);
	check(Number(wa) === alert.baseline_snapshot && Number(wb) === alert.trigger_snapshot, `"what grew" opens the diff of baseline and trigger (#${wa} -> #${wb})`);
	await ready();
	const grown = page.locator('#details tr.row[data-kind="new"][data-type="private"]');
	const ngrown = await grown.count();
	check(ngrown >= 1, `the diff lists ${ngrown} new Private Data row(s)`);
	const glook = await grown.first().evaluate((tr) => getComputedStyle(tr).backgroundColor.match(/\d+(\.\d+)?/g).map(Number));
	check(glook[1] > glook[0] && glook[1] > glook[2], `they are green (${glook.slice(0, 3).join(',')})`);
	await shot(page, 'what-grew');

	// The target page: the alert's banner and the fitted trend line.
	await stale();
	await page.goto(`${base}/#/target/${tid}`);
	await ready();
	await page.waitForSelector('#alert-banner');
	check((await page.getAttribute('#alert-banner', 'data-state')) === 'firing', 'the target page shows the firing alert in a banner');
	check((await page.getAttribute('#alert-banner a.what-grew', 'href')) === `#/diff/${alert.baseline_snapshot}/${alert.trigger_snapshot}`, 'the banner links to what grew');
	await page.waitForFunction(() => document.getElementById('chart').dataset.trend === 'shown' && window.memdelta_graph, null, { timeout: 20000 });
	// The trend series, and the line its plotter drew (canvas pixels: y grows
	// downwards, so a rising line ends higher up).
	const tr = await page.evaluate(() => {
		const g = window.memdelta_graph;
		const n = g.getLabels().length;
		return { label: g.getLabels()[n - 1], visible: g.visibility()[n - 2], zoomed: g.isZoomed(), line: JSON.parse(document.getElementById('chart').dataset.trendLine || 'null') };
	});
	check(tr.label.startsWith('Trend') && tr.visible, 'the chart has a visible trend series');
	check(tr.line && tr.line[1][0] > tr.line[0][0] && tr.line[1][1] < tr.line[0][1], `the trend line is drawn and rises (${JSON.stringify(tr.line)})`);
	check(!tr.zoomed, 'the trend line leaves the chart unzoomed');
	const fit = await api(`/api/v1/targets/${tid}/trend`);
	check(fit.ok && fit.instance === inst2 && fit.slope_bytes_per_h > 0, `/trend fits the leaking instance (${(fit.slope_bytes_per_h / MiB).toFixed(0)} MiB/h)`);
	check((await page.getAttribute('#trend-info', 'data-ok')) === 'true', 'the trend figures are shown');
	// The line drawn is the alert engine's own fit, not a refit for the page.
	check(fit.source === 'engine' && (await page.getAttribute('#trend-info', 'data-source')) === 'engine', `the drawn trend is the alert engine's fit (source ${fit.source})`);
	await shot(page, 'trend', false);

	check(page_errors.length === 0, `no script errors in the page${page_errors.length ? ': ' + page_errors.join(' | ') : ''}`);
	await g.stop();
}

await run(main, DEADLINE_MS);
