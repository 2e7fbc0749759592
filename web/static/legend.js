// legend.js - the one legend of memdelta's UI: every region type's label and
// colour, and every change kind's colour, word and symbol.  Every view (chart,
// tables, swatches, CSS custom properties) reads it from here and nowhere else.
//
// Alert states and the trend line have colours of their own too.
//
// Type colours follow VMMap's (Image lavender, Mapped File light blue,
// Private Data yellow, ...), moved away from green, red and amber where VMMap
// uses them, because those three colours mean a change kind in the diff.

// In display order (the order of the API's "types" arrays and of VMMap's table).
export const TYPES = [
	{ name: 'image', label: 'Image', color: '#b39ddb' },
	{ name: 'mapped', label: 'Mapped File', color: '#90bfe9' },
	{ name: 'shareable', label: 'Shareable', color: '#7e8fc7' },
	{ name: 'heap', label: 'Heap', color: '#e58fc4' },
	{ name: 'managed_heap', label: 'Managed Heap', color: '#5fb8c8' },
	{ name: 'stack', label: 'Stack', color: '#b08968' },
	{ name: 'private', label: 'Private Data', color: '#f2d52e' },
	{ name: 'page_table', label: 'Page Table', color: '#a9b9c6' },
	{ name: 'unusable', label: 'Unusable', color: '#7d7d7d' },
	{ name: 'free', label: 'Free', color: '#e6e6e6' },
];

// Change kinds of a diff entry.  The word and the symbol make the kind
// readable without colour.
export const KINDS = [
	{ name: 'new', label: 'new', symbol: '+', color: '#2e9e44' },
	{ name: 'freed', label: 'freed', symbol: '\u2212', color: '#d1353b' },
	{ name: 'grew', label: 'grew', symbol: '\u25b2', color: '#e8a317' },
	{ name: 'shrank', label: 'shrank', symbol: '\u25bc', color: '#e8a317' },
	{ name: 'changed', label: 'changed', symbol: '~', color: '#6b7785' },
	{ name: 'same', label: 'same', symbol: '=', color: '#b5bcc4' },
];

// Markers drawn on the timeline.
export const MARKS = {
	restart: '#444444',
	pick_a: '#1f5fbf',
	pick_b: '#8a2be2',
	trend: '#1d232a', // the fitted trend line (dashed)
};

// Alert states (the alerts page, the target page's banner).  The word is
// always written next to the colour.
export const ALERT_STATES = [
	{ name: 'firing', label: 'firing', color: '#c2185b' },
	{ name: 'pending', label: 'pending', color: '#7b5ea7' },
	{ name: 'resolved', label: 'resolved', color: '#6b7785' },
];

const type_by_name = new Map(TYPES.map((t) => [t.name, t]));
const kind_by_name = new Map(KINDS.map((k) => [k.name, k]));

// The legend entry of a type name; unknown names (a later version's type)
// get a grey entry labelled with the name itself.
export function type_info(name) {
	return type_by_name.get(name) || { name, label: String(name), color: '#999999' };
}

export function kind_info(name) {
	return kind_by_name.get(name) || { name, label: String(name), symbol: '?', color: '#999999' };
}

// Publish the colours as CSS custom properties (--type-NAME, --kind-NAME) so
// that style.css never repeats a colour (and --alert-NAME, --mark-NAME).
export function install_css_colors(root = document.documentElement) {
	for (const t of TYPES) root.style.setProperty(`--type-${t.name}`, t.color);
	for (const k of KINDS) root.style.setProperty(`--kind-${k.name}`, k.color);
	for (const [m, c] of Object.entries(MARKS)) root.style.setProperty(`--mark-${m}`, c);
	for (const a of ALERT_STATES) root.style.setProperty(`--alert-${a.name}`, a.color);
}
