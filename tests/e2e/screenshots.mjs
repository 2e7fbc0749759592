// screenshots.mjs - renders every view of the UI at desktop (1280x800) and
// phone (390x844) size, for looking at the pages while developing.
// Usage: node screenshots.mjs BASE_URL OUT_DIR [TARGET DIFF_A DIFF_B SNAPSHOT]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, out, target = '1', a = '100', b = '129', snap = '129'] = process.argv.slice(2);
fs.mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
	executablePath: process.env.MD_CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const views = [['overview', '#/'], ['target', `#/target/${target}`], ['diff', `#/diff/${a}/${b}`], ['snapshot', `#/snapshot/${snap}`], ['alerts', '#/alerts']];
for (const [w, h, tag] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
	const page = await browser.newPage({ viewport: { width: w, height: h } });
	page.on('pageerror', (e) => console.log('pageerror', e.message));
	page.on('console', (m) => m.type() === 'error' && console.log('console', m.text()));
	for (const [name, hash] of views) {
		await page.goto(base + '/' + hash);
		await page.waitForSelector('#view[data-state=ready], #view[data-state=error]', { timeout: 10000 });
		await page.waitForTimeout(300);
		const f = path.join(out, `${name}-${tag}.png`);
		await page.screenshot({ path: f, fullPage: process.env.FULL === '1' });
		console.log(f);
	}
	await page.close();
}
await browser.close();
