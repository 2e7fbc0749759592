// browser.mjs - what the browser tests share (e2e.mjs, walkthrough.mjs): their
// environment, the scaled-down leak detector, the log, checks, waiting, a free port, a grower driven over its stdin, headless
// Chromium through playwright-core, and the run of a test's main() under a
// deadline with its clean-up.  tests/lib.sh (node_setup) copies it beside
// them into the node directory, where playwright-core resolves.

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

// The environment the shell tests set (tests/lib.sh, run_node).
const env = (k, d) => process.env[k] || d;
export const memdeltad = env('MD_MEMDELTAD');
export const grower_bin = env('MD_GROWER');
export const scratch = env('MD_SCRATCH');
export const artifacts = env('MD_ARTIFACTS');
export const chromium_path = env('MD_CHROMIUM', '/usr/bin/chromium');
fs.mkdirSync(artifacts, { recursive: true });

export const MiB = 1048576;
// The leak detector scaled down so that a steady leak fires within seconds:
// a 2 s warm-up, a 60 s window, a fit once 8 s of data are there, 1 s steps,
// firing after 2 evaluations in a row, one evaluation a second.
export const ALERTS_CONF = `[alerts]
warmup = 2s
window = 60s
min_span = 8s
step = 1s
min_window = 0
fire_after = 2
eval_interval = 1s
min_mb_per_h = 1
`;

export const t_start = Date.now();
export const log = (...a) => console.log(`[${((Date.now() - t_start) / 1000).toFixed(1)}s]`, ...a);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The processes the test started (killed by run() at the end), and the
// screenshots it took (listed by run() at the end).
export const children = [];
export const shots = [];
let browser = null;

export class test_failure extends Error {}
// stats.checks: the checks passed so far.
export const stats = { checks: 0 };
export function check(cond, what) {
	if (!cond) throw new test_failure(what);
	stats.checks++;
	log('ok:', what);
}

export async function free_port() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

// Calls fn every @every_ms until it returns something true (returned) or
// @timeout_ms have gone by (a test_failure naming @what and fn's last error).
// fn's errors are retried, but a test_failure when @fail_fast.
export async function wait_for(what, fn, timeout_ms, every_ms = 250, fail_fast = false) {
	const end = Date.now() + timeout_ms;
	let last_err = null;
	for (;;) {
		try {
			const v = await fn();
			if (v) return v;
		} catch (e) {
			if (fail_fast && e instanceof test_failure) throw e;
			last_err = e;
		}
		if (Date.now() > end) throw new test_failure(`timed out after ${timeout_ms} ms waiting for ${what}${last_err ? ` (last error: ${last_err.message})` : ''}`);
		await sleep(every_ms);
	}
}

// A grower process @proc (spawned with stdin and stdout piped; @name for the
// messages), with a line reader for its replies.
export class grower {
	constructor(proc, name = 'grower') {
		this.name = name;
		this.proc = proc;
		children.push(this.proc);
		this.lines = [];
		this.waiters = [];
		this.exited = new Promise((r) => this.proc.once('exit', r));
		readline.createInterface({ input: this.proc.stdout }).on('line', (l) => {
			const w = this.waiters.shift();
			if (w) w(l);
			else this.lines.push(l);
		});
	}
	next_line(timeout_ms = 10000) {
		if (this.lines.length) return Promise.resolve(this.lines.shift());
		return new Promise((resolve, reject) => {
			const t = setTimeout(() => reject(new test_failure(`${this.name} did not answer`)), timeout_ms);
			this.waiters.push((l) => {
				clearTimeout(t);
				resolve(l);
			});
		});
	}
	async command(c) {
		this.proc.stdin.write(c + '\n');
		const r = await this.next_line();
		if (!r.startsWith('ok')) throw new test_failure(`${this.name}: ${c}: ${r}`);
		return r;
	}
	// A "FIELD:  N kB" line of /proc/PID/status, in bytes (null if none).
	status(field) {
		const m = fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
		return m ? Number(m[1]) * 1024 : null;
	}
	async stop() {
		this.proc.stdin.end();
		await Promise.race([this.exited, sleep(5000)]);
		if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
	}
}

// memdeltad on the database @db and 127.0.0.1:@port, its interval 1 s and
// its detector ALERTS_CONF, watching the processes named in @names; its
// output goes to memdeltad.log in the artifacts.  Returns api(PATH): the
// JSON of GET PATH (throws an Error on an HTTP error status, a test_failure
// once memdeltad has exited).
export function start_memdeltad(db, port, names) {
	const dlog = fs.openSync(path.join(artifacts, 'memdeltad.log'), 'w');
	const conf = path.join(scratch, 'memdeltad.conf');
	fs.writeFileSync(conf, ALERTS_CONF);
	const args = ['-f', '-c', conf, '--db', db, '--listen', `127.0.0.1:${port}`, '--interval', '1'];
	for (const n of names) args.push('--watch-name', n);
	log('starting', memdeltad, args.join(' '));
	const d = spawn(memdeltad, args, { stdio: ['ignore', dlog, dlog] });
	children.push(d);
	let d_exit = null;
	d.once('exit', (code, sig) => (d_exit = `memdeltad exited (${code ?? sig}); see ${path.join(artifacts, 'memdeltad.log')}`));
	return async (p) => {
		if (d_exit) throw new test_failure(d_exit);
		const r = await fetch(`http://127.0.0.1:${port}${p}`);
		if (!r.ok) throw new Error(`${p}: HTTP ${r.status}`);
		return r.json();
	};
}

// Headless Chromium (@chromium_path) on a persistent context over the fresh
// profile directory @profile_dir (Chromium's --user-data-dir, which
// playwright takes as a parameter), @width x 800.  Returns its first page and
// the list the page's script errors (and console errors) collect in.
export async function launch(chromium_path, profile_dir, width) {
	browser = await chromium.launchPersistentContext(profile_dir, {
		executablePath: chromium_path,
		viewport: { width, height: 800 },
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
		timeout: 60000,
	});
	const page = browser.pages()[0] || (await browser.newPage());
	const page_errors = [];
	page.on('pageerror', (e) => page_errors.push(e.message));
	page.on('console', (m) => m.type() === 'error' && page_errors.push(m.text()));
	page.setDefaultTimeout(15000);
	return { page, page_errors };
}

async function cleanup() {
	if (browser) await browser.close().catch(() => {});
	for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
	await sleep(300);
	for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

// Runs main() and exits: 0 after printing pass_message() ("PASS"), 1 after
// "FAIL: ..." when main throws, when @deadline_ms go by or on SIGTERM or
// SIGINT.  after() runs once main has ended either way; then the browser
// is closed, the children are killed and the screenshots listed.
export async function run(main, deadline_ms, pass_message = () => 'PASS', after = () => {}) {
	const watchdog = setTimeout(async () => {
		console.log(`FAIL: the test took longer than ${deadline_ms / 1000} s`);
		await cleanup();
		process.exit(1);
	}, deadline_ms);

	for (const sig of ['SIGTERM', 'SIGINT']) {
		process.on(sig, async () => {
			console.log(`FAIL: stopped by ${sig}`);
			await cleanup();
			process.exit(1);
		});
	}

	let status = 0;
	try {
		await main();
		console.log(pass_message());
	} catch (e) {
		console.log('FAIL:', e instanceof test_failure ? e.message : e.stack || e);
		status = 1;
	}
	after();
	await cleanup();
	clearTimeout(watchdog);
	for (const f of shots) console.log('artifact:', f);
	process.exit(status);
}
