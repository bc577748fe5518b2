// SPDX-License-Identifier: GPL-2.0-or-later
// What the web tests' browser scripts share: Debian's chromium through
// playwright-core, a page on the daemon with its console watched,
// screenshots at two widths, the pauses test/web/lib.sh answers, and the
// keyboard and label checks. From test/web/lib.sh's web_start:
//   WEB_URL      https://127.0.0.1:PORT (a self-signed certificate)
//   WEB_TOKEN    the device's bearer token
//   WEB_SHOTS    where the PNG screenshots go
//   WEB_SYNC     the pause directory (NAME.wait / NAME.go)
//   WEB_CHROMIUM the browser
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const URL = process.env.WEB_URL;
const TOKEN = process.env.WEB_TOKEN;
const SHOTS = process.env.WEB_SHOTS;
const SYNC = process.env.WEB_SYNC;
const WIDE = { width: 1280, height: 860 };
const NARROW = { width: 360, height: 780 };

for (const [k, v] of Object.entries({ WEB_URL: URL, WEB_TOKEN: TOKEN, WEB_SHOTS: SHOTS, WEB_SYNC: SYNC }))
	if (!v)
		throw new Error(k + ' is not set (run through test/web/lib.sh)');

function fail(msg) {
	throw new Error(msg);
}

function ok(msg) {
	console.log('ok: ' + msg);
}

function assert(cond, msg) {
	if (!cond)
		fail(msg);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function launch() {
	return chromium.launch({
		executablePath: process.env.WEB_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		// root in a container: chromium's own sandbox cannot start
		chromiumSandbox: false,
	});
}

// A page of its own context on the device: console errors and page
// errors are collected, each with the step it happened in, for
// clean() to judge.
async function open(browser, opts) {
	const context = await browser.newContext(Object.assign({
		ignoreHTTPSErrors: true,
		viewport: WIDE,
		deviceScaleFactor: 1,
	}, opts || {}));
	const page = await context.newPage();
	page.problems = [];
	page.on('console', (m) => {
		if (m.type() === 'error' || m.type() === 'warning')
			page.problems.push({ kind: 'console.' + m.type(), text: m.text() });
	});
	page.on('pageerror', (e) => page.problems.push({ kind: 'pageerror', text: String(e && e.stack || e) }));
	page.on('crash', () => page.problems.push({ kind: 'crash', text: 'the page crashed' }));
	return page;
}

// No console error, warning or page error since the last call, except
// the browser's own report of an answer the step expects (a 401 for a
// wrong token, a refused upload, the device down while it reboots):
// @allowed are regexps for those "Failed to load resource" lines.
function clean(page, what, allowed) {
	const bad = page.problems.filter((p) => !(p.kind === 'console.error' &&
		(allowed || []).some((re) => re.test(p.text))));
	page.problems = [];
	assert(!bad.length, what + ': console problems: ' + JSON.stringify(bad, null, 1));
}

let shotNo = 0;

// NAME-1280.png and NAME-360.png (full page) of the page as it is now.
async function shot(page, name) {
	shotNo++;
	const base = path.join(SHOTS, String(shotNo).padStart(2, '0') + '-' + name);
	const vp = page.viewportSize();
	await page.setViewportSize(WIDE);
	await page.screenshot({ path: base + '-1280.png', fullPage: true });
	await page.setViewportSize(NARROW);
	await page.screenshot({ path: base + '-360.png', fullPage: true });
	// nothing may stick out at 360 px: no sideways scrolling
	const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	assert(over <= 0, name + ': the page is ' + over + ' px wider than a 360 px screen');
	await page.setViewportSize(vp || WIDE);
}

// Pause at NAME until test/web/lib.sh's web_go NAME.
async function pause(name, seconds) {
	fs.writeFileSync(path.join(SYNC, name + '.wait'), '');
	const end = Date.now() + (seconds || 180) * 1000;
	while (!fs.existsSync(path.join(SYNC, name + '.go'))) {
		assert(Date.now() < end, 'no go for ' + name + ' within ' + seconds + ' s');
		await sleep(100);
	}
}

async function visibleText(page, sel) {
	return (await page.locator(sel).innerText()).replace(/\s+/g, ' ').trim();
}

// Log in through the form, by keyboard: focus the token field, type,
// Enter.
async function login(page, token) {
	await page.locator('#token').waitFor({ state: 'visible' });
	await page.focus('#token');
	await page.keyboard.type(token);
	await page.keyboard.press('Enter');
}

async function deviceShown(page) {
	await page.locator('#device').waitFor({ state: 'visible' });
	await page.waitForFunction(() => document.getElementById('dev-version').textContent !== '');
}

// Every interactive element in the accessibility tree has a name.
async function labelled(page, what) {
	const cdp = await page.context().newCDPSession(page);
	const { nodes } = await cdp.send('Accessibility.getFullAXTree');
	await cdp.detach();
	const roles = ['button', 'textbox', 'checkbox', 'link', 'progressbar', 'combobox', 'radio', 'slider', 'spinbutton', 'switch'];
	const unnamed = [];
	let n = 0;
	for (const node of nodes) {
		if (node.ignored)
			continue;
		const role = node.role && node.role.value;
		if (!roles.includes(role))
			continue;
		n++;
		const name = node.name && node.name.value;
		if (!name || !String(name).trim())
			unnamed.push(role + ' #' + node.backendDOMNodeId);
	}
	assert(n > 0, what + ': no control in the accessibility tree');
	assert(!unnamed.length, what + ': controls without an accessible name: ' + unnamed.join(', '));
	// and each input its own label
	const bare = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
		.filter((e) => e.offsetParent !== null || e.type === 'file')
		.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
		.map((e) => e.id || e.name || e.type));
	assert(!bare.length, what + ': inputs without a label: ' + bare.join(', '));
	return n;
}

// Tab from the top of the page reaches every control the view shows,
// in document order, and Shift+Tab goes back.
async function tabOrder(page, what) {
	const want = await page.evaluate(() => {
		const sel = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
		const shown = (e) => {
			if (e.disabled)
				return false;
			if (e.type === 'file')	// visually hidden, focusable in its zone
				return e.closest('[hidden]') === null;
			const r = e.getBoundingClientRect();
			return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
		};
		return [...document.querySelectorAll(sel)].filter(shown)
			.filter((e) => !e.classList.contains('skip'))
			.map((e) => e.id || e.tagName.toLowerCase() + ':' + (e.textContent || '').trim().slice(0, 30));
	});
	// start from the skip link, the page's first stop
	await page.evaluate(() => document.querySelector('.skip').focus());
	const got = [];
	for (let i = 0; i < want.length + 4; i++) {
		await page.keyboard.press('Tab');
		const id = await page.evaluate(() => {
			const e = document.activeElement;
			if (!e || e === document.body)
				return null;
			return e.id || e.tagName.toLowerCase() + ':' + (e.textContent || '').trim().slice(0, 30);
		});
		if (id && !got.includes(id))
			got.push(id);
	}
	const missed = want.filter((w) => !got.includes(w));
	assert(!missed.length, what + ': Tab never reaches ' + missed.join(', ') + ' (reached: ' + got.join(', ') + ')');
	const order = got.filter((g) => want.includes(g));
	assert(JSON.stringify(order) === JSON.stringify(want),
		what + ': Tab order ' + order.join(', ') + ' is not the page order ' + want.join(', '));
	return want;
}

// Record every value the <progress> @id takes, and the bar's value at
// the moment the element @watch first shows.
async function recordBar(page, id, watch) {
	await page.evaluate(([id, watch]) => {
		const bar = document.getElementById(id);
		const rec = { values: [], shownAt: null };
		window.__bar = rec;
		new MutationObserver(() => rec.values.push(Number(bar.value)))
			.observe(bar, { attributes: true, attributeFilter: ['value'] });
		if (!watch)
			return;
		const w = document.getElementById(watch);
		new MutationObserver(() => {
			if (!w.hidden && rec.shownAt === null)
				rec.shownAt = Number(bar.value);
		}).observe(w, { attributes: true, attributeFilter: ['hidden'] });
	}, [id, watch || null]);
}

async function barRecord(page) {
	return page.evaluate(() => window.__bar);
}

// The upload bandwidth of the page (bytes/s; -1: none): DevTools'
// network emulation, so a person can watch the bar in a screenshot.
async function throttle(page, up) {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: up,
	});
	return cdp;
}

// Run the test body; any failure ends the process with status 1.
function main(fn) {
	let browser = null;
	(async () => {
		browser = await launch();
		await fn(browser);
		await browser.close();
		browser = null;
	})().catch(async (e) => {
		console.error('FAIL: ' + (e && e.stack || e));
		if (browser) {
			// what the page showed when it failed, for the person reading
			let n = 0;
			for (const c of browser.contexts()) {
				for (const p of c.pages()) {
					n++;
					await p.screenshot({ path: path.join(SHOTS, 'FAILED-' + n + '.png'), fullPage: true }).catch(() => {});
					const log = await p.evaluate(() => {
						const l = document.getElementById('log');
						return l ? [...l.children].map((li) => li.textContent).join('\n') : '';
					}).catch(() => '');
					console.error('--- page ' + n + ' (' + p.url() + '), its activity:\n' + log);
				}
			}
			await browser.close().catch(() => {});
		}
		process.exit(1);
	});
}

module.exports = {
	URL, TOKEN, SHOTS, WIDE, NARROW, fail, ok, assert, sleep, open, clean, shot, pause,
	visibleText, login, deviceShown, labelled, tabOrder, recordBar, barRecord, throttle, main,
};
