// app.js - memdelta's single-page UI: hash routing and the five views
// (overview of targets, a target's timeline with its fitted trend and open
// alert, the diff of two snapshots, one snapshot, the alerts).  Data comes
// from the read-only JSON API of docs/api.md; the chart is dygraphs
// (window.Dygraph, served at /dygraph.min.js).  Routes:
//   #/                 overview
//   #/target/ID        timeline of target ID
//   #/diff/A/B         diff of snapshot A (before) and B (after)
//   #/snapshot/ID      one snapshot
//   #/alerts[/STATE]   alerts, all or those in STATE (firing, pending, resolved)
//   #/alert/ID         one alert: its fit, the types and regions that grew

import { TYPES, MARKS, ALERT_STATES, type_info, kind_info, install_css_colors } from './legend.js';
import { el, bytes_span, fmt_bytes, fmt_time, fmt_count, get_json, http_error, hex_addr } from './util.js';
import { summary_table, details_table, state_summary, prepare_totals } from './tables.js';

const REFRESH_MS = 5000;
const main = document.getElementById('view');
const crumbs = document.getElementById('crumbs');
const health = document.getElementById('health');
const alert_count = document.getElementById('alert-count');

// The target whose page was shown last (for the diff view's breadcrumbs).
let last_target = null;

// What the current view started; stopped when the route changes.
let current = { abort: new AbortController(), timers: [], cleanup: [] };

function stop_current() {
	current.abort.abort();
	for (const t of current.timers) clearInterval(t);
	for (const f of current.cleanup) f();
	current = { abort: new AbortController(), timers: [], cleanup: [] };
}

function api(path) {
	return get_json(path, current.abort.signal);
}

// replaceChildren that skips null/false (optional parts of a view).
function put(parent, ...children) {
	parent.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function set_crumbs(...items) {
	crumbs.replaceChildren(el('a', { href: '#/' }, 'Targets'), ...items.flatMap((i) => [el('span', { class: 'sep', 'aria-hidden': 'true' }, ' / '), i]));
}

function show_error(err) {
	if (err && err.name === 'AbortError') return;
	if (err instanceof http_error && err.status === 401) {
		put(main, token_form());
		return;
	}
	put(main, el('div', { class: 'error', role: 'alert', id: 'error' }, el('strong', {}, 'Error: '), String(err && err.message ? err.message : err)));
}

// A non-loopback memdeltad asks for its access token; the UI keeps it in the
// memdelta_token cookie.
function token_form() {
	const input = el('input', { type: 'password', id: 'token', autocomplete: 'current-password', 'aria-label': 'Access token' });
	const form = el('form', { class: 'token-form' }, el('h2', {}, 'Access token'), el('p', {}, 'This memdeltad requires its access token.'), input, el('button', { type: 'submit' }, 'Continue'));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		document.cookie = `memdelta_token=${encodeURIComponent(input.value)}; path=/; SameSite=Strict`;
		update_health();
		route();
	});
	return form;
}

async function update_health() {
	try {
		const h = await get_json('/healthz');
		health.className = 'health ' + (h.status === 'ok' ? 'ok' : 'degraded');
		health.textContent = h.status === 'ok' ? `${fmt_count(h.snapshots_written)} snapshots \u00b7 v${h.version || '?'}` : `degraded: storage ${h.storage} ${h.storage_error || ''}`;
		health.title = `last snapshot ${fmt_time(h.last_snapshot_ms)}; ticks missed ${h.ticks_missed}; database ${fmt_bytes(h.db_bytes)}`;
	} catch (e) {
		health.className = 'health degraded';
		health.textContent = e instanceof http_error && e.status === 401 ? 'access token needed' : 'server unreachable';
	}
	update_alert_count();
}

// The header's count of firing alerts; refreshed with the health and at
// every change of view.
async function update_alert_count() {
	try {
		const a = await get_json('/api/v1/alerts?state=firing&limit=1000');
		const n = a.alerts.length;
		alert_count.hidden = n === 0;
		alert_count.textContent = n ? `${n} firing` : '';
		alert_count.dataset.firing = String(n);
	} catch (e) {
		alert_count.hidden = true;
	}
}

// ---------------------------------------------------------------- overview

function sparkline(values, w = 160, h = 32) {
	const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
	svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
	svg.setAttribute('width', w);
	svg.setAttribute('height', h);
	svg.setAttribute('class', 'sparkline');
	svg.setAttribute('preserveAspectRatio', 'none');
	svg.setAttribute('role', 'img');
	if (values.length < 1) {
		svg.setAttribute('aria-label', 'no data');
		return svg;
	}
	const min = Math.min(...values);
	const max = Math.max(...values);
	const span = max - min || 1;
	const pts = values.map((v, i) => {
		const x = values.length === 1 ? w / 2 : (i / (values.length - 1)) * (w - 2) + 1;
		const y = h - 2 - ((v - min) / span) * (h - 4);
		return `${x.toFixed(1)},${y.toFixed(1)}`;
	});
	const area = document.createElementNS(svg.namespaceURI, 'polygon');
	area.setAttribute('points', `1,${h} ${pts.join(' ')} ${w - 1},${h}`);
	area.setAttribute('class', 'spark-area');
	area.setAttribute('fill', type_info('private').color);
	const line = document.createElementNS(svg.namespaceURI, 'polyline');
	line.setAttribute('points', pts.join(' '));
	line.setAttribute('class', 'spark-line');
	svg.append(area, line);
	svg.setAttribute('aria-label', `private committed from ${fmt_bytes(values[0])} to ${fmt_bytes(values[values.length - 1])}, range ${fmt_bytes(min)} to ${fmt_bytes(max)}`);
	return svg;
}

function trend_cell(t) {
	const map = {
		none: ['\u2014 none', 'no trend fitted yet (warm-up, or too little data)'],
		rising: ['\u2197 rising', 'committed private memory trends upward: an alert is open'],
		flat: ['\u2192 flat', 'a trend is fitted and no alert is open'],
	};
	const [txt, title] = map[t] || [String(t || '\u2014'), String(t || '')];
	return el('span', { class: `trend trend-${t}`, title, dataset: { trend: t } }, txt);
}

async function view_overview() {
	set_crumbs();
	document.title = 'memdelta \u00b7 targets';
	// One request: each target's sparkline (80 points of private committed
	// bytes over its history) comes with the list (?spark=, docs/api.md).
	const data = await api('/api/v1/targets?spark=80');
	const tbody = el('tbody');
	const table = el(
		'table',
		{ class: 'overview', id: 'targets' },
		el(
			'thead',
			{},
			el(
				'tr',
				{},
				el('th', { scope: 'col' }, 'Target'),
				el('th', { scope: 'col', title: 'committed private memory (Private Data + Heap + Stack)' }, 'Private committed'),
				el('th', { scope: 'col', class: 'num' }, 'Current'),
				el('th', { scope: 'col' }, 'Trend'),
				el('th', { scope: 'col', class: 'num' }, 'Instances'),
				el('th', { scope: 'col', class: 'opt' }, 'PID'),
				el('th', { scope: 'col', class: 'opt' }, 'Last snapshot')
			)
		),
		tbody
	);
	if (!data.targets.length) {
		put(main, el('h1', {}, 'Targets'), el('p', { class: 'empty-note' }, 'No target has a snapshot yet.'));
		return;
	}
	for (const t of data.targets) {
		const spark_cell = el('td', { class: 'spark' });
		const watching = t.runtime ? (t.runtime.watching ? 'running' : 'not running') : 'not watched';
		tbody.append(
			el(
				'tr',
				{ dataset: { targetId: t.id, targetName: t.name } },
				el('th', { scope: 'row' }, el('a', { href: `#/target/${t.id}`, class: 'target-link' }, t.name), el('div', { class: 'sub' }, watching)),
				spark_cell,
				el('td', { class: 'num current' }, bytes_span(t.private_committed)),
				el('td', {}, trend_cell(t.trend), t.runtime && t.runtime.alert_state ? [' ', el('a', { href: `#/alerts`, class: 'alert-link', title: 'an open alert: see the alerts' }, alert_state_badge(t.runtime.alert_state))] : null),
				el('td', { class: 'num' }, fmt_count(t.instances)),
				el('td', { class: 'opt' }, String(t.pid)),
				el('td', { class: 'opt' }, el('a', { href: `#/snapshot/${t.last_snapshot}` }, fmt_time(t.last_time_ms)))
			)
		);
		if (Array.isArray(t.spark)) spark_cell.replaceChildren(sparkline(t.spark));
		else
			api(`/api/v1/targets/${t.id}/timeline?points=80`)
				.then((tl) => spark_cell.replaceChildren(sparkline(tl.points.map((p) => p.private_committed))))
				.catch(() => spark_cell.replaceChildren('\u2014'));
	}
	put(main, el('h1', {}, 'Targets'), el('div', { class: 'table-wrap' }, table));
}

// ------------------------------------------------------------------ target

// The chart's series: the types, free excluded (it is not memory in use),
// stacked so that the leak signal's types (Private Data, Stack, Heap) lie at
// the bottom: the top of the Heap layer is then the committed private bytes,
// which the fitted trend line follows.  Dygraphs stacks the last series at
// the bottom.
const PRIVATE_STACK = ['heap', 'stack', 'private'];
const CHART_TYPES = [...TYPES.filter((t) => t.name !== 'free' && !PRIVATE_STACK.includes(t.name)), ...PRIVATE_STACK.map((n) => type_info(n))];
// The chart's trend series is named after the series the fit is of (the
// alert engine's main series: private committed, or private touched).
const trend_series_label = (t) => `Trend (${series_label((t && t.series) || 'private_committed')})`;
// What the fitted series is, in the trend figures' sentence.
const trend_series_words = (t) => (t && t.series === 'private_touched' ? 'touched private bytes (resident + swap)' : 'committed private bytes');

// ---------------------------------------------------------------- alerts

const ALERT_STATE_NAMES = ALERT_STATES.map((a) => a.name);
const ALERTS_SHOWN = 500; // the alerts page lists the newest this many

// "+12.0 MiB/h".
function fmt_rate(bytes_per_h) {
	if (bytes_per_h === null || bytes_per_h === undefined) return '\u2014';
	return (bytes_per_h > 0 ? '+' : '') + fmt_bytes(Math.round(bytes_per_h)) + '/h';
}

function series_label(s) {
	if (s === 'private_committed') return 'private committed';
	if (s === 'private_touched') return 'private touched';
	if (s && s.startsWith('committed:')) return `${type_info(s.slice(10)).label} committed`;
	return String(s || '');
}

function alert_state_badge(state) {
	return el('span', { class: `alert-state alert-${state}`, dataset: { state } }, state);
}

// When the alert entered its current state.
function alert_since(a) {
	if (a.state === 'resolved' && a.resolved_ms) return a.resolved_ms;
	if (a.state === 'firing' && a.fired_ms) return a.fired_ms;
	return a.started_ms;
}

// The link to "what grew": the diff of the alert's baseline snapshot (start
// of the trend window) and its trigger snapshot; null when it has none.
function what_grew_link(a, text = 'what grew') {
	if (!a.baseline_snapshot || !a.trigger_snapshot || a.baseline_snapshot === a.trigger_snapshot) return null;
	return el('a', { href: `#/diff/${a.baseline_snapshot}/${a.trigger_snapshot}`, class: 'what-grew', title: `diff of snapshot #${a.baseline_snapshot} (start of the trend window) and #${a.trigger_snapshot} (when it fired)` }, text);
}

// The most pressing open alert of a list (firing before pending, newest
// first as the API orders them), or null.
function open_alert(alerts) {
	return alerts.find((a) => a.state === 'firing') || alerts.find((a) => a.state === 'pending') || null;
}

// One alert: what the alert engine stored as its evidence (docs/alerts.md).
async function view_alert(id) {
	document.title = `memdelta \u00b7 alert ${id}`;
	const a = await api(`/api/v1/alerts/${id}`);
	const ev = a.evidence || {};
	set_crumbs(el('a', { href: '#/alerts' }, 'Alerts'), el('span', {}, `alert #${id}`));
	const facts = [
		['State', alert_state_badge(a.state)],
		['Target', el('a', { href: `#/target/${a.target}` }, a.target_name || `target ${a.target}`)],
		['Process', ev.instance ? `pid ${ev.instance.pid} (instance ${a.instance})` : `instance ${a.instance}`],
		['Rule', a.rule],
		['Series', series_label(a.series)],
		['Started', fmt_time(a.started_ms)],
		a.fired_ms ? ['Fired', fmt_time(a.fired_ms)] : null,
		a.resolved_ms ? ['Resolved', fmt_time(a.resolved_ms)] : null,
		['Level', bytes_span(a.value)],
		a.rule === 'trend' ? ['Slope', `${fmt_rate(a.slope_bytes_per_h)} (${Number(a.pct_per_h).toFixed(2)} %/h), R\u00b2 ${Number(a.r2).toFixed(3)}, Mann-Kendall p ${Number(a.mk_p).toExponential(1)}`] : null,
		ev.trend && ev.trend.window_start_ms ? ['Trend window', `${fmt_time(ev.trend.window_start_ms)} \u2013 ${fmt_time(ev.trend.window_end_ms)}`] : null,
	].filter(Boolean);
	const types = (ev.types || []).filter((t) => t.share > 0);
	const regions = ev.regions || [];
	const grew = what_grew_link(a, 'What grew: the diff of baseline and trigger \u2192');
	put(
		main,
		el('h1', {}, `Alert #${id}`),
		el('p', { class: 'alert-summary' }, a.summary || ''),
		el('dl', { class: 'facts', id: 'alert-facts' }, facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
		grew ? el('p', { class: 'links' }, grew) : null,
		types.length ? el('h2', {}, 'Which types grew') : null,
		types.length
			? el(
					'table',
					{ class: 'alert-types', id: 'alert-types' },
					el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Type'), el('th', { scope: 'col', class: 'num' }, 'Share of the growth'), el('th', { scope: 'col', class: 'num' }, 'Slope'))),
					el(
						'tbody',
						{},
						types.map((t) =>
							el(
								'tr',
								{ dataset: { type: t.type } },
								el('th', { scope: 'row' }, el('span', { class: 'swatch', style: `background:var(--type-${t.type})` }), type_info(t.type).label),
								el('td', { class: 'num' }, `${(t.share * 100).toFixed(t.share < 0.01 ? 1 : 0)} %`),
								el('td', { class: 'num' }, fmt_rate(t.slope_bytes_per_h))
							)
						)
					)
				)
			: null,
		regions.length ? el('h2', {}, 'Regions that grew most (baseline \u2192 trigger)') : null,
		regions.length
			? el(
					'div',
					{ class: 'table-wrap' },
					el(
						'table',
						{ class: 'alert-regions', id: 'alert-regions' },
						el('thead', {}, el('tr', {}, ['Address', 'Type', 'Change', 'Size', 'Committed \u0394', 'Resident \u0394', 'Protection', 'Detail'].map((h, i) => el('th', { scope: 'col', class: i >= 3 && i <= 5 ? 'num' : null }, h)))),
						el(
							'tbody',
							{},
							regions.map((r) =>
								el(
									'tr',
									{ class: `row kind-${r.kind}`, dataset: { kind: r.kind, type: r.type } },
									el('td', {}, el('code', {}, hex_addr(r.base))),
									el('td', {}, type_info(r.type).label),
									el('td', { class: `kind kind-${r.kind}` }, el('span', { class: 'sym', 'aria-hidden': 'true' }, kind_info(r.kind).symbol), ' ', kind_info(r.kind).label),
									el('td', { class: 'num' }, bytes_span(r.size)),
									el('td', { class: 'num' }, bytes_span(r.committed_delta, true)),
									el('td', { class: 'num' }, bytes_span(r.resident_delta, true)),
									el('td', {}, el('code', {}, r.protection || '')),
									el('td', { class: 'detail' }, r.detail || '')
								)
							)
						)
					)
				)
			: null,
		a.evidence ? null : el('p', { class: 'empty-note' }, 'This alert carries no evidence.')
	);
}

async function view_alerts(state) {
	set_crumbs(el('span', {}, 'Alerts'));
	document.title = state ? `memdelta \u00b7 ${state} alerts` : 'memdelta \u00b7 alerts';
	const data = await api(`/api/v1/alerts?limit=${ALERTS_SHOWN}${state ? `&state=${state}` : ''}`);
	const filter = el('select', { id: 'alert-filter', 'aria-label': 'Show alerts in state' }, el('option', { value: '' }, 'all states'), ALERT_STATE_NAMES.map((n) => el('option', { value: n }, n)));
	filter.value = state || '';
	filter.addEventListener('change', () => {
		location.hash = filter.value ? `#/alerts/${filter.value}` : '#/alerts';
	});
	const n = data.alerts.length;
	const controls = el('div', { class: 'controls' }, el('label', {}, 'State ', filter), el('span', { class: 'count', id: 'alert-total' }, n >= ALERTS_SHOWN ? `the newest ${fmt_count(n)} alerts` : `${fmt_count(n)} alert${n === 1 ? '' : 's'}`));
	if (!data.alerts.length) {
		put(main, el('h1', {}, 'Alerts'), controls, el('p', { class: 'empty-note', id: 'alerts-empty' }, state ? `No ${state} alert.` : 'No alert yet: memdeltad raises one when committed private memory trends upward.'));
		return;
	}
	const tbody = el('tbody');
	for (const a of data.alerts) {
		const since = alert_since(a);
		tbody.append(
			el(
				'tr',
				{ class: `alert-row alert-row-${a.state}`, dataset: { alertId: a.id, state: a.state, targetId: a.target } },
				el('td', {}, alert_state_badge(a.state)),
				el('th', { scope: 'row' }, el('a', { href: `#/target/${a.target}`, class: 'target-link' }, a.target_name || `target ${a.target}`)),
				el('td', { class: 'opt' }, a.rule),
				el('td', { class: 'opt' }, series_label(a.series)),
				el('td', { class: 'num slope', title: a.rule === 'trend' ? `R\u00b2 ${Number(a.r2).toFixed(3)}, Mann-Kendall p ${Number(a.mk_p).toExponential(1)}, ${Number(a.pct_per_h).toFixed(2)} %/h` : '' }, a.rule === 'trend' ? fmt_rate(a.slope_bytes_per_h) : '\u2014'),
				el('td', { class: 'since', title: `started ${fmt_time(a.started_ms)}${a.fired_ms ? `, fired ${fmt_time(a.fired_ms)}` : ''}${a.resolved_ms ? `, resolved ${fmt_time(a.resolved_ms)}` : ''}` }, fmt_time(since)),
				el('td', { class: 'summary' }, el('a', { href: `#/alert/${a.id}`, class: 'alert-link' }, a.summary || `alert #${a.id}`)),
				el('td', {}, what_grew_link(a) || '\u2014')
			)
		);
	}
	const table = el(
		'table',
		{ class: 'alerts', id: 'alerts' },
		el(
			'thead',
			{},
			el(
				'tr',
				{},
				el('th', { scope: 'col' }, 'State'),
				el('th', { scope: 'col' }, 'Target'),
				el('th', { scope: 'col', class: 'opt' }, 'Rule'),
				el('th', { scope: 'col', class: 'opt' }, 'Series'),
				el('th', { scope: 'col', class: 'num' }, 'Slope'),
				el('th', { scope: 'col' }, 'Since'),
				el('th', { scope: 'col' }, 'Summary'),
				el('th', { scope: 'col' }, 'What grew')
			)
		),
		tbody
	);
	put(main, el('h1', {}, 'Alerts'), controls, el('div', { class: 'table-wrap' }, table));
}

function nearest_point(points, x) {
	let best = null;
	let bd = Infinity;
	for (const p of points) {
		if (!p.snapshot) continue;
		const d = Math.abs(p.time_ms - x);
		if (d < bd) {
			bd = d;
			best = p;
		}
	}
	return best;
}

async function view_target(id) {
	document.title = 'memdelta \u00b7 target';
	// The pickers offer the chart's points (at most 500, each naming a raw
	// snapshot), never the whole snapshot list, which grows without bound; a
	// zoom fetches the points of the zoomed range.
	const tl_path = (range) => `/api/v1/targets/${id}/timeline?points=500` + (range ? `&from=${Math.floor(range[0])}&to=${Math.ceil(range[1])}` : '');
	const inst_path = `/api/v1/targets/${id}/instances`;
	const trend_path = `/api/v1/targets/${id}/trend`;
	const alerts_path = `/api/v1/alerts?target=${id}&limit=50`;
	const [targets, tl, insts, trend, alerts] = await Promise.all([
		api('/api/v1/targets'),
		api(tl_path(null)),
		api(inst_path).catch(() => ({ instances: [] })),
		api(trend_path).catch(() => null),
		api(alerts_path).catch(() => ({ alerts: [] })),
	]);
	const target = targets.targets.find((t) => String(t.id) === String(id));
	const name = target ? target.name : `target ${id}`;
	last_target = { id: Number(id), name };
	document.title = `memdelta \u00b7 ${name}`;
	set_crumbs(el('span', {}, name));

	const picks_of = (t) => t.points.filter((p) => p.snapshot).map((p) => ({ id: p.snapshot, time_ms: p.time_ms, instance: p.instance }));
	const pid_of = (inst) => {
		const i = st.insts.find((x) => x.id === inst);
		return i ? i.pid : '?';
	};
	const st = { metric: 'committed', tl, snaps: picks_of(tl), insts: insts.instances || [], range: null, a: null, b: null, next: 'a', graph: null, trend, alert: open_alert(alerts.alerts || []) };

	const metric_box = el('fieldset', { class: 'metric', id: 'metric' }, el('legend', {}, 'Show'));
	for (const [m, label] of [
		['committed', 'Committed'],
		['resident', 'Resident'],
	]) {
		const r = el('input', { type: 'radio', name: 'metric', value: m, id: `metric-${m}`, checked: m === st.metric });
		r.addEventListener('change', () => {
			st.metric = m;
			draw();
		});
		metric_box.append(el('label', { for: `metric-${m}` }, r, ' ', label));
	}
	const show_trend = el('input', { type: 'checkbox', id: 'show-trend', checked: true });
	show_trend.addEventListener('change', () => draw());
	const trend_label = el('label', { for: 'show-trend', title: "The Theil-Sen line of memdeltad's alert engine: its last fit of the series it watches (the committed private bytes of Private Data + Heap + Stack, or their resident + swap with [alerts] series = private_touched) for the newest instance, over the trend window after the warm-up, with the target's parameters." }, show_trend, ' Trend line');
	const trend_info = el('p', { class: 'trend-info', id: 'trend-info' });
	const banner = el('div', { id: 'alert-banner-slot' });
	const brush = el('input', { type: 'checkbox', id: 'brush-mode' });
	const brush_label = el('label', { for: 'brush-mode', title: 'When on, dragging across the chart picks the snapshots at both ends and opens their diff; when off, dragging zooms (shift-drag pans, double-click resets).' }, brush, ' Drag picks A\u2013B');

	const pick_a = el('select', { id: 'pick-a', 'aria-label': 'Snapshot A (before)' });
	const pick_b = el('select', { id: 'pick-b', 'aria-label': 'Snapshot B (after)' });
	const open_diff = el('button', { type: 'button', id: 'open-diff' }, 'Diff A \u2192 B');
	const open_a = el('a', { id: 'open-snap-a', class: 'button-link' }, 'Snapshot A');
	const open_b = el('a', { id: 'open-snap-b', class: 'button-link' }, 'Snapshot B');
	const hint = el('p', { class: 'hint', id: 'pick-hint', 'aria-live': 'polite' });
	const chart = el('div', { id: 'chart', class: 'chart', role: 'img', 'aria-label': 'timeline of committed bytes by type' });
	const labels = el('div', { id: 'chart-labels', class: 'chart-labels' });
	const legend = el(
		'ul',
		{ class: 'legend', id: 'legend' },
		CHART_TYPES.map((t) => el('li', { dataset: { type: t.name } }, el('span', { class: 'swatch', style: `background:var(--type-${t.name})` }), t.label)),
		el('li', { id: 'legend-trend', hidden: true }, el('span', { class: 'swatch trend-swatch' }), 'Trend (fitted)')
	);
	const restarts = el('ul', { class: 'restarts', id: 'restarts' });
	const info = el('div', { class: 'target-info', id: 'target-info' });

	function fill_pickers() {
		const keep_a = pick_a.value;
		const keep_b = pick_b.value;
		const opts = st.snaps.map((s) => [s.id, `#${s.id} \u00b7 ${fmt_time(s.time_ms)} \u00b7 pid ${pid_of(s.instance)}`]);
		pick_a.replaceChildren(...opts.map(([v, t]) => el('option', { value: v }, t)));
		pick_b.replaceChildren(...opts.map(([v, t]) => el('option', { value: v }, t)));
		if (opts.length) {
			pick_a.value = keep_a && st.snaps.some((s) => String(s.id) === keep_a) ? keep_a : String(st.a ?? opts[0][0]);
			pick_b.value = keep_b && st.snaps.some((s) => String(s.id) === keep_b) ? keep_b : String(st.b ?? opts[opts.length - 1][0]);
		}
		sync_links();
	}
	function sync_links() {
		open_a.href = `#/snapshot/${pick_a.value}`;
		open_b.href = `#/snapshot/${pick_b.value}`;
		open_diff.disabled = !pick_a.value || !pick_b.value || pick_a.value === pick_b.value;
	}
	pick_a.addEventListener('change', () => {
		st.a = Number(pick_a.value);
		sync_links();
		redraw_marks();
	});
	pick_b.addEventListener('change', () => {
		st.b = Number(pick_b.value);
		sync_links();
		redraw_marks();
	});
	open_diff.addEventListener('click', () => go_diff(Number(pick_a.value), Number(pick_b.value)));

	function snap_time(sid) {
		const s = st.snaps.find((x) => x.id === sid);
		if (s) return s.time_ms;
		const p = st.tl.points.find((x) => x.snapshot === sid);
		return p ? p.time_ms : null;
	}
	function go_diff(a, b) {
		if (!a || !b || a === b) return;
		const ta = snap_time(a);
		const tb = snap_time(b);
		if (ta !== null && tb !== null && ta > tb) [a, b] = [b, a];
		location.hash = `#/diff/${a}/${b}`;
	}
	function set_hint() {
		const a = st.a ? `A = #${st.a}` : '';
		hint.textContent = st.next === 'a' ? `${a ? a + '. ' : ''}Click a point on the chart to pick snapshot A (before).` : `${a}. Click a point to pick snapshot B (after) and open the diff.`;
	}

	// The chart whose private stack the fitted series follows: committed
	// bytes, or resident bytes for a fit of private_touched.
	function trend_metric() {
		return st.trend && st.trend.series === 'private_touched' ? 'resident' : 'committed';
	}
	// Is the fitted line drawn?  Only over that chart and when the fit
	// succeeded.
	function trend_shown() {
		const t = st.trend;
		return !!(show_trend.checked && st.metric === trend_metric() && t && t.ok && t.line && t.line.length === 2);
	}
	// The fitted line's value at @ms, or null outside [t0, t1] and other
	// instances.
	function trend_at(p) {
		const t = st.trend;
		const [a, b] = t.line;
		if (p.instance !== t.instance || p.time_ms < a.time_ms || p.time_ms > b.time_ms) return null;
		if (b.time_ms === a.time_ms) return a.value;
		return a.value + ((b.value - a.value) * (p.time_ms - a.time_ms)) / (b.time_ms - a.time_ms);
	}
	// One row per point; a row of gaps between two instances so that the
	// areas do not slope across a restart.  The last column is the trend
	// line.  Dygraphs stacks every series of an axis (and a second axis would
	// need a fixed range, which it takes for a zoom), so the trend series is
	// 0 at the bottom of the stack over the fit's time range and its plotter
	// draws the fitted line from the fit's two ends; st.trend_rows keeps the
	// fitted value of each row for the legend.  (The last column: the
	// default plotter of the first series draws every fill.)
	function series_data() {
		const rows = [];
		const with_trend = trend_shown();
		let prev = null;
		st.trend_rows = [];
		for (const p of st.tl.points) {
			if (prev && prev.instance !== p.instance && p.time_ms - 1 > prev.time_ms) {
				rows.push([new Date(p.time_ms - 1), ...CHART_TYPES.map(() => null), null]);
				st.trend_rows.push(null);
			}
			const vals = CHART_TYPES.map((t) => p[st.metric][st.tl.types.indexOf(t.name)] || 0);
			const tv = with_trend ? trend_at(p) : null;
			rows.push([new Date(p.time_ms), ...vals, tv === null ? null : 0]);
			st.trend_rows.push(tv);
			prev = p;
		}
		return rows;
	}
	function underlay(ctx, area, g) {
		const vline = (ms, color, text, dash) => {
			const x = g.toDomXCoord(ms);
			if (x < area.x - 1 || x > area.x + area.w + 1) return;
			ctx.save();
			ctx.strokeStyle = color;
			ctx.lineWidth = 2;
			ctx.setLineDash(dash);
			ctx.beginPath();
			ctx.moveTo(x, area.y);
			ctx.lineTo(x, area.y + area.h);
			ctx.stroke();
			ctx.fillStyle = color;
			ctx.font = '12px system-ui, sans-serif';
			ctx.fillText(text, Math.min(x + 3, area.x + area.w - 60), area.y + 12);
			ctx.restore();
		};
		for (const r of st.tl.restarts || []) vline(r.time_ms, MARKS.restart, `\u21bb pid ${r.pid}`, [5, 3]);
		if (st.a) vline(snap_time(st.a), MARKS.pick_a, 'A', []);
		if (st.b) vline(snap_time(st.b), MARKS.pick_b, 'B', []);
	}
	function redraw_marks() {
		if (st.graph) st.graph.updateOptions({});
	}
	// A double-click zooms out (dygraphs); its two clicks must not stay
	// picks: the dblclick event, which follows them, puts the picks back as
	// they were before the first, and calls off the diff a B pick opens
	// (which waits long enough for that).
	const recent_clicks = [];
	let pending_diff = null;
	function restore_picks(b) {
		st.a = b.a;
		st.b = b.b;
		st.next = b.next;
		pick_a.value = b.va;
		pick_b.value = b.vb;
		sync_links();
		set_hint();
		redraw_marks();
	}
	// On the document: during a click dygraphs lays a cover over the page,
	// so the double-click's target need not be inside the chart.
	const on_dblclick = (ev) => {
		if (!chart.isConnected) {
			document.removeEventListener('dblclick', on_dblclick);
			return;
		}
		const r = chart.getBoundingClientRect();
		if (ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom) return;
		if (pending_diff) clearTimeout(pending_diff);
		pending_diff = null;
		const now = performance.now();
		const first = recent_clicks.find((c) => now - c.t < 1000);
		if (first) restore_picks(first.picks);
		recent_clicks.length = 0;
	};
	document.addEventListener('dblclick', on_dblclick);
	function on_click(ev, x) {
		const p = nearest_point(st.tl.points, x);
		if (!p) return;
		recent_clicks.push({ t: performance.now(), picks: { a: st.a, b: st.b, next: st.next, va: pick_a.value, vb: pick_b.value } });
		if (recent_clicks.length > 2) recent_clicks.shift();
		if (st.next === 'a') {
			st.a = p.snapshot;
			st.b = null;
			st.next = 'b';
			pick_a.value = String(p.snapshot);
			sync_links();
			set_hint();
			redraw_marks();
		} else {
			st.b = p.snapshot;
			st.next = 'a';
			pick_b.value = String(p.snapshot);
			sync_links();
			set_hint();
			redraw_marks();
			if (st.a !== st.b) {
				const [a, b] = [st.a, st.b];
				pending_diff = setTimeout(() => {
					pending_diff = null;
					go_diff(a, b);
				}, 350);
			}
		}
	}
	// Loads overlap (the live refresh, a zoom, a pan): only the newest one's
	// answer is drawn, so that a slower, older request cannot put back the
	// points of the range shown before.
	let load_seq = 0;
	async function load() {
		const seq = ++load_seq;
		const [tl2, insts2, trend2, alerts2] = await Promise.all([
			api(tl_path(st.range)),
			api(inst_path).catch(() => ({ instances: st.insts })),
			api(trend_path).catch(() => st.trend),
			api(alerts_path).catch(() => null),
		]);
		if (seq !== load_seq) return;
		st.tl = tl2;
		st.snaps = picks_of(tl2);
		st.insts = insts2.instances || st.insts;
		st.trend = trend2;
		if (alerts2) st.alert = open_alert(alerts2.alerts || []);
		fill_pickers();
		fill_restarts();
		fill_info();
		fill_banner();
		fill_trend_info();
		draw();
	}
	// The trend series' plotter: the fitted line, dashed, between its ends.
	function plot_trend(e) {
		if (!trend_shown()) return;
		const g = e.dygraph;
		const [a, b] = st.trend.line;
		const p0 = g.toDomCoords(a.time_ms, a.value);
		const p1 = g.toDomCoords(b.time_ms, b.value);
		const ctx = e.drawingContext;
		ctx.save();
		ctx.strokeStyle = MARKS.trend;
		ctx.lineWidth = 2.5;
		ctx.setLineDash([8, 4]);
		ctx.beginPath();
		ctx.moveTo(p0[0], p0[1]);
		ctx.lineTo(p1[0], p1[1]);
		ctx.stroke();
		ctx.restore();
		chart.dataset.trendLine = JSON.stringify([p0.map(Math.round), p1.map(Math.round)]);
	}
	function on_zoom(min_x, max_x) {
		if (!st.graph) return;
		if (brush.checked) {
			const pa = nearest_point(st.tl.points, min_x);
			const pb = nearest_point(st.tl.points, max_x);
			st.graph.resetZoom();
			if (pa && pb && pa.snapshot !== pb.snapshot) go_diff(pa.snapshot, pb.snapshot);
			return;
		}
		// Zoomed in: fetch the finer points of that range; zoomed out: all.
		st.range = st.graph.isZoomed('x') ? [min_x, max_x] : null;
		load().catch(() => {});
	}
	// Dygraphs pans (shift-drag) without calling zoomCallback: once the drag
	// ends, fetch the points of the window it moved to, as a zoom does (the
	// data outside the zoomed range was never fetched).
	function on_pan_end() {
		if (!st.graph || !st.graph.isZoomed('x')) return;
		const [x0, x1] = st.graph.xAxisRange();
		if (st.range && st.range[0] === x0 && st.range[1] === x1) return;
		st.range = [x0, x1];
		load().catch(() => {});
	}
	const dflt_model = window.Dygraph.defaultInteractionModel;
	const interaction = {
		...dflt_model,
		mousedown(ev, g, ctx) {
			dflt_model.mousedown(ev, g, ctx);
			if (!ctx.isPanning) return;
			// Added after dygraphs' own mouseup listener, so it runs after it.
			const up = () => {
				document.removeEventListener('mouseup', up);
				on_pan_end();
			};
			document.addEventListener('mouseup', up);
		},
	};
	function draw() {
		const data = series_data();
		chart.dataset.points = String(st.tl.points.length);
		chart.dataset.metric = st.metric;
		chart.dataset.restarts = String((st.tl.restarts || []).length);
		chart.dataset.trend = trend_shown() ? 'shown' : 'none';
		show_trend.disabled = st.metric !== trend_metric();
		legend.querySelector('#legend-trend').hidden = !trend_shown();
		chart.setAttribute('aria-label', `timeline of ${st.metric} bytes by type, ${st.tl.points.length} points`);
		if (!data.length) {
			chart.replaceChildren(el('p', { class: 'empty-note' }, 'No snapshot in this range yet.'));
			if (st.graph) {
				st.graph.destroy();
				st.graph = null;
			}
			return;
		}
		const trend_name = trend_series_label(st.trend);
		const opts = {
			labels: ['Time', ...CHART_TYPES.map((t) => t.label), trend_name],
			colors: [...CHART_TYPES.map((t) => t.color), MARKS.trend],
			visibility: [...CHART_TYPES.map(() => true), trend_shown()],
			series: {
				[trend_name]: {
					plotter: plot_trend,
					fillGraph: false,
					highlightCircleSize: 0,
					valueFormatter: (v, o, name, g, row) => fmt_bytes(st.trend_rows[row]),
				},
			},
			stackedGraph: true,
			fillGraph: true,
			fillAlpha: 0.8,
			strokeWidth: 1,
			drawPoints: data.length < 80,
			pointSize: 2,
			highlightCircleSize: 4,
			stackedGraphNaNFill: 'none',
			connectSeparatedPoints: false,
			labelsDiv: labels,
			legend: 'onmouseover',
			labelsSeparateLines: false,
			axes: {
				y: { valueFormatter: (v) => fmt_bytes(v), axisLabelFormatter: (v) => fmt_bytes(v), axisLabelWidth: 72, labelsKMG2: true },
				x: { axisLabelWidth: 64, pixelsPerLabel: 90 },
			},
			underlayCallback: underlay,
			clickCallback: on_click,
			zoomCallback: on_zoom,
			interactionModel: interaction,
			animatedZooms: false,
		};
		if (st.graph) {
			const win = st.graph.isZoomed('x') ? st.graph.xAxisRange() : null;
			st.graph.updateOptions({ ...opts, file: data, ...(win ? { dateWindow: win } : {}) });
		} else {
			chart.replaceChildren();
			st.graph = new window.Dygraph(chart, data, opts);
			window.memdelta_graph = st.graph; // for the end-to-end test
		}
	}
	function fill_restarts() {
		const rs = st.tl.restarts || [];
		restarts.replaceChildren(
			...(rs.length
				? rs.map((r) => el('li', { class: 'restart', dataset: { instance: r.instance, pid: r.pid, timeMs: r.time_ms } }, `\u21bb restart at ${fmt_time(r.time_ms)}: pid ${r.pid} (instance ${r.instance})`))
				: [el('li', { class: 'none' }, 'No restart in this range.')])
		);
	}
	function fill_info() {
		const last = st.tl.points[st.tl.points.length - 1];
		put(info, 
			st.insts.length ? el('span', {}, `${fmt_count(st.insts.reduce((n, i) => n + (i.snapshots || 0), 0))} snapshots`) : null,
			target ? el('span', {}, `${fmt_count(target.instances)} instance${target.instances === 1 ? '' : 's'}`) : null,
			last ? el('span', {}, 'private committed ', bytes_span(last.private_committed)) : null,
			target && target.runtime ? el('span', {}, `every ${target.runtime.interval_s} s, ${target.runtime.watching ? 'running' : 'not running'}`) : null
		);
	}

	function fill_banner() {
		const a = st.alert;
		if (!a) {
			banner.replaceChildren();
			return;
		}
		const grew = what_grew_link(a, 'What grew \u2192');
		banner.replaceChildren(
			el(
				'div',
				{ class: `alert-banner alert-banner-${a.state}`, id: 'alert-banner', role: 'alert', dataset: { alertId: a.id, state: a.state } },
				alert_state_badge(a.state),
				' ',
				el('strong', {}, a.summary || `${series_label(a.series)} ${fmt_rate(a.slope_bytes_per_h)}`),
				el('span', { class: 'sub' }, ` since ${fmt_time(alert_since(a))}`),
				grew ? ' ' : null,
				grew,
				' ',
				el('a', { href: '#/alerts', class: 'all-alerts' }, 'all alerts')
			)
		);
	}
	function fill_trend_info() {
		const t = st.trend;
		if (!t) {
			trend_info.replaceChildren();
			return;
		}
		trend_info.dataset.ok = String(!!t.ok);
		trend_info.dataset.holds = String(!!t.holds);
		trend_info.dataset.source = t.source || '';
		// "engine": the alert engine's own last evaluation; "request": fitted
		// for this page (another series, or no evaluation yet).
		const whose = t.source === 'engine' ? `, as memdeltad's alert engine last evaluated it (${fmt_time(t.now_ms)})` : '';
		if (!t.ok) {
			trend_info.replaceChildren(`Trend of the ${trend_series_words(t)}${whose}: not fitted yet (${fmt_count(t.samples)} snapshots of the newest instance; a fit needs ${Math.round(t.params.min_span_ms / 60000)} min after a ${Math.round(t.params.warmup_ms / 60000)} min warm-up).`);
			return;
		}
		trend_info.replaceChildren(
			`Trend of the ${trend_series_words(t)}${whose}: `,
			el('strong', { class: 'slope', dataset: { slope: t.slope_bytes_per_h } }, fmt_rate(t.slope_bytes_per_h)),
			` (${t.pct_per_h.toFixed(2)} %/h) from ${fmt_time(t.t0_ms)} to ${fmt_time(t.t1_ms)}; R\u00b2 ${t.r2.toFixed(3)}, Mann-Kendall p ${t.mk_p.toExponential(1)}; `,
			t.holds ? el('span', { class: 'holds' }, 'the leak conditions hold') : 'the leak conditions do not hold',
			'.'
		);
	}

	put(main, 
		el('h1', {}, name),
		banner,
		info,
		el('div', { class: 'chart-controls' }, metric_box, trend_label, brush_label),
		legend,
		labels,
		chart,
		trend_info,
		hint,
		el('div', { class: 'pickers' }, el('label', {}, 'A ', pick_a), el('label', {}, 'B ', pick_b), open_diff, open_a, open_b),
		el('h2', {}, 'Restarts'),
		restarts
	);
	fill_pickers();
	fill_restarts();
	fill_info();
	fill_banner();
	fill_trend_info();
	set_hint();
	draw();
	current.cleanup.push(() => {
		if (st.graph) st.graph.destroy();
		window.memdelta_graph = null;
	});

	// Follow the live timeline while not zoomed in.
	current.timers.push(
		setInterval(() => {
			if (st.range) return;
			load().catch(() => {
				/* keep the last data; the header shows server health */
			});
		}, REFRESH_MS)
	);
}

// ---------------------------------------------------------------- diff

async function view_diff(a, b) {
	document.title = `memdelta \u00b7 diff ${a} \u2192 ${b}`;
	const d = await api(`/api/v1/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
	const here = el('span', {}, `diff #${a} \u2192 #${b}`);
	set_crumbs(el('span', {}, d.after.name), here);
	// The diff does not name its target: the target page we came from does,
	// else the one target of that name, else (in the background) snapshot B.
	const crumb_to = (tid, name) => set_crumbs(el('a', { href: `#/target/${tid}` }, name), here);
	if (last_target && last_target.name === d.after.name) crumb_to(last_target.id, last_target.name);
	else
		api('/api/v1/targets')
			.then(async (ts) => {
				const same = ts.targets.filter((t) => t.name === d.after.name);
				if (same.length === 1) return crumb_to(same[0].id, same[0].name);
				const sb = await api(`/api/v1/snapshots/${b}`);
				const t = ts.targets.find((x) => x.id === sb.target);
				crumb_to(sb.target, t ? t.name : `target ${sb.target}`);
			})
			.catch(() => {});

	const dt = d.totals.all;
	const side = (label, x, id) =>
		el(
			'div',
			{ class: 'side' },
			el('strong', {}, label),
			' ',
			el('a', { href: `#/snapshot/${id}` }, `#${id}`),
			` \u00b7 ${fmt_time(x.time)} \u00b7 ${x.name} pid ${x.pid}`,
			x.truncated ? el('span', { class: 'flag' }, ' truncated') : null
		);
	const counts = el(
		'p',
		{ class: 'diff-counts', id: 'diff-counts' },
		`${dt.new} new (${fmt_bytes(dt.new_bytes)}), ${dt.freed} freed (${fmt_bytes(dt.freed_bytes)}), ${dt.grew} grew, ${dt.shrank} shrank, ${dt.changed} changed; committed `,
		bytes_span(dt.committed_delta, true),
		', resident ',
		bytes_span(dt.resident_delta, true)
	);
	const restart = d.before.pid !== d.after.pid || d.before.start_time !== d.after.start_time;
	put(main, 
		el('h1', {}, `Diff #${a} \u2192 #${b}`),
		el('div', { class: 'sides' }, side('Before', d.before, a), side('After', d.after, b)),
		restart ? el('p', { class: 'warn', id: 'diff-restart' }, '\u21bb The process restarted between these snapshots: the diff compares two different processes.') : null,
		counts,
		el('h2', {}, 'Summary'),
		summary_table([prepare_totals(d.summary && d.summary.before), prepare_totals(d.summary && d.summary.after)], 'summary'),
		el('h2', {}, 'Changed ranges'),
		details_table(d.entries, 'diff'),
		el('p', { class: 'links' }, el('a', { href: `/api/v1/diff.csv?a=${a}&b=${b}`, download: `diff-${a}-${b}.csv` }, 'Download CSV'))
	);
}

// ------------------------------------------------------------- snapshot

async function view_snapshot(id) {
	document.title = `memdelta \u00b7 snapshot ${id}`;
	const s = await api(`/api/v1/snapshots/${id}`);
	const targets = await api('/api/v1/targets').catch(() => null);
	const target = targets && targets.targets.find((t) => t.id === s.target);
	set_crumbs(el('a', { href: `#/target/${s.target}` }, target ? target.name : s.name || `target ${s.target}`), el('span', {}, `snapshot #${id}`));
	put(main, 
		el('h1', {}, `Snapshot #${id}`),
		el(
			'p',
			{ class: 'snap-id' },
			`${s.name} pid ${s.pid} \u00b7 ${fmt_time(s.time)} \u00b7 ${fmt_count(s.regions.length)} regions`,
			s.collect_ns ? ` \u00b7 collected in ${(s.collect_ns / 1e6).toFixed(1)} ms` : '',
			s.flags && s.flags.length ? el('span', { class: 'flag' }, ` flags: ${s.flags.join(', ')}`) : null
		),
		s.cmdline ? el('p', { class: 'cmdline' }, el('code', {}, s.cmdline)) : null,
		state_summary(s.totals),
		el('h2', {}, 'Summary'),
		summary_table([prepare_totals(s.totals)], 'summary'),
		el('h2', {}, 'Regions'),
		details_table(s.regions, 'snapshot'),
		el('p', { class: 'links' }, el('a', { href: `/api/v1/snapshots/${id}.csv`, download: `snapshot-${id}.csv` }, 'Download CSV'))
	);
}

// ----------------------------------------------------------------- router

async function route() {
	stop_current();
	update_alert_count();
	const h = location.hash.replace(/^#\/?/, '');
	const parts = h.split('/').filter(Boolean);
	const num = (x) => /^\d+$/.test(x || '');
	document.body.dataset.view = parts[0] || 'overview';
	main.dataset.state = 'loading';
	main.setAttribute('aria-busy', 'true');
	try {
		if (!parts.length) {
			await view_overview();
			current.timers.push(setInterval(() => view_overview().catch(() => {}), REFRESH_MS * 2));
		}
		else if (parts[0] === 'target' && num(parts[1])) await view_target(parts[1]);
		else if (parts[0] === 'diff' && num(parts[1]) && num(parts[2])) await view_diff(parts[1], parts[2]);
		else if (parts[0] === 'snapshot' && num(parts[1])) await view_snapshot(parts[1]);
		else if (parts[0] === 'alert' && num(parts[1])) await view_alert(parts[1]);
		else if (parts[0] === 'alerts' && (!parts[1] || ALERT_STATE_NAMES.includes(parts[1])) && parts.length <= 2) {
			await view_alerts(parts[1] || null);
			current.timers.push(setInterval(() => view_alerts(parts[1] || null).catch(() => {}), REFRESH_MS * 2));
		}
		else {
			set_crumbs();
			put(main, el('p', { class: 'error', id: 'error' }, `No such page: #${h}. `, el('a', { href: '#/' }, 'Targets')));
		}
		main.dataset.state = 'ready';
	} catch (e) {
		show_error(e);
		main.dataset.state = 'error';
	}
	main.removeAttribute('aria-busy');
}

install_css_colors();
window.addEventListener('hashchange', route);
update_health();
setInterval(update_health, 15000);
route();
