// SPDX-License-Identifier: GPL-2.0-or-later
// The web UI of sysupgraded: log in, upload a bundle with progress, read
// its verification report, install, follow the install live through
// /events (across the in-place handover and the reboot). No framework,
// no build step; everything it knows comes from the HTTP API v1
// (README "The HTTP API").
'use strict';

(function () {
	const API = '/api/v1';
	const TOKEN_KEY = 'sysupgraded.token';
	const INSTALLING = ['installing', 'handover', 'writing', 'finalizing'];
	const BUSY = ['receiving', 'verifying', 'rebooting'].concat(INSTALLING);
	const RETRY_MS = 1000;		// /events reconnect
	const POLL_MS = 2000;		// waiting for the device after a reboot
	const SILENCE_MS = 25000;	// no byte, not even a heartbeat: reconnect

	const STATE_TEXT = {
		idle: 'Ready',
		receiving: 'Receiving a bundle',
		verifying: 'Verifying a bundle',
		staged: 'A verified bundle is ready to install',
		installing: 'Preparing the install',
		handover: 'Handing over to the installer',
		writing: 'Writing the firmware',
		finalizing: 'Finalizing',
		rebooting: 'Rebooting',
		failed: 'The last install failed',
	};

	const REFUSAL_TEXT = {
		bad_signature: 'The bundle\u2019s signature does not verify',
		untrusted_key: 'The bundle is signed by a key this device does not trust',
		incompatible: 'This bundle is made for another device',
		downgrade: 'This bundle is older than the running firmware',
		bad_archive: 'This file is not a valid bundle',
		bad_manifest: 'The bundle\u2019s manifest is invalid',
		hash_mismatch: 'The bundle is damaged: an image does not match its checksum',
		size_mismatch: 'The bundle is damaged: an image has the wrong size',
		missing_payload: 'The bundle is incomplete: an image is missing',
		unexpected_member: 'The bundle holds a file its manifest does not list',
		unknown_target: 'The bundle writes to a target this device does not have',
		too_large: 'The bundle is larger than this device accepts',
		no_space: 'The device has no room left to stage the bundle',
		busy: 'The device is busy with another upload or install',
		reboot_pending: 'The device must reboot into its last install first',
		unauthorized: 'The device refused the access token',
		bad_request: 'The upload did not arrive whole',
		no_memory: 'The device has too little free memory for this install',
		network: 'The connection to the device was lost',
	};

	const $ = (id) => document.getElementById(id);

	const S = {
		token: null,
		info: null,		// GET /info
		status: null,		// the last /status document (or event)
		up: null,		// the upload running
		refusal: null,		// {error, message, file, forced, staged}
		local: null,		// view override: choose, done, reboot, back
		note: null,		// a line above the file chooser
		installing: null,	// report of the bundle being installed
		lostDuringInstall: false,
		maxPercent: 0,
		lastId: null,		// of the last event seen
		logged: null,		// the state the activity log shows last
		events: 0,		// events received, all told
		ev: null,		// {ctl, timer, silence}
		waitTimer: null,
		waitStart: 0,
		sawDown: false,
		view: null,
	};

	// ---- small helpers ----

	function el(tag, attrs, ...kids) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'class')
				e.className = v;
			else
				e.setAttribute(k, v === true ? '' : v);
		}
		for (const k of kids) {
			if (k !== null && k !== undefined)
				e.append(k);
		}
		return e;
	}

	function show(id, on) {
		$(id).hidden = !on;
	}

	function text(id, s) {
		$(id).textContent = s;
	}

	function bytes(n) {
		if (n === null || n === undefined || isNaN(n))
			return '\u2013';
		const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
		let i = 0;
		while (n >= 1024 && i < units.length - 1) {
			n /= 1024;
			i++;
		}
		return i ? n.toFixed(n < 10 ? 1 : 0) + ' ' + units[i] : n + ' bytes';
	}

	function duration(s) {
		if (!isFinite(s) || s < 0)
			return '';
		s = Math.ceil(s);
		if (s < 60)
			return s + ' s';
		return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
	}

	function when(t) {
		const d = new Date(t);
		if (isNaN(d))
			return t || '';
		return d.toISOString().replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
	}

	// Like strverscmp(3) for the usual dotted versions: runs of digits
	// compare as numbers, the rest as text.
	function cmpVersion(a, b) {
		const pa = String(a).match(/\d+|\D+/g) || [];
		const pb = String(b).match(/\d+|\D+/g) || [];
		for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
			const x = pa[i], y = pb[i];
			if (x === undefined)
				return -1;
			if (y === undefined)
				return 1;
			const nx = /^\d/.test(x), ny = /^\d/.test(y);
			if (nx && ny && Number(x) !== Number(y))
				return Number(x) < Number(y) ? -1 : 1;
			if (x !== y)
				return x < y ? -1 : 1;
		}
		return 0;
	}

	// The daemon's messages are clauses ("manifest signature does not
	// verify ..."): shown as sentences.
	function sentence(s) {
		s = String(s || '').trim();
		if (!s)
			return '';
		s = s.charAt(0).toUpperCase() + s.slice(1);
		return /[.!?)]$/.test(s) ? s : s + '.';
	}

	function loadToken() {
		try {
			return sessionStorage.getItem(TOKEN_KEY);
		} catch (e) {
			return null;
		}
	}

	function saveToken(t) {
		try {
			if (t)
				sessionStorage.setItem(TOKEN_KEY, t);
			else
				sessionStorage.removeItem(TOKEN_KEY);
		} catch (e) {
			// private mode without storage: the token lives in memory
		}
	}

	function authHeaders(h) {
		h = h || {};
		if (S.token)
			h.Authorization = 'Bearer ' + S.token;
		return h;
	}

	// One API call; throws only when the device cannot be reached.
	async function call(method, path, body, timeoutMs) {
		const init = { method, headers: authHeaders({}), cache: 'no-store' };
		if (body !== undefined) {
			init.headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		if (timeoutMs)
			init.signal = AbortSignal.timeout(timeoutMs);
		const r = await fetch(API + path, init);
		const t = await r.text();
		let json = null;
		try {
			json = t ? JSON.parse(t) : null;
		} catch (e) {
			json = null;
		}
		return { status: r.status, json, headers: r.headers };
	}

	function errorOf(r) {
		const j = r.json || {};
		return {
			error: j.error || 'http_' + r.status,
			message: j.message || 'The device answered HTTP ' + r.status + '.',
		};
	}

	function log(msg) {
		const now = new Date();
		const t = now.toTimeString().slice(0, 8);
		const list = $('log');
		list.append(el('li', null, el('time', { datetime: now.toISOString() }, t), ' ', msg));
		while (list.children.length > 200)
			list.firstElementChild.remove();
	}

	function setConn(kind, msg) {
		const c = $('conn');
		c.hidden = !kind;
		c.className = 'conn conn-' + (kind || 'none');
		c.textContent = msg || '';
	}

	function focusStep(id) {
		const h = $(id);
		if (!h)
			return;
		if (!h.hasAttribute('tabindex'))
			h.setAttribute('tabindex', '-1');
		h.focus({ preventScroll: false });
	}

	// ---- start and log in ----

	// GET /info first: it is public and says whether this browser
	// presented a client certificate the device trusts, so a login page
	// costs no refused request (which the throttle would count).
	async function start() {
		bind();
		S.token = loadToken();
		show('loading', true);
		let r;
		try {
			r = await call('GET', '/info');
			if (r.status === 200) {
				S.info = r.json;
				renderDevice();
				if (r.json.client_certificate)
					S.token = null;
				else if (!S.token)
					return showLogin(null);
			}
			if (r.status === 200 || r.status === 401)
				r = await call('GET', '/status');
		} catch (e) {
			unreachable('The device at ' + location.host + ' cannot be reached: ' + e.message);
			return;
		}
		show('loading', false);
		if (r.status === 200)
			return enter(r.json);
		if (r.status === 401 || r.status === 429) {
			S.token = null;
			saveToken(null);
			return showLogin(r.status === 429 ? errorOf(r).message : null);
		}
		unreachable('The device answered HTTP ' + r.status + ': ' + errorOf(r).message);
	}

	function unreachable(msg) {
		show('loading', false);
		show('login', false);
		show('app', false);
		text('unreachable-msg', msg);
		show('unreachable', true);
	}

	function showLogin(msg) {
		stopEvents();
		stopWait();
		show('loading', false);
		show('app', false);
		show('unreachable', false);
		show('logout', false);
		setConn(null);
		show('login', true);
		const e = $('login-error');
		e.hidden = !msg;
		e.textContent = msg || '';
		$('token').setAttribute('aria-invalid', msg ? 'true' : 'false');
		$('token').focus();
	}

	async function login(ev) {
		ev.preventDefault();
		const token = $('token').value.trim();
		const err = $('login-error');
		if (!token) {
			err.textContent = 'Enter the access token.';
			err.hidden = false;
			$('token').setAttribute('aria-invalid', 'true');
			return;
		}
		$('login-submit').disabled = true;
		S.token = token;
		let r;
		try {
			r = await call('GET', '/status');
		} catch (e) {
			r = null;
		}
		$('login-submit').disabled = false;
		if (r && r.status === 200) {
			saveToken(token);
			$('token').value = '';
			err.hidden = true;
			return enter(r.json);
		}
		S.token = null;
		let msg;
		if (!r)
			msg = 'The device cannot be reached. Check the connection and try again.';
		else if (r.status === 401)
			msg = 'The device refused this token (' + errorOf(r).error + '). Check it and try again.';
		else if (r.status === 429)
			msg = errorOf(r).message.replace(/^./, (c) => c.toUpperCase()) + '.';
		else
			msg = 'The device answered HTTP ' + r.status + ': ' + errorOf(r).message;
		err.textContent = msg;
		err.hidden = false;
		$('token').setAttribute('aria-invalid', 'true');
		$('token').select();
	}

	function logout() {
		S.token = null;
		saveToken(null);
		showLogin(null);
	}

	async function enter(status) {
		show('login', false);
		show('unreachable', false);
		show('loading', false);
		show('app', true);
		show('logout', !!S.token);
		S.status = status;
		if (status.bundle && INSTALLING.includes(status.state))
			S.installing = status.bundle;
		log('Connected: ' + (STATE_TEXT[status.state] || status.state));
		await refreshInfo();
		if (status.state === 'rebooting')
			beginWait();
		render();
		startEvents();
		focusStep('work-h');
	}

	async function refreshInfo() {
		try {
			const r = await call('GET', '/info', undefined, 5000);
			if (r.status === 200) {
				S.info = r.json;
				renderDevice();
			}
		} catch (e) {
			// the event stream says when the device is gone
		}
	}

	async function refreshStatus() {
		try {
			const r = await call('GET', '/status', undefined, 5000);
			if (r.status === 200)
				onStatus(r.json, true);
		} catch (e) {
			// as above
		}
	}

	// ---- the event stream ----

	function startEvents() {
		stopEvents();
		const ev = { ctl: new AbortController(), timer: null, silence: null };
		S.ev = ev;
		follow(ev).then(() => lost(ev, null), (e) => lost(ev, e));
	}

	function stopEvents() {
		const ev = S.ev;
		S.ev = null;
		if (!ev)
			return;
		clearTimeout(ev.timer);
		clearTimeout(ev.silence);
		ev.ctl.abort();
	}

	function lost(ev, e) {
		if (S.ev !== ev)
			return;		// stopped on purpose
		clearTimeout(ev.silence);
		if (ev.unauthorized) {
			S.ev = null;
			S.token = null;
			saveToken(null);
			showLogin('The device no longer accepts this token. Log in again.');
			return;
		}
		if (ev.connected) {
			const st = S.status && S.status.state;
			log(st === 'handover' ?
				'The device switched to its installer; reconnecting\u2026' :
				'Connection lost; reconnecting\u2026');
			if (INSTALLING.includes(st))
				S.lostDuringInstall = true;
		}
		setConn('lost', S.status && S.status.state === 'handover' ?
			'Reconnecting to the installer\u2026' : 'Reconnecting\u2026');
		ev.timer = setTimeout(() => {
			if (S.ev === ev)
				startEvents();
		}, RETRY_MS);
		void e;
	}

	function armSilence(ev) {
		clearTimeout(ev.silence);
		ev.silence = setTimeout(() => ev.ctl.abort(), SILENCE_MS);
	}

	async function follow(ev) {
		const h = authHeaders({ Accept: 'text/event-stream' });
		if (S.lastId !== null)
			h['Last-Event-ID'] = String(S.lastId);
		const r = await fetch(API + '/events', { headers: h, signal: ev.ctl.signal, cache: 'no-store' });
		if (r.status === 401) {
			ev.unauthorized = true;
			return;
		}
		if (!r.ok || !r.body)
			throw new Error('HTTP ' + r.status);
		const resumed = S.lastId !== null;
		ev.connected = true;
		setConn('live', 'Live');
		if (resumed)
			log('Reconnected; resuming after event ' + S.lastId);
		armSilence(ev);
		const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
		let buf = '', id = null, data = [];
		for (;;) {
			const { value, done } = await reader.read();
			if (done)
				return;
			armSilence(ev);
			buf += value;
			let nl;
			while ((nl = buf.indexOf('\n')) >= 0) {
				const line = buf.slice(0, nl).replace(/\r$/, '');
				buf = buf.slice(nl + 1);
				if (line === '') {
					if (data.length && S.ev === ev)
						event(id, data.join('\n'));
					id = null;
					data = [];
				} else if (line.startsWith(':')) {
					continue;	// heartbeat
				} else {
					const c = line.indexOf(':');
					const field = c < 0 ? line : line.slice(0, c);
					const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
					if (field === 'id')
						id = v;
					else if (field === 'data')
						data.push(v);
				}
			}
		}
	}

	function event(id, data) {
		let s;
		try {
			s = JSON.parse(data);
		} catch (e) {
			return;
		}
		if (id !== null && /^\d+$/.test(id))
			S.lastId = Number(id);
		S.events++;
		onStatus(s, false);
	}

	// ---- state changes ----

	function onStatus(s, polled) {
		const prev = S.status ? S.status.state : null;
		if (!('bundle' in s)) {
			// events carry no report: keep the one known, none when idle
			s.bundle = s.state === 'idle' || !S.status ? null : S.status.bundle;
			if (s.state === 'staged' && prev !== 'staged')
				refreshStatus();
		}
		S.status = s;
		if (S.logged !== s.state && !polled) {
			S.logged = s.state;
			let line = STATE_TEXT[s.state] || s.state;
			if (s.state === 'writing' && s.progress && s.progress.image)
				line += ': ' + s.progress.image;
			if (s.last_error && !BUSY.includes(s.state))
				line += ' \u2013 ' + s.last_error.error + ': ' + s.last_error.message;
			log(line + ' (' + s.state + ')');
		}

		// an upload of ours that the device refused mid-body: the event
		// comes before the HTTP answer, which the browser reads only
		// once it has sent the whole body
		const up = S.up;
		if (up && !up.done) {
			if (s.state === 'receiving' || s.state === 'verifying')
				up.seen = true;
			else if (up.seen && s.last_error)
				uploadRefused(up, s.last_error, true);
		}

		if (INSTALLING.includes(s.state)) {
			if (!S.installing)
				S.installing = s.bundle || null;
		} else if (INSTALLING.includes(prev) || (S.installing && !BUSY.includes(s.state))) {
			installEnded(s);
		}
		if (s.state === 'rebooting' && S.local !== 'reboot')
			beginWait();
		if (prev !== s.state && !BUSY.includes(s.state))
			refreshInfo();
		renderDeviceState();
		render();
	}

	function installEnded(s) {
		const inst = S.installing;
		S.installing = null;
		S.maxPercent = 0;
		if (inst)
			S.doneReport = inst;
		if (s.state === 'rebooting' || s.state === 'failed')
			return;
		if (S.lostDuringInstall) {
			// the device went away and answers again, idle: it rebooted
			S.lostDuringInstall = false;
			cameBack();
			return;
		}
		if (inst)
			S.local = 'done';
	}

	// ---- waiting for the device after a reboot ----

	function beginWait() {
		S.rebootFor = S.installing || S.doneReport || null;
		S.local = 'reboot';
		S.sawDown = false;
		S.waitStart = Date.now();
		S.installing = null;
		S.lostDuringInstall = false;
		stopEvents();
		setConn('lost', 'Waiting for the device\u2026');
		clearTimeout(S.waitTimer);
		S.waitTimer = setTimeout(poll, POLL_MS);
		render();
	}

	function stopWait() {
		clearTimeout(S.waitTimer);
		S.waitTimer = null;
	}

	async function poll() {
		let r = null;
		try {
			r = await call('GET', '/info', undefined, POLL_MS);
		} catch (e) {
			if (!S.sawDown)
				log('The device went down for its reboot');
			S.sawDown = true;
		}
		if (S.local !== 'reboot')
			return;
		const secs = Math.round((Date.now() - S.waitStart) / 1000);
		if (r && r.status === 200 && r.json.state !== 'rebooting' &&
		    !BUSY.includes(r.json.state)) {
			S.info = r.json;
			renderDevice();
			cameBack();
			return;
		}
		text('reboot-msg', (S.sawDown ?
			'The device is restarting. Waiting for it to come back\u2026 ' :
			'Waiting for the device to restart\u2026 ') + '(' + secs + ' s)');
		S.waitTimer = setTimeout(poll, POLL_MS);
	}

	async function cameBack() {
		stopWait();
		S.local = 'back';
		S.lastId = null;	// a new boot numbers its events anew
		log('The device is back: version ' + (S.info ? S.info.version : '?'));
		await refreshInfo();
		await refreshStatus();
		render();
		startEvents();
		focusStep('back-title');
	}

	// ---- upload ----

	function chooseFile(file) {
		if (!file)
			return;
		upload(file, false);
	}

	function upload(file, force) {
		const st = S.status ? S.status.state : 'idle';
		if (BUSY.includes(st)) {
			S.note = 'The device is busy (' + (STATE_TEXT[st] || st) + '); try again when it is done.';
			render();
			return;
		}
		S.refusal = null;
		S.note = null;
		S.local = null;
		const xhr = new XMLHttpRequest();
		const up = {
			file, force, xhr, done: false, seen: false,
			loaded: 0, total: file.size, percent: 0,
			t0: performance.now(), samples: [],
		};
		S.up = up;
		log('Uploading ' + file.name + ' (' + bytes(file.size) + ')' + (force ? ', forced' : ''));
		xhr.open('POST', API + '/bundle' + (force ? '?force=1' : ''));
		if (S.token)
			xhr.setRequestHeader('Authorization', 'Bearer ' + S.token);
		xhr.setRequestHeader('Content-Type', 'application/octet-stream');
		xhr.upload.addEventListener('progress', (e) => {
			if (S.up !== up || up.done)
				return;
			up.loaded = e.loaded;
			if (e.lengthComputable)
				up.total = e.total;
			const now = performance.now();
			up.samples.push([now, e.loaded]);
			while (up.samples.length > 2 && now - up.samples[0][0] > 3000)
				up.samples.shift();
			renderUpload();
		});
		xhr.addEventListener('load', () => uploadAnswered(up));
		xhr.addEventListener('error', () => uploadLost(up));
		xhr.send(file);
		render();
		focusStep('upload-h');
	}

	function uploadAnswered(up) {
		if (up.done)
			return;
		let j = null;
		try {
			j = JSON.parse(up.xhr.responseText);
		} catch (e) {
			j = null;
		}
		const r = { status: up.xhr.status, json: j };
		if (r.status === 200 || r.status === 202) {
			up.done = true;
			S.up = null;
			up.loaded = up.total;
			setUploadBar(up, 100);
			log('Verified: ' + j.version + ', sha256 ' + j.sha256);
			S.status = Object.assign({}, S.status, { state: 'staged', bundle: j, last_error: null });
			refreshInfo();
			render();
			focusStep('report-verdict');
			return;
		}
		if (r.status === 401) {
			up.done = true;
			S.up = null;
			showLogin('The device no longer accepts this token. Log in again.');
			return;
		}
		uploadRefused(up, errorOf(r), false);
	}

	async function uploadLost(up) {
		if (up.done)
			return;
		// The answer may have been lost with the connection: /status
		// keeps the reason of a refusal.
		let last = null;
		try {
			const r = await call('GET', '/status', undefined, 5000);
			if (r.status === 200 && !BUSY.includes(r.json.state))
				last = r.json.last_error;
		} catch (e) {
			last = null;
		}
		if (up.done)
			return;
		uploadRefused(up, last || { error: 'network', message: 'The connection broke during the upload; nothing was staged.' }, false);
	}

	function uploadRefused(up, e, early) {
		up.done = true;
		if (S.up === up)
			S.up = null;
		try {
			up.xhr.abort();	// the body is of no use to the device any more
		} catch (x) {
			// already over
		}
		S.refusal = {
			error: e.error, message: e.message, file: up.file, forced: up.force,
			early, at: up.loaded, total: up.total,
		};
		log('Refused: ' + e.error + ': ' + e.message + (early ?
			' (after ' + bytes(up.loaded) + ' of ' + bytes(up.total) + ')' : ''));
		render();
		focusStep('refused-box');
	}

	function cancelUpload() {
		const up = S.up;
		if (!up)
			return;
		up.done = true;
		S.up = null;
		up.xhr.abort();
		S.note = 'Upload of ' + up.file.name + ' cancelled; nothing was staged.';
		log('Upload cancelled');
		S.local = 'choose';
		render();
		$('file').focus();
	}

	function setUploadBar(up, pct) {
		// never backwards: a bar that jumps back looks like a fault
		up.percent = Math.max(up.percent, Math.min(100, pct));
		$('upload-bar').value = up.percent;
	}

	function renderUpload() {
		const up = S.up;
		if (!up)
			return;
		const total = up.total || 1;
		setUploadBar(up, Math.floor(up.loaded * 100 / total));
		const s = up.samples;
		let speed = 0;
		if (s.length >= 2 && s[s.length - 1][0] > s[0][0])
			speed = (s[s.length - 1][1] - s[0][1]) * 1000 / (s[s.length - 1][0] - s[0][0]);
		const parts = [bytes(up.loaded) + ' of ' + bytes(total), up.percent + ' %'];
		if (up.loaded >= total) {
			parts.push('sent; the device checks the last bytes\u2026');
		} else if (speed > 0) {
			parts.push(bytes(speed) + '/s');
			parts.push('about ' + duration((total - up.loaded) / speed) + ' left');
		}
		text('upload-stats', parts.join(' \u00b7 '));
	}

	// ---- install, discard, reboot ----

	function bundleInPlace(rep) {
		const t = (S.info && S.info.targets) || [];
		return !!(rep && rep.images.some((img) => {
			const tg = t.find((x) => x.name === img.target);
			return tg && tg.in_use;
		}));
	}

	async function install(rep) {
		rep = rep || (S.status && S.status.bundle);
		const inPlace = bundleInPlace(rep);
		const opts = {
			keep_config: inPlace ? $('opt-keep').checked : false,
			reboot: inPlace ? true : $('opt-reboot').checked,
		};
		const err = $('install-error');
		err.hidden = true;
		$('install').disabled = true;
		const seen = S.events;
		let r;
		try {
			r = await call('POST', '/install', opts);
		} catch (e) {
			r = null;
		}
		$('install').disabled = false;
		if (r && r.status === 202) {
			S.installing = rep;
			S.maxPercent = 0;
			S.local = null;
			log('Install of ' + (rep ? rep.version : 'the staged bundle') + ' started' +
				(opts.keep_config ? ', keeping settings' : '') + (opts.reboot ? ', then reboot' : ''));
			// show it at once, unless /events told more meanwhile (an
			// install can fail before its 202 arrives)
			if (S.events === seen && S.status && !BUSY.includes(S.status.state))
				S.status = Object.assign({}, S.status, { state: 'installing', last_error: null });
			render();
			focusStep('inst-state');
			return;
		}
		const e = r ? errorOf(r) : { error: 'network', message: 'The device cannot be reached.' };
		if (S.view === 'failed') {
			text('failed-msg', e.message);
			text('failed-code', e.error);
			return;
		}
		err.textContent = (REFUSAL_TEXT[e.error] || 'The install was refused') + ': ' + e.message + ' (' + e.error + ')';
		err.hidden = false;
		err.focus();
	}

	async function discard() {
		try {
			const r = await call('DELETE', '/bundle');
			if (r.status !== 204) {
				const e = errorOf(r);
				const err = $('install-error');
				err.textContent = 'The bundle could not be discarded: ' + e.message + ' (' + e.error + ')';
				err.hidden = false;
				return;
			}
		} catch (e) {
			return;
		}
		log('Bundle discarded');
		S.status = Object.assign({}, S.status, { state: 'idle', bundle: null });
		S.local = 'choose';
		refreshInfo();
		render();
		$('file').focus();
	}

	async function reboot() {
		let r;
		try {
			r = await call('POST', '/reboot');
		} catch (e) {
			r = null;
		}
		if (r && r.status === 202) {
			log('Reboot requested');
			beginWait();
			return;
		}
		const e = r ? errorOf(r) : { error: 'network', message: 'The device cannot be reached.' };
		S.note = 'The reboot was refused: ' + e.message + ' (' + e.error + ')';
		render();
	}

	function again() {
		S.refusal = null;
		S.local = 'choose';
		render();
		$('file').focus();
	}

	// ---- rendering ----

	function renderDevice() {
		const i = S.info;
		if (!i)
			return;
		text('dev-version', i.version);
		text('dev-compatible', i.compatible);
		text('top-device', i.compatible + ' \u00b7 version ' + i.version);
		const ul = $('dev-targets');
		ul.replaceChildren();
		for (const t of i.targets || []) {
			let how;
			if (t.ab)
				how = 'A/B' + (t.booted ? ', running from slot ' + t.booted : '');
			else if (t.in_use)
				how = 'in place: the running system';
			else
				how = 'single slot';
			ul.append(el('li', null, el('span', { class: 'tname' }, t.name), ' ',
				el('span', { class: 'ttype' }, t.type), ' ', el('span', { class: 'thow' }, how)));
		}
		text('dev-free', bytes(i.staging_free));
		const dm = $('dev-max');
		if (i.staging_free < i.max_bundle_size) {
			dm.replaceChildren(bytes(i.staging_free),
				el('span', { class: 'sub' }, 'the free staging space (the limit is ' + bytes(i.max_bundle_size) + ')'));
		} else {
			dm.replaceChildren(bytes(i.max_bundle_size));
		}
		const li = i.last_install;
		const d = $('dev-last');
		d.replaceChildren();
		if (!li) {
			d.append('None recorded');
		} else {
			d.append(el('span', { class: 'badge badge-' + (li.result === 'success' ? 'ok' : 'bad') },
				li.result), ' ', li.version, ' \u00b7 ', when(li.time));
			if (li.error)
				d.append(el('span', { class: 'sub' }, li.error));
		}
		renderDeviceState();
	}

	function renderDeviceState() {
		const s = S.status ? S.status.state : (S.info && S.info.state);
		if (s)
			text('dev-state', STATE_TEXT[s] || s);
	}

	function decideView() {
		const st = S.status ? S.status.state : 'idle';
		if (S.local === 'reboot' || S.local === 'back')
			return S.local;
		if (S.up)
			return 'upload';
		if (st === 'rebooting')
			return 'reboot';
		if (INSTALLING.includes(st))
			return 'install';
		if (st === 'receiving' || st === 'verifying')
			return 'busy';
		if (S.refusal)
			return 'refused';
		if (S.local === 'choose')
			return 'choose';
		if (st === 'failed')
			return 'failed';
		if (st === 'staged' && S.status.bundle)
			return 'report';
		if (S.local === 'done')
			return 'done';
		return 'choose';
	}

	const VIEWS = ['choose', 'upload', 'refused', 'report', 'install', 'done', 'reboot', 'back', 'failed', 'busy'];

	function render() {
		const v = decideView();
		S.view = v;
		for (const name of VIEWS)
			show('v-' + name, name === v);
		$('app').dataset.view = v;
		({
			choose: renderChoose, upload: renderUpload, refused: renderRefused,
			report: renderReport, install: renderInstall, done: renderDone,
			reboot: renderReboot, back: renderBack, failed: renderFailed, busy: renderBusy,
		})[v]();
	}

	function renderChoose() {
		const n = $('choose-note');
		n.hidden = !S.note;
		n.textContent = S.note || '';
	}

	function renderRefused() {
		const r = S.refusal;
		text('refused-title', REFUSAL_TEXT[r.error] || 'The bundle was refused');
		let msg = sentence(r.message);
		if (r.early && r.at * 100 < r.total)
			msg += ' The device refused it as its first bytes arrived, without waiting for the other ' + bytes(r.total) + '.';
		else if (r.early)
			msg += ' The device refused it after ' + bytes(r.at) + ' of ' + bytes(r.total) + ', without waiting for the rest.';
		const staged = S.status && S.status.bundle;
		if (staged)
			msg += ' The bundle staged before (version ' + staged.version + ') is kept.';
		text('refused-msg', msg);
		text('refused-code', r.error);
		const forcible = (r.error === 'downgrade' || r.error === 'incompatible') && !r.forced;
		show('force-box', forcible);
		show('force-upload', forcible);
		if (forcible) {
			const dev = S.info ? S.info.compatible : 'this device';
			text('force-label', r.error === 'downgrade' ?
				'Install it anyway: I want this older version' :
				'Install it anyway: I know it is not made for ' + dev);
			text('force-hint', r.error === 'downgrade' ?
				'Going back to an older version can lose settings made with the newer one.' :
				'Firmware for another device can leave this one unable to boot.');
			$('force-upload').disabled = !$('force').checked;
		}
	}

	function targetText(img) {
		const t = S.info && (S.info.targets || []).find((x) => x.name === img.target);
		if (!t)
			return img.target;
		if (t.ab) {
			const other = t.booted === 'a' ? 'b' : t.booted === 'b' ? 'a' : null;
			return img.target + ' \u2013 A/B, ' + (other ? 'writes slot ' + other + ' (not running)' : 'the inactive slot');
		}
		if (t.in_use)
			return img.target + ' \u2013 in place: the running system is overwritten from RAM';
		return img.target;
	}

	function shortTarget(img) {
		const t = S.info && (S.info.targets || []).find((x) => x.name === img.target);
		if (t && t.ab && t.booted)
			return img.target + ', slot ' + (t.booted === 'a' ? 'b' : 'a');
		if (t && t.in_use)
			return img.target + ', in place';
		return img.target;
	}

	function imageItem(img) {
		const size = img.compression && img.compression !== 'none' ?
			bytes(img.size) + ', ' + img.compression + ' (' + bytes(img.installed_size) + ' written)' :
			bytes(img.size);
		return el('li', { class: 'image' },
			el('p', { class: 'image-head' }, el('span', { class: 'mono' }, img.file),
				' ', el('span', { class: 'ttype' }, img.type)),
			el('p', { class: 'image-target' }, '\u2192 ' + targetText(img)),
			el('p', { class: 'image-meta' }, size),
			el('p', { class: 'mono hash' }, 'sha256 ' + img.sha256));
	}

	function renderReport() {
		const rep = S.status.bundle;
		const i = S.info || {};
		text('rep-version', rep.version);
		const flag = $('rep-flag');
		flag.replaceChildren();
		const warn = [];
		if (i.version) {
			const c = cmpVersion(rep.version, i.version);
			if (c > 0) {
				flag.append(el('span', { class: 'badge badge-ok' }, 'upgrade from ' + i.version));
			} else if (c === 0) {
				flag.append(el('span', { class: 'badge' }, 'same as running'));
			} else {
				flag.append(el('span', { class: 'badge badge-warn' }, 'downgrade from ' + i.version));
				warn.push('a downgrade from ' + i.version);
			}
		}
		const compat = rep.compatible || [];
		const fits = !i.compatible || compat.includes(i.compatible);
		if (!fits) {
			flag.append(' ', el('span', { class: 'badge badge-bad' }, 'incompatible'));
			warn.push('not made for ' + i.compatible);
		}
		show('rep-desc-row', !!rep.description);
		text('rep-desc', rep.description || '');
		text('rep-compatible', compat.join(', '));
		text('rep-sha', rep.sha256);
		text('rep-size', bytes(rep.size));
		text('rep-key', rep.key || '\u2013');
		const verdict = $('report-verdict');
		verdict.className = 'verdict ' + (warn.length ? 'verdict-warn' : 'verdict-ok');
		text('report-title', warn.length ?
			'Signed by a trusted key, but ' + warn.join(' and ') + ' (forced)' :
			'Verified: signed by a trusted key and made for this device');
		const n = rep.images.length;
		text('report-summary', 'Version ' + rep.version + ', ' + n + (n === 1 ? ' image' : ' images') +
			', ' + bytes(rep.size) + '. ' + (warn.length ?
				'Forced: ' + warn.join(' and ') + '.' : 'Ready to install.'));
		$('rep-images').replaceChildren(...rep.images.map(imageItem));
		const inPlace = bundleInPlace(rep);
		$('opt-keep').closest('.check').hidden = !inPlace;
		$('opt-reboot').closest('.check').hidden = inPlace;
		show('inplace-note', inPlace);
		text('opt-reboot-hint', 'Without a reboot the new version starts at the next boot.');
		$('install').textContent = inPlace ? 'Install and reboot' : 'Install';
	}

	function renderInstall() {
		const s = S.status;
		const p = s.progress || {};
		const rep = S.installing || s.bundle;
		const st = s.state;
		show('poweroff', INSTALLING.includes(st));
		let title = STATE_TEXT[st] || st, detail = '';
		if (st === 'installing') {
			detail = 'Checking the bundle and the targets.';
		} else if (st === 'handover') {
			detail = 'The device stops its services and starts its installer in memory. This page loses the connection for a moment and reconnects by itself.';
		} else if (st === 'writing') {
			title = p.image ? 'Writing ' + p.image : title;
			detail = 'Images are written and then checked.';
		} else if (st === 'finalizing') {
			detail = 'Updating the boot environment.';
		}
		text('inst-state', title);
		text('inst-detail', detail);
		let pct = p.total ? Math.floor(p.bytes * 100 / p.total) : 0;
		if (st === 'finalizing')
			pct = 100;
		if (st === 'writing' || st === 'finalizing')
			S.maxPercent = Math.max(S.maxPercent, pct);
		const overall = st === 'writing' || st === 'finalizing' ? S.maxPercent : 0;
		$('inst-bar').value = overall;
		text('inst-stats', p.total ? bytes(Math.min(p.bytes, p.total)) + ' of ' + bytes(p.total) +
			' \u00b7 ' + overall + ' %' : overall + ' %');
		const list = $('inst-images');
		list.replaceChildren();
		if (!rep)
			return;
		let off = 0;
		const done = p.total ? Math.min(p.bytes, p.total) : 0;
		rep.images.forEach((img, n) => {
			const size = img.installed_size || img.size || 1;
			let ip = Math.floor(Math.max(0, Math.min(size, done - off)) * 100 / size);
			if (st === 'finalizing' || (overall === 100))
				ip = 100;
			if (st !== 'writing' && st !== 'finalizing')
				ip = 0;
			off += size;
			const id = 'inst-img-' + n;
			list.append(el('li', { class: 'image' },
				el('label', { for: id, class: 'bar-label' },
					el('span', { class: 'mono' }, img.file), ' \u2192 ' + shortTarget(img)),
				el('progress', { id, max: '100', value: String(ip) }),
				el('span', { class: 'pct' }, ip + ' %')));
		});
	}

	function renderDone() {
		const rep = S.doneReport;
		const i = S.info || {};
		text('done-title', rep ? 'Version ' + rep.version + ' is installed' : 'Installed');
		const ab = rep && rep.images.map((img) => (i.targets || []).find((t) => t.name === img.target))
			.filter((t) => t && t.ab);
		let msg = 'It starts when the device reboots. Until then the device keeps running ' + (i.version || 'its current version') + '.';
		if (ab && ab.length && ab[0].booted)
			msg = 'It was written to slot ' + (ab[0].booted === 'a' ? 'b' : 'a') + ' and starts when the device reboots. Until then the device keeps running ' + i.version + ' from slot ' + ab[0].booted + '.';
		text('done-msg', msg);
	}

	function renderReboot() {
		const rep = S.rebootFor;
		text('reboot-title', rep ? 'Rebooting into version ' + rep.version : 'Rebooting');
		if (!S.sawDown && Date.now() - S.waitStart < POLL_MS)
			text('reboot-msg', 'The device is restarting. Waiting for the device to come back\u2026');
	}

	function renderBack() {
		const i = S.info || {};
		const li = i.last_install;
		const box = $('back-box');
		let title = 'The device is back', msg = 'It runs version ' + i.version + '.';
		let kind = 'msg-ok';
		if (li && li.result === 'success') {
			title = 'Update complete: version ' + i.version + ' is running';
			msg = 'Last install: ' + li.version + ', success, ' + when(li.time) + '.';
			if (li.version !== i.version) {
				kind = 'msg-warn';
				title = 'The device is back, running version ' + i.version;
				msg = 'It installed ' + li.version + ' (' + when(li.time) + ') but did not boot it.';
			}
		} else if (li) {
			kind = 'msg-error';
			title = 'The install of ' + li.version + ' failed';
			msg = li.error + '. The device runs version ' + i.version + '.';
		}
		box.className = 'msg ' + kind;
		text('back-title', title);
		text('back-msg', msg);
	}

	function renderFailed() {
		const e = S.status.last_error || { error: 'unknown', message: 'The device gave no reason.' };
		text('failed-msg', sentence(e.message));
		text('failed-code', e.error);
		const staged = S.status.bundle;
		const i = S.info || {};
		show('failed-install', !!staged);
		let note;
		if (bundleInPlace(staged || S.doneReport)) {
			// stage 2 failed: the running root may be half written
			note = 'The device\u2019s own system may be half written: it stays in its installer and does not reboot by itself. ' +
				(staged ? 'Install the staged bundle (version ' + staged.version + ') again or upload another;' : 'Upload a bundle to try again;') +
				' reboot only if you must.';
		} else {
			note = 'Nothing was switched: the device still runs version ' + (i.version || '?') + ' and boots it next. ' +
				(staged ? 'The bundle (version ' + staged.version + ') is still staged: install it again, upload another, or reboot.' :
					'Upload a bundle to try again, or reboot.');
		}
		text('failed-note', note);
	}

	function renderBusy() {
		const s = S.status;
		const p = s.progress || {};
		text('busy-msg', (STATE_TEXT[s.state] || s.state) + ' from another client' +
			(p.total ? ': ' + bytes(p.bytes) + ' of ' + bytes(p.total) : '') + '.');
		$('busy-bar').value = p.percent || 0;
	}

	// ---- wiring ----

	function bind() {
		$('login-form').addEventListener('submit', login);
		$('logout').addEventListener('click', logout);
		$('unreachable-retry').addEventListener('click', () => location.reload());
		$('file').addEventListener('change', (e) => {
			const f = e.target.files[0];
			e.target.value = '';
			chooseFile(f);
		});
		const drop = $('drop');
		drop.addEventListener('dragenter', (e) => {
			e.preventDefault();
			drop.classList.add('drag');
		});
		drop.addEventListener('dragover', (e) => {
			e.preventDefault();
			e.dataTransfer.dropEffect = 'copy';
			drop.classList.add('drag');
		});
		drop.addEventListener('dragleave', () => drop.classList.remove('drag'));
		drop.addEventListener('drop', (e) => {
			e.preventDefault();
			drop.classList.remove('drag');
			const f = e.dataTransfer && e.dataTransfer.files[0];
			chooseFile(f);
		});
		// a file dropped beside the zone must not replace the page
		window.addEventListener('dragover', (e) => e.preventDefault());
		window.addEventListener('drop', (e) => e.preventDefault());
		$('upload-cancel').addEventListener('click', cancelUpload);
		$('force').addEventListener('change', () => {
			$('force-upload').disabled = !$('force').checked;
		});
		$('force-upload').addEventListener('click', () => {
			const r = S.refusal;
			$('force').checked = false;
			if (r && r.file)
				upload(r.file, true);
		});
		$('refused-again').addEventListener('click', again);
		$('install').addEventListener('click', () => install());
		$('discard').addEventListener('click', discard);
		$('done-reboot').addEventListener('click', reboot);
		$('done-again').addEventListener('click', again);
		$('back-again').addEventListener('click', () => {
			S.local = null;
			S.refusal = null;
			again();
		});
		$('failed-retry').addEventListener('click', again);
		$('failed-install').addEventListener('click', () => install(S.status.bundle));
		$('failed-reboot').addEventListener('click', reboot);
	}

	document.addEventListener('DOMContentLoaded', start);
}());
