// tables.js - the two tables of the diff and snapshot views: VMMap's summary
// table (a row per type) and the details table (a row per address range or
// region: sortable, filterable by type and change kind, searchable by path,
// each row expanding to its attributes).

import { TYPES, KINDS, type_info, kind_info } from './legend.js';
import { el, bytes_span, fmt_count, fmt_exact, hex_addr, hex_end, cmp_addr } from './util.js';

// VMMap's summary columns, read from a totals row of json-format.md.
// "Private" is the committed bytes that are private to the process: on Linux
// committed (charged) memory is private writable memory in every type but
// Shareable, whose committed bytes are shared.
export const SUMMARY_COLUMNS = [
	{ key: 'size', label: 'Size', title: 'address space of the regions', get: (t, r) => r.size },
	{ key: 'committed', label: 'Committed', title: 'committed (charged) bytes', get: (t, r) => r.committed },
	{
		key: 'private',
		label: 'Private',
		title: 'committed bytes private to the process (all but Shareable)',
		get: (t, r) => (t === 'shareable' ? 0 : r.committed),
	},
	{ key: 'ws', label: 'Total WS', title: 'resident bytes (working set, Rss)', get: (t, r) => r.resident },
	{ key: 'private_ws', label: 'Private WS', title: 'resident and private', get: (t, r) => r.private_resident },
	{ key: 'shareable_ws', label: 'Shareable WS', title: 'resident and shared', get: (t, r) => r.shared_resident },
	{ key: 'blocks', label: 'Blocks', title: 'allocations (regions grouped by allocation base)', get: (t, r) => r.blocks, count: true },
	{ key: 'largest', label: 'Largest', title: 'largest block', get: (t, r) => r.largest },
];

const ZERO_ROW = {
	size: 0,
	committed: 0,
	reserved: 0,
	resident: 0,
	private_resident: 0,
	shared_resident: 0,
	pss: 0,
	swap: 0,
	locked: 0,
	regions: 0,
	blocks: 0,
	largest: 0,
};

function type_row(totals, name) {
	if (!totals) return ZERO_ROW;
	if (name === 'free') return { ...ZERO_ROW, size: totals.free || 0 };
	return (totals.types && totals.types[name]) || ZERO_ROW;
}

function value_cell(col, v, signed, cls = '') {
	if (col.count) {
		const txt = signed ? (v > 0 ? '+' : '') + fmt_count(v) : v ? fmt_count(v) : '';
		return el('td', { class: 'num' + (signed ? delta_class(v) : '') + cls }, txt);
	}
	return el('td', { class: 'num' + (signed ? delta_class(v) : '') + cls }, v || signed ? bytes_span(v, signed) : '');
}

function delta_class(v) {
	return v > 0 ? ' up' : v < 0 ? ' down' : ' zero';
}

function type_cell(name) {
	const t = type_info(name);
	return el('th', { scope: 'row', class: 'type-cell' }, el('span', { class: 'swatch', style: `background:var(--type-${t.name},${t.color})` }), t.label);
}

// The summary table of one snapshot (sets = [totals]) or of a diff
// (sets = [before, after]: before, after and delta columns per metric).
export function summary_table(sets, id) {
	const diff = sets.length === 2;
	const head1 = el('tr', {}, el('th', { rowspan: diff ? 2 : 1, scope: 'col' }, 'Type'));
	const head2 = el('tr');
	for (const c of SUMMARY_COLUMNS) {
		head1.append(el('th', { colspan: diff ? 3 : 1, scope: 'colgroup', title: c.title, class: 'num group' }, c.label));
		if (diff) {
			head2.append(el('th', { class: 'num sub c-before' }, 'before'), el('th', { class: 'num sub c-after' }, 'after'), el('th', { class: 'num sub c-delta' }, '\u0394'));
		}
	}
	const body = el('tbody');
	const rows = TYPES.map((t) => t.name).concat(['total']);
	for (const name of rows) {
		const tr = el('tr', { dataset: { type: name } });
		if (name === 'total') {
			tr.className = 'total';
			tr.append(el('th', { scope: 'row' }, 'Total'));
		} else {
			tr.append(type_cell(name));
		}
		let nonzero = false;
		for (const c of SUMMARY_COLUMNS) {
			const vals = sets.map((s) => {
				if (name === 'total') {
					if (c.key === 'private') return s.private_committed_all;
					return c.get('total', (s && s.all) || ZERO_ROW);
				}
				return c.get(name, type_row(s, name));
			});
			if (vals.some((v) => v)) nonzero = true;
			tr.append(value_cell(c, vals[0], false, diff ? ' c-before' : ''));
			if (diff) {
				tr.append(value_cell(c, vals[1], false, ' c-after'));
				tr.append(value_cell(c, vals[1] - vals[0], true, ' c-delta'));
			}
		}
		if (!nonzero && name !== 'total') tr.classList.add('empty');
		body.append(tr);
	}
	const table = el('table', { class: 'summary' + (diff ? ' diff' : ''), id }, el('thead', {}, head1, diff ? head2 : null), body);
	if (!diff) return el('div', { class: 'table-wrap' }, table);
	// Which of before / after / delta to show: all three by default; the
	// table scrolls sideways when it does not fit.
	const shown = el('fieldset', { class: 'columns', id: 'summary-columns' }, el('legend', {}, 'Columns'));
	for (const [k, label] of [
		['before', 'before'],
		['after', 'after'],
		['delta', '\u0394'],
	]) {
		const cb = el('input', { type: 'checkbox', checked: true, id: `summary-show-${k}` });
		cb.addEventListener('change', () => {
			table.classList.toggle(`hide-${k}`, !cb.checked);
			for (const th of head1.querySelectorAll('th.group')) th.colSpan = Math.max(1, shown.querySelectorAll('input:checked').length);
		});
		shown.append(el('label', {}, cb, ' ', label));
	}
	return el('div', {}, shown, el('div', { class: 'table-wrap' }, table));
}

// Adds private_committed_all (the "Private" total) to a totals object.
export function prepare_totals(t) {
	if (!t) return t;
	let sum = 0;
	for (const ty of TYPES) if (ty.name !== 'free' && ty.name !== 'shareable') sum += type_row(t, ty.name).committed || 0;
	return { ...t, private_committed_all: sum };
}

// Committed / reserved / free summary of a snapshot.
export function state_summary(totals) {
	const st = totals.states || {};
	const commit = (st.commit && st.commit.size) || 0;
	const reserve = (st.reserve && st.reserve.size) || 0;
	const free = totals.free || 0;
	const item = (label, v, cls) =>
		el('div', { class: 'state-item ' + cls, dataset: { state: cls } }, el('div', { class: 'state-label' }, label), el('div', { class: 'state-value' }, bytes_span(v)));
	return el(
		'div',
		{ class: 'state-summary', id: 'state-summary' },
		item('Committed', commit, 'commit'),
		item('Reserved', reserve, 'reserve'),
		item('Free', free, 'free'),
		item('Charged (committed bytes)', (totals.all && totals.all.committed) || 0, 'charged'),
		item('Private committed', totals.private_committed || 0, 'private-committed')
	);
}

function kind_badge(k) {
	const info = kind_info(k);
	return el('span', { class: `kind kind-${info.name}`, title: `change: ${info.label}` }, el('span', { class: 'sym', 'aria-hidden': 'true' }, info.symbol), ' ', info.label);
}

function type_badge(name) {
	const t = type_info(name);
	return el('span', { class: 'type-badge' }, el('span', { class: 'swatch', style: `background:var(--type-${t.name},${t.color})` }), t.label);
}

function changed_pair(before, after) {
	if (before === undefined || before === after) return after || '';
	return `${before || '(none)'} \u2192 ${after || '(none)'}`;
}

// Columns of the details table.  get: the sort key; cell: the content.
const ENTRY_COLUMNS = [
	{ key: 'kind', label: 'Change', get: (e) => KINDS.findIndex((k) => k.name === e.kind), cell: (e) => kind_badge(e.kind) },
	{ key: 'type', label: 'Type', get: (e) => TYPES.findIndex((t) => t.name === e.type), cell: (e) => type_badge(e.type) },
	{ key: 'base', label: 'Address', get: (e) => e.base, cmp: cmp_addr, cell: (e) => el('code', {}, hex_addr(e.base)), cls: 'addr' },
	{ key: 'size', label: 'Size', get: (e) => e.size, cell: (e) => bytes_span(e.size), cls: 'num' },
	{ key: 'committed_delta', label: 'Committed \u0394', get: (e) => e.committed_delta, cell: (e) => bytes_span(e.committed_delta, true), cls: 'num' },
	{ key: 'resident_delta', label: 'WS \u0394', get: (e) => e.resident_delta, cell: (e) => bytes_span(e.resident_delta, true), cls: 'num opt' },
	{ key: 'private_delta', label: 'Private WS \u0394', get: (e) => e.private_delta, cell: (e) => bytes_span(e.private_delta, true), cls: 'num opt' },
	{ key: 'protection', label: 'Protection', get: (e) => e.protection, cell: (e) => el('code', {}, changed_pair(e.before_protection, e.protection)), cls: 'opt' },
	{ key: 'detail', label: 'Detail', get: (e) => e.detail || '', cell: (e) => e.detail || '', cls: 'detail' },
];

const REGION_COLUMNS = [
	{ key: 'base', label: 'Address', get: (r) => r.base, cmp: cmp_addr, cell: (r) => el('code', {}, hex_addr(r.base)), cls: 'addr' },
	{ key: 'type', label: 'Type', get: (r) => TYPES.findIndex((t) => t.name === r.type), cell: (r) => type_badge(r.type) },
	{ key: 'size', label: 'Size', get: (r) => r.size, cell: (r) => bytes_span(r.size), cls: 'num' },
	{ key: 'state', label: 'State', get: (r) => r.state, cell: (r) => r.state, cls: 'opt' },
	{ key: 'committed', label: 'Committed', get: (r) => r.committed, cell: (r) => bytes_span(r.committed), cls: 'num' },
	{ key: 'resident', label: 'Total WS', get: (r) => r.resident, cell: (r) => bytes_span(r.resident), cls: 'num opt' },
	{ key: 'private', label: 'Private WS', get: (r) => r.private, cell: (r) => bytes_span(r.private), cls: 'num opt' },
	{ key: 'shared', label: 'Shareable WS', get: (r) => r.shared, cell: (r) => bytes_span(r.shared), cls: 'num opt' },
	{ key: 'protection', label: 'Protection', get: (r) => r.protection, cell: (r) => el('code', {}, r.protection), cls: 'opt' },
	{ key: 'detail', label: 'Detail', get: (r) => r.detail || '', cell: (r) => r.detail || '', cls: 'detail' },
];

function entry_expansion(e) {
	const dl = el('dl', { class: 'expansion' });
	const add = (k, v) => dl.append(el('dt', {}, k), el('dd', {}, v));
	add('Address', el('code', {}, `${hex_addr(e.base)} \u2013 ${hex_end(e.base, e.size)}`));
	add('Size', `${fmt_exact(e.size)}`);
	add('Change', kind_badge(e.kind));
	add('Type', changed_pair(e.before_type && type_info(e.before_type).label, type_info(e.type).label));
	add('State', changed_pair(e.before_state, e.state));
	add('Protection', el('code', {}, changed_pair(e.before_protection, e.protection)));
	add('Detail', changed_pair(e.before_detail, e.detail) || '(none)');
	add('Committed \u0394', fmt_exact(e.committed_delta));
	add('Resident \u0394', fmt_exact(e.resident_delta));
	add('Private WS \u0394', fmt_exact(e.private_delta));
	add('Swap \u0394', fmt_exact(e.swap_delta));
	return dl;
}

function region_expansion(r) {
	const dl = el('dl', { class: 'expansion' });
	const add = (k, v) => dl.append(el('dt', {}, k), el('dd', {}, v));
	add('Address', el('code', {}, `${hex_addr(r.base)} \u2013 ${hex_end(r.base, r.size)}`));
	add('Allocation base', el('code', {}, hex_addr(r.allocation_base)));
	add('Size', fmt_exact(r.size));
	add('Type', type_info(r.type).label);
	add('State', r.state);
	add('Protection', el('code', {}, r.protection));
	add('Detail', r.detail || '(none)');
	for (const k of ['committed', 'resident', 'private', 'shared', 'pss', 'swap', 'locked']) add(k[0].toUpperCase() + k.slice(1), fmt_exact(r[k]));
	return dl;
}

const PAGE = 500;

// The details table with its controls.  mode: 'diff' (rows are diff entries)
// or 'snapshot' (rows are regions).
export function details_table(rows, mode) {
	const diff = mode === 'diff';
	const columns = diff ? ENTRY_COLUMNS : REGION_COLUMNS;
	const state = { sort: diff ? 'base' : 'base', dir: 1, type: '', kinds: new Set(KINDS.filter((k) => k.name !== 'same').map((k) => k.name)), q: '', limit: PAGE, open: new Set() };

	const present_types = TYPES.filter((t) => rows.some((r) => r.type === t.name));
	const type_sel = el(
		'select',
		{ id: 'filter-type', 'aria-label': 'Filter by type' },
		el('option', { value: '' }, 'All types'),
		present_types.map((t) => el('option', { value: t.name }, `${t.label} (${rows.filter((r) => r.type === t.name).length})`))
	);
	type_sel.addEventListener('change', () => {
		state.type = type_sel.value;
		state.limit = PAGE;
		render();
	});
	const search = el('input', { type: 'search', id: 'filter-search', placeholder: 'Search path / detail', 'aria-label': 'Search by path' });
	search.addEventListener('input', () => {
		state.q = search.value.trim().toLowerCase();
		state.limit = PAGE;
		render();
	});
	const controls = el('div', { class: 'controls' }, type_sel, search);
	if (diff) {
		const kinds = el('fieldset', { class: 'kinds', id: 'filter-kinds' }, el('legend', {}, 'Change'));
		for (const k of KINDS) {
			if (k.name === 'same' && !rows.some((r) => r.kind === 'same')) continue;
			const n = rows.filter((r) => r.kind === k.name).length;
			const cb = el('input', { type: 'checkbox', value: k.name, checked: state.kinds.has(k.name) || (k.name === 'same' && false), 'data-kind': k.name });
			cb.addEventListener('change', () => {
				if (cb.checked) state.kinds.add(k.name);
				else state.kinds.delete(k.name);
				state.limit = PAGE;
				render();
			});
			kinds.append(el('label', { class: `kind-filter kind-${k.name}` }, cb, el('span', { class: 'sym', 'aria-hidden': 'true' }, k.symbol), ` ${k.label} (${n})`));
		}
		controls.append(kinds);
	}
	const count = el('span', { class: 'count', id: 'details-count' });
	controls.append(count);

	const thead_row = el('tr');
	for (const c of columns) {
		const th = el('th', { scope: 'col', class: (c.cls || '') + ' sortable', dataset: { sort: c.key }, tabindex: 0 }, c.label);
		const activate = () => {
			if (state.sort === c.key) state.dir = -state.dir;
			else {
				state.sort = c.key;
				state.dir = ['size', 'committed_delta', 'resident_delta', 'private_delta', 'committed', 'resident', 'private', 'shared'].includes(c.key) ? -1 : 1;
			}
			render();
		};
		th.addEventListener('click', activate);
		th.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter' || ev.key === ' ') {
				ev.preventDefault();
				activate();
			}
		});
		thead_row.append(th);
	}
	const tbody = el('tbody');
	const table = el('table', { class: 'details ' + mode, id: 'details' }, el('thead', {}, thead_row), tbody);
	const more = el('button', { type: 'button', class: 'more', id: 'details-more' }, 'Show more');
	more.addEventListener('click', () => {
		state.limit += PAGE * 4;
		render();
	});

	function visible_rows() {
		let out = rows.filter((r) => {
			if (state.type && r.type !== state.type) return false;
			if (diff && !state.kinds.has(r.kind)) return false;
			if (state.q) {
				const hay = ((r.detail || '') + ' ' + (r.before_detail || '') + ' ' + hex_addr(r.base)).toLowerCase();
				if (!hay.includes(state.q)) return false;
			}
			return true;
		});
		const col = columns.find((c) => c.key === state.sort);
		const cmp = col.cmp || ((a, b) => (a < b ? -1 : a > b ? 1 : 0));
		out = out
			.map((r, i) => [r, i])
			.sort((x, y) => cmp(col.get(x[0]), col.get(y[0])) * state.dir || x[1] - y[1])
			.map((x) => x[0]);
		return out;
	}

	function render() {
		const vis = visible_rows();
		tbody.replaceChildren();
		const shown = vis.slice(0, state.limit);
		for (const r of shown) {
			const key = String(r.base) + ':' + (r.kind || '');
			const tr = el('tr', {
				class: 'row' + (diff ? ` kind-${r.kind}` : ''),
				tabindex: 0,
				'aria-expanded': state.open.has(key) ? 'true' : 'false',
				dataset: { type: r.type, base: hex_addr(r.base), size: r.size, ...(diff ? { kind: r.kind } : { state: r.state }) },
			});
			for (const c of columns) tr.append(el('td', { class: c.cls || '' }, c.cell(r)));
			const toggle = () => {
				if (state.open.has(key)) state.open.delete(key);
				else state.open.add(key);
				render();
			};
			tr.addEventListener('click', toggle);
			tr.addEventListener('keydown', (ev) => {
				if (ev.key === 'Enter') toggle();
			});
			tbody.append(tr);
			if (state.open.has(key)) {
				tbody.append(el('tr', { class: 'expanded' }, el('td', { colspan: columns.length }, diff ? entry_expansion(r) : region_expansion(r))));
			}
		}
		if (!vis.length) tbody.append(el('tr', { class: 'none' }, el('td', { colspan: columns.length }, diff ? 'No changed range matches.' : 'No region matches.')));
		for (const th of thead_row.children) {
			const on = th.dataset.sort === state.sort;
			th.setAttribute('aria-sort', on ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
		}
		count.textContent = `${fmt_count(vis.length)} of ${fmt_count(rows.length)} ${diff ? 'ranges' : 'regions'}`;
		more.hidden = vis.length <= state.limit;
	}
	render();
	return el('div', { class: 'details-block' }, controls, el('div', { class: 'table-wrap' }, table), more);
}
