// SPDX-License-Identifier: GPL-2.0-or-later
// web.reconnect's browser side (test/web/reconnect.sh runs the rig and
// answers the pauses "rebooting" and "down").
'use strict';

const h = require('./harness');
const { assert, ok, clean, shot, visibleText } = h;

// the browser's own lines for the device being away
const DOWN = /^Failed to load resource: net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|EMPTY_RESPONSE|INCOMPLETE_CHUNKED_ENCODING|TIMED_OUT)/;

async function view(page, name, ms) {
	await page.waitForFunction((v) => document.getElementById('app').dataset.view === v,
		name, { timeout: ms || 30000 });
}

// true once the install view shows a state matching @re; false when the
// page moved on from the install view first (or after @ms)
async function stateShown(page, re, ms) {
	const shown = () => page.evaluate((src) => document.getElementById('app').dataset.view === 'install' &&
		new RegExp(src).test(document.getElementById('inst-state').textContent), re.source);
	await page.waitForFunction((src) => document.getElementById('app').dataset.view !== 'install' ||
		new RegExp(src).test(document.getElementById('inst-state').textContent),
	re.source, { timeout: ms || 30000 }).catch(() => {});
	return shown();
}

h.main(async (browser) => {
	const page = await h.open(browser);
	const streams = [];	// the Last-Event-ID of each GET /events
	page.on('request', (r) => {
		if (r.url().endsWith('/api/v1/events'))
			streams.push(r.headers()['last-event-id'] || null);
	});

	await page.goto(h.URL + '/');
	await h.login(page, h.TOKEN);
	await h.deviceShown(page);
	const card = await visibleText(page, '#device');
	assert(/1\.0\.0/.test(card) && /in place: the running system/.test(card), 'the device card: ' + card);
	clean(page, 'the login');

	await page.locator('#file').setInputFiles(process.env.WEB_BUNDLE);
	await view(page, 'report', 60000);
	const rep = await visibleText(page, '#v-report');
	assert(rep.includes(process.env.WEB_BUNDLE_SHA) && /in place: the running system is overwritten/.test(rep),
		'the report: ' + rep);
	assert(await page.locator('#opt-keep').isVisible() && await page.locator('#opt-keep').isChecked(),
		'Keep settings is not offered, checked, for an in-place install');
	assert(await page.locator('#opt-reboot').isHidden(), 'an in-place install offers not to reboot');
	assert((await page.locator('#install').innerText()) === 'Install and reboot', 'the install button');
	await h.labelled(page, 'the in-place report');
	await h.tabOrder(page, 'the in-place report');
	clean(page, 'the upload');
	await shot(page, 'report-in-place');
	ok('the report of the in-place bundle: target in place, Keep settings checked, Install and reboot');

	await page.focus('#install');
	await page.keyboard.press('Enter');
	await view(page, 'install');
	if (await stateShown(page, /Handing over/, 20000))
		await shot(page, 'handover');
	if (await stateShown(page, /Writing/, 60000))
		await shot(page, 'writing-in-stage2');
	await view(page, 'reboot', 120000);
	const log = await page.locator('#log').textContent();
	const order = ['(installing)', '(handover)', 'reconnecting', 'Reconnected; resuming after event', '(writing)', '(rebooting)']
		.map((s) => [s, log.indexOf(s)]);
	for (const [s, at] of order)
		assert(at >= 0, 'the activity lacks "' + s + '": ' + log);
	for (let i = 1; i < order.length; i++)
		assert(order[i][1] > order[i - 1][1], 'the activity is out of order at "' + order[i][0] + '": ' + log);
	const resumed = streams.filter((id) => id !== null);
	assert(streams.length >= 2 && resumed.length >= 1, 'GET /events was not resumed with Last-Event-ID: ' + JSON.stringify(streams));
	const rb = await visibleText(page, '#v-reboot');
	assert(/Rebooting into version 2\.0\.0/.test(rb), 'the reboot view: ' + rb);
	clean(page, 'the handover', [DOWN]);
	await shot(page, 'rebooting');
	ok('the page followed installing -> handover -> (reconnect, Last-Event-ID ' + resumed[0] + ') -> writing -> rebooting');

	await h.pause('rebooting');
	await page.waitForFunction(() => /Waiting for it to come back/.test(document.getElementById('reboot-msg').textContent),
		null, { timeout: 30000 });
	const down = await visibleText(page, '#v-reboot');
	clean(page, 'the device down', [DOWN]);
	await shot(page, 'waiting-for-device');
	ok('the device is down: the page says "' + down + '"');

	await h.pause('down');
	await view(page, 'back', 90000);
	const back = await visibleText(page, '#v-back');
	assert(/Update complete: version 2\.0\.0 is running/.test(back) && /2\.0\.0, success/.test(back), 'back: ' + back);
	await page.waitForFunction(() => document.getElementById('dev-version').textContent === '2.0.0');
	const card2 = await visibleText(page, '#device');
	assert(/success 2\.0\.0/.test(card2), 'the device card after the reboot: ' + card2);
	await page.waitForFunction(() => document.getElementById('conn').textContent === 'Live', null, { timeout: 10000 });
	clean(page, 'the device back', [DOWN]);
	await shot(page, 'back');
	ok('the device is back: the page shows 2.0.0 and last_install success');
});
