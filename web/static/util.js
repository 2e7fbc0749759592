// util.js - small helpers of memdelta's UI: DOM building, human-readable
// sizes with exact bytes in a tooltip, times, and the JSON fetch that keeps
// 64-bit addresses exact (JSON.parse would round them to doubles).

// el('td', {class: 'x', title: 't'}, child, 'text', ...) -> element.
// Attributes starting with "on" are event listeners; null/undefined/false
// attributes and children are skipped.
export function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false) continue;
		if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
		else if (k === 'dataset') Object.assign(e.dataset, v);
		else if (k === 'text') e.textContent = v;
		else e.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat()) {
		if (c === null || c === undefined || c === false) continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

// 16777216 -> "16.0 MiB"; three significant digits above 1 KiB.
export function fmt_bytes(n) {
	if (n === null || n === undefined || Number.isNaN(n)) return '';
	const neg = n < 0;
	let v = Math.abs(n);
	let u = 0;
	while (v >= 1024 && u < UNITS.length - 1) {
		v /= 1024;
		u++;
	}
	let s;
	if (u === 0) s = String(v);
	else if (v >= 100) s = v.toFixed(0);
	else if (v >= 10) s = v.toFixed(1);
	else s = v.toFixed(2);
	return (neg ? '\u2212' : '') + s + ' ' + UNITS[u];
}

// Signed, for deltas: "+16.0 MiB", "−4.00 KiB", "0".
export function fmt_delta(n) {
	if (!n) return '0';
	return (n > 0 ? '+' : '') + fmt_bytes(n);
}

export function fmt_exact(n) {
	if (n === null || n === undefined) return '';
	return Number(n).toLocaleString('en-US') + ' bytes';
}

// A <span> with the human size and the exact byte count as its tooltip.
export function bytes_span(n, signed = false) {
	const txt = signed ? fmt_delta(n) : fmt_bytes(n);
	return el('span', { class: 'bytes', title: (signed && n > 0 ? '+' : '') + fmt_exact(n), 'data-bytes': n }, txt);
}

export function fmt_time(ms) {
	if (!ms) return '';
	const d = new Date(ms);
	const p = (x) => String(x).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(
		d.getMinutes()
	)}:${p(d.getSeconds())}`;
}

export function fmt_count(n) {
	return Number(n || 0).toLocaleString('en-US');
}

// Addresses are quoted before parsing so that they stay exact: the members
// named below hold addresses or OS stamps that may exceed 2^53.
const BIG_MEMBERS = /("(?:base|allocation_base|start_time)"\s*:\s*)(\d+)/g;

export function parse_json_exact(text) {
	return JSON.parse(text.replace(BIG_MEMBERS, '$1"$2"'));
}

// "140350830800896" (string or number) -> "0x7fa5f969f000".
export function hex_addr(v) {
	if (v === null || v === undefined) return '';
	try {
		return '0x' + BigInt(v).toString(16);
	} catch (e) {
		return String(v);
	}
}

// base + size as a hex address (exclusive end).
export function hex_end(base, size) {
	try {
		return '0x' + (BigInt(base) + BigInt(size)).toString(16);
	} catch (e) {
		return '';
	}
}

// Compare two decimal address strings numerically.
export function cmp_addr(a, b) {
	const x = BigInt(a);
	const y = BigInt(b);
	return x < y ? -1 : x > y ? 1 : 0;
}

export class http_error extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

// GET a JSON API path; throws http_error with the server's {"error": ...}.
export async function get_json(path, signal) {
	const r = await fetch(path, { headers: { Accept: 'application/json' }, signal, credentials: 'same-origin' });
	const text = await r.text();
	if (!r.ok) {
		let msg = `${r.status} ${r.statusText}`;
		try {
			const j = JSON.parse(text);
			if (j && j.error) msg = `${r.status}: ${j.error}`;
		} catch (e) {
			/* not JSON: keep the status line */
		}
		throw new http_error(r.status, msg);
	}
	return parse_json_exact(text);
}
