// SPDX-License-Identifier: GPL-2.0-or-later
// web.ui's browser side (test/web/ui.sh sets up the device and answers
// the pauses "reboot" and "reboot-failed"). Every step asserts what the
// page shows, takes its screenshots and checks the console.
'use strict';

const path = require('path');
const h = require('./harness');
const { assert, ok, clean, shot, visibleText } = h;

const DIR = process.env.WEB_DIR;
const file = (n) => path.join(DIR, n);
// what the browser itself logs for an answer a step expects
const NET = (codes) => new RegExp('^Failed to load resource: the server responded with a status of (' + codes + ')');
const DOWN = /^Failed to load resource: net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|EMPTY_RESPONSE|TIMED_OUT)/;

async function view(page, name, ms) {
	await page.waitForFunction((v) => document.getElementById('app').dataset.view === v,
		name, { timeout: ms || 30000 });
}

async function refusal(page, code) {
	await view(page, 'refused');
	const got = await page.locator('#refused-code').innerText();
	assert(got === code, 'refusal code: expected ' + code + ', got ' + got);
	const msg = await visibleText(page, '#refused-box');
	assert(msg.length > 40, 'the refusal says too little: ' + msg);
	return msg;
}

// Pick @name with the file picker, opened from the keyboard: Tab to
// the (visually hidden) file input and press Space.
async function pickByKeyboard(page, name) {
	await page.focus('#refused-again').catch(() => {});
	await page.evaluate(() => document.getElementById('file').focus());
	const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
	assert(focused === 'file', 'the file input has no focus before Space (it is on "' + focused + '")');
	const chooser = page.waitForEvent('filechooser');
	await page.keyboard.press('Space');
	await (await chooser).setFiles(file(name));
}

async function pick(page, name) {
	await page.locator('#file').setInputFiles(file(name));
}

h.main(async (browser) => {
	const page = await h.open(browser);
	// Playwright has Chromium intercept file choosers only once a first
	// 'filechooser' listener is added, and does not wait for that: a key
	// pressed at once can open a chooser nobody intercepts, and no event
	// comes (web.ui failed so in CI). Listen from the start instead.
	page.on('filechooser', () => {});

	// ---- login ----
	await page.goto(h.URL + '/');
	await page.locator('#login').waitFor({ state: 'visible' });
	assert(await page.evaluate(() => document.activeElement.id) === 'token', 'the token field has no focus on the login page');
	await h.labelled(page, 'login');
	await h.tabOrder(page, 'login');
	clean(page, 'the login page');
	await shot(page, 'login');

	await h.login(page, 'not-the-token');
	await page.locator('#login-error').waitFor({ state: 'visible' });
	const refused = await visibleText(page, '#login-error');
	assert(/refused/.test(refused) && /unauthorized/.test(refused), 'wrong token: ' + refused);
	assert(await page.locator('#app').isHidden(), 'the device card shows after a wrong token');
	assert(await page.evaluate(() => sessionStorage.getItem('sysupgraded.token')) === null, 'a wrong token was kept');
	clean(page, 'a wrong token', [NET('401')]);
	await shot(page, 'login-refused');
	ok('login: a wrong token is refused (unauthorized), no device card');

	await page.fill('#token', '');
	await h.login(page, h.TOKEN);
	await h.deviceShown(page);
	assert(await page.evaluate(() => sessionStorage.getItem('sysupgraded.token')) === h.TOKEN, 'the token is not in sessionStorage');
	const card = await visibleText(page, '#device');
	for (const want of ['1.0.0', 'acme,router-x1', 'rootfs', 'A/B, running from slot a', 'data', 'in place', 'None recorded', 'MiB'])
		assert(card.includes(want), 'device card lacks "' + want + '": ' + card);
	await view(page, 'choose');
	clean(page, 'the device card');
	await h.labelled(page, 'the device card');
	await h.tabOrder(page, 'the device card');
	await shot(page, 'device');
	ok('login: the right token shows the device card (version, compatible, A/B slot a, in place, sizes)');

	// a reload keeps the session (sessionStorage), with no login
	await page.reload();
	await h.deviceShown(page);
	assert(await page.locator('#login').isHidden(), 'a reload asks for the token again');
	clean(page, 'a reload');
	ok('a reload keeps the session: the token is in sessionStorage');

	// ---- refusals ----
	// bad signature, dropped on the zone (a drag and drop of a File)
	const buf = require('fs').readFileSync(file('badsig.tar')).toString('base64');
	const dt = await page.evaluateHandle((b64) => {
		const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
		const d = new DataTransfer();
		d.items.add(new File([bin], 'badsig.tar', { type: 'application/x-tar' }));
		return d;
	}, buf);
	await page.dispatchEvent('#drop', 'dragenter', { dataTransfer: dt });
	await page.dispatchEvent('#drop', 'dragover', { dataTransfer: dt });
	await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
	let msg = await refusal(page, 'bad_signature');
	assert(/signature/i.test(msg), 'bad signature: ' + msg);
	assert(await page.locator('#force-box').isHidden(), 'a bad signature offers to force');
	clean(page, 'a bad signature', [NET('400')]);
	await h.labelled(page, 'a refusal');
	await shot(page, 'refused-bad-signature');
	ok('refusal: a bad signature (dropped on the page) shows bad_signature, no force');

	// incompatible, by the file picker; then forced
	await page.click('#refused-again');
	await view(page, 'choose');
	await pick(page, 'incompat.tar');
	msg = await refusal(page, 'incompatible');
	assert(await page.locator('#force-box').isVisible(), 'incompatible: no force checkbox');
	assert(await page.locator('#force-upload').isDisabled(), 'the forced upload is enabled before the box is ticked');
	clean(page, 'an incompatible bundle', [NET('400')]);
	await h.tabOrder(page, 'the incompatible refusal');
	await h.labelled(page, 'the incompatible refusal');
	await shot(page, 'refused-incompatible');
	await page.focus('#force');
	await page.keyboard.press('Space');
	assert(await page.locator('#force-upload').isEnabled(), 'the forced upload stays disabled with the box ticked');
	const forced = page.waitForRequest((r) => r.url().endsWith('/api/v1/bundle?force=1') && r.method() === 'POST');
	await page.focus('#force-upload');
	await page.keyboard.press('Enter');
	await forced;
	await view(page, 'report');
	const frep = await visibleText(page, '#v-report');
	assert(/incompatible/.test(frep) && /acme,other-box/.test(frep) && /but not made for acme,router-x1 \(forced\)/.test(frep),
		'the forced incompatible bundle is not shown as such: ' + frep);
	clean(page, 'the forced incompatible bundle');
	await shot(page, 'report-incompatible-forced');
	await page.click('#discard');
	await view(page, 'choose');
	ok('refusal: incompatible shows its code and a force box; forced (?force=1) it is staged and marked incompatible; discarded');

	await pick(page, 'downgrade.tar');
	msg = await refusal(page, 'downgrade');
	assert(/older/.test(msg), 'downgrade: ' + msg);
	assert(await page.locator('#force-box').isVisible(), 'downgrade: no force checkbox');
	clean(page, 'a downgrade', [NET('400')]);
	await shot(page, 'refused-downgrade');
	await page.click('#refused-again');
	ok('refusal: a downgrade shows downgrade and a force box');

	// 64 MiB with a bad signature: refused long before the end
	await view(page, 'choose');
	await h.recordBar(page, 'upload-bar', 'v-refused');
	const t0 = Date.now();
	await pick(page, 'bigbad.tar');
	msg = await refusal(page, 'bad_signature');
	const rec = await h.barRecord(page);
	const maxBar = Math.max(0, ...rec.values);
	assert(rec.shownAt !== null && rec.shownAt < 25, 'the 64 MiB refusal showed at ' + rec.shownAt + ' %');
	assert(maxBar < 25, 'the bar reached ' + maxBar + ' % on a refused bundle');
	await h.sleep(500);
	const later = await h.barRecord(page);
	assert(Math.max(0, ...later.values) === maxBar, 'the bar moved on after the refusal: ' + later.values.join(' '));
	clean(page, 'the 64 MiB refusal', [NET('400')]);
	await shot(page, 'refused-64mib');
	ok('refusal: 64 MiB with a bad signature shows bad_signature at ' + rec.shownAt + ' % (' + (Date.now() - t0) + ' ms), the bar never past ' + maxBar + ' %');
	await page.click('#refused-again');

	// ---- cancel an upload ----
	await view(page, 'choose');
	let cdp = await h.throttle(page, 2 << 20);
	await pick(page, 'v2.tar');
	await view(page, 'upload');
	await page.waitForFunction(() => document.getElementById('upload-bar').value >= 5);
	const stats = await visibleText(page, '#upload-stats');
	assert(/MiB of .*MiB · \d+ % · .*\/s · about .* left/.test(stats), 'upload statistics: ' + stats);
	await shot(page, 'upload-to-cancel');
	await page.click('#upload-cancel');
	await view(page, 'choose');
	assert(/cancelled/.test(await visibleText(page, '#choose-note')), 'no word of the cancel');
	clean(page, 'a cancelled upload');
	await page.waitForFunction(() => document.getElementById('dev-state').textContent === 'Ready');
	ok('upload: Cancel stops it (' + stats + '); the device is ready again');

	// ---- upload v2 by keyboard: the bar rises to 100 %, the report ----
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 10 << 20 });
	await h.recordBar(page, 'upload-bar');
	await pickByKeyboard(page, 'v2.tar');
	await view(page, 'upload');
	await page.waitForFunction(() => document.getElementById('upload-bar').value >= 40);
	await shot(page, 'upload');
	await view(page, 'report', 60000);
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
	await cdp.detach();
	const bar = (await h.barRecord(page)).values;
	assert(bar.length >= 5, 'the bar moved only ' + bar.length + ' times: ' + bar.join(' '));
	for (let i = 1; i < bar.length; i++)
		assert(bar[i] >= bar[i - 1], 'the bar went back from ' + bar[i - 1] + ' to ' + bar[i] + ': ' + bar.join(' '));
	assert(bar[bar.length - 1] === 100, 'the bar ended at ' + bar[bar.length - 1]);
	ok('upload: the bar rose monotonically to 100 % (' + bar.length + ' steps: ' + bar.slice(0, 6).join(' ') + ' ... 100)');

	const rep = await visibleText(page, '#v-report');
	for (const want of ['Version 2.0.0', 'upgrade from 1.0.0', 'acme,router-x1', process.env.WEB_V2_SHA,
		'payload.img', 'rootfs', 'writes slot b', 'sha256 ' + process.env.WEB_V2_IMG_SHA, 'signing.pub.pem',
		'Verified: signed by a trusted key and made for this device'])
		assert(rep.includes(want), 'the report lacks "' + want + '": ' + rep);
	const st = await (await page.request.get(h.URL + '/api/v1/status', { headers: { Authorization: 'Bearer ' + h.TOKEN } })).json();
	assert(st.state === 'staged' && st.bundle.sha256 === process.env.WEB_V2_SHA && String(st.bundle.size) === process.env.WEB_V2_SIZE,
		'the device staged something else: ' + JSON.stringify(st));
	assert(await page.locator('#opt-keep').isHidden(), 'keep settings is offered for an A/B install');
	clean(page, 'the v2 upload');
	await h.labelled(page, 'the report');
	const controls = await h.tabOrder(page, 'the report');
	assert(controls.includes('opt-reboot') && controls.includes('install') && controls.includes('discard'),
		'the report\'s controls: ' + controls.join(', '));
	await shot(page, 'report');
	ok('report: version, images, target slot b, sha256 of the bundle (' + process.env.WEB_V2_SHA.slice(0, 12) + '...) and the image match');

	// ---- install, by keyboard, with a reboot ----
	assert(await page.locator('#opt-reboot').isChecked(), 'reboot is not the default');
	await h.recordBar(page, 'inst-bar');
	await page.focus('#install');
	await page.keyboard.press('Enter');
	await view(page, 'install').catch(() => {});
	if (await page.locator('#v-install').isVisible()) {
		await shot(page, 'installing');
	}
	await view(page, 'reboot', 60000);
	const rb = await visibleText(page, '#v-reboot');
	assert(/Rebooting/.test(rb) && /[Ww]aiting for the device/.test(rb), 'the reboot view: ' + rb);
	const hist = await page.locator('#log').textContent();
	for (const s of ['(installing)', '(writing)', '(finalizing)', '(rebooting)'])
		assert(hist.includes(s), 'the activity lacks ' + s + ': ' + hist);
	assert(/Do not power off/.test(await page.locator('#poweroff').textContent()), 'no power-off warning');
	const ib = (await h.barRecord(page)).values;
	for (let i = 1; i < ib.length; i++)
		assert(ib[i] >= ib[i - 1], 'the install bar went back: ' + ib.join(' '));
	assert(ib.length && ib[ib.length - 1] === 100, 'the install bar did not reach 100 %: ' + ib.join(' '));
	clean(page, 'the install');
	await shot(page, 'rebooting');
	ok('install: progress through installing, writing, finalizing, then rebooting / waiting for the device');

	await h.pause('reboot');
	await view(page, 'back', 60000);
	const back = await visibleText(page, '#v-back');
	assert(/Update complete: version 2\.0\.0 is running/.test(back) && /2\.0\.0, success/.test(back), 'back after the reboot: ' + back);
	await page.waitForFunction(() => document.getElementById('dev-version').textContent === '2.0.0');
	const card2 = await visibleText(page, '#device');
	assert(/running from slot b/.test(card2) && /success 2\.0\.0/.test(card2), 'the device card after the reboot: ' + card2);
	clean(page, 'the reboot', [DOWN]);
	await shot(page, 'back');
	ok('reboot: the page waited for the device and shows 2.0.0 from slot b, last_install success');

	// ---- a failed install: v3 does not fit slot a ----
	await page.click('#back-again');
	await view(page, 'choose');
	await pick(page, 'v3.tar');
	await view(page, 'report', 60000);
	assert((await visibleText(page, '#v-report')).includes('writes slot a'), 'v3 does not go to slot a');
	await page.uncheck('#opt-reboot');
	await page.click('#install');
	await view(page, 'failed', 60000);
	const failed = await visibleText(page, '#v-failed');
	assert(/write_failed/.test(failed) && /payload\.img/.test(failed) && /Nothing was switched: the device still runs version 2\.0\.0/.test(failed),
		'the failure: ' + failed);
	for (const b of ['#failed-retry', '#failed-install', '#failed-reboot'])
		assert(await page.locator(b).isVisible(), 'the failure does not offer ' + b);
	clean(page, 'a failed install');
	await h.labelled(page, 'the failure');
	await h.tabOrder(page, 'the failure');
	await shot(page, 'failed');
	ok('failure: write_failed shown with its message; retry upload, install again and reboot offered');

	await page.click('#failed-retry');
	await view(page, 'choose');
	// back to the failure: the device is still "failed"; reboot from there
	await page.reload();
	await view(page, 'failed');
	await page.click('#failed-reboot');
	await view(page, 'reboot');
	await h.pause('reboot-failed');
	await view(page, 'back', 60000);
	const back2 = await visibleText(page, '#v-back');
	assert(/The install of 3\.0\.0 failed/.test(back2) && /write_failed/.test(back2) && /2\.0\.0/.test(back2),
		'back after the failure: ' + back2);
	clean(page, 'the reboot after the failure', [DOWN]);
	await shot(page, 'back-after-failure');
	ok('failure: Retry leads to the file chooser; Reboot waits for the device, which shows last_install 3.0.0 failed');
	await page.context().close();

	// ---- a client certificate: no token ----
	const cert = await h.open(browser, {
		clientCertificates: [{ origin: h.URL, certPath: process.env.WEB_CLIENT_CERT, keyPath: process.env.WEB_CLIENT_KEY }],
	});
	await cert.goto(h.URL + '/');
	await h.deviceShown(cert);
	assert(await cert.locator('#login').isHidden(), 'the login shows to a client certificate');
	assert(await cert.locator('#logout').isHidden(), 'a Log out button for a certificate');
	assert(await cert.evaluate(() => sessionStorage.getItem('sysupgraded.token')) === null, 'a token with a certificate');
	// v3 stayed staged through the failure and the reboot
	await view(cert, 'report');
	assert((await visibleText(cert, '#rep-version')) === '3.0.0', 'the staged bundle is not v3');
	clean(cert, 'the client certificate');
	await shot(cert, 'client-certificate');
	ok('a TLS client certificate gets the device card without a token');
});
