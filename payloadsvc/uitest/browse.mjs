// browse.mjs is the browser half of the uitest package: it opens one page in headless
// Chromium, waits until the page's text holds every string of `want` (or any string of
// `stopOn`, or the deadline passes), saves a full-page screenshot and prints one JSON
// report on stdout. The Go test decides what the report means.
//
//   NODE_PATH=<playwright dir>/node_modules node browse.mjs '<config JSON>'
//
// config: {url, want: [string], stopOn: [string], screenshot, timeoutMs, executablePath}
// report: {found, stoppedOn, text, screenshot, consoleErrors, elapsedMs, error}
//
// It never waits for "networkidle": the Temporal UI polls, so the network is never idle.
import { createRequire } from 'node:module';

// require, unlike import, resolves through NODE_PATH: playwright-core lives in the tool
// cache, not next to this script.
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const started = Date.now();
const report = {
  found: false, stoppedOn: '', text: '', screenshot: '', consoleErrors: [], elapsedMs: 0, error: '',
};

function finish(code) {
  report.elapsedMs = Date.now() - started;
  process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(code));
}

// If Chromium hangs past every deadline below, still answer (and exit, which closes
// the pipe Chromium is driven through, so it exits too).
const hardStop = setTimeout(() => {
  report.error = `browse.mjs: no result ${cfg.timeoutMs + 20000} ms after start`;
  finish(3);
}, cfg.timeoutMs + 20000);

let browser;
try {
  browser = await chromium.launch({
    executablePath: cfg.executablePath,
    headless: true,
    timeout: 30000,
    // Root in a container: no sandbox. Loopback only: nothing that phones home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => report.consoleErrors.push(String(e)));

  await page.goto(cfg.url, { waitUntil: 'domcontentloaded', timeout: cfg.timeoutMs });
  const left = Math.max(1000, cfg.timeoutMs - (Date.now() - started));
  try {
    const outcome = await page.waitForFunction(({ want, stopOn }) => {
      const text = document.body ? document.body.innerText : '';
      const stop = stopOn.find((s) => text.includes(s));
      if (stop !== undefined) return { found: false, stoppedOn: stop };
      return want.every((w) => text.includes(w)) ? { found: true, stoppedOn: '' } : null;
    }, { want: cfg.want || [], stopOn: cfg.stopOn || [] }, { timeout: left, polling: 250 });
    Object.assign(report, await outcome.jsonValue());
  } catch (e) {
    if (e.name !== 'TimeoutError') throw e; // a timeout is a report (found: false), not an error
  }
  report.text = await page.evaluate(() => document.body.innerText);
  if (cfg.screenshot) {
    await page.screenshot({ path: cfg.screenshot, fullPage: true, timeout: 30000 });
    report.screenshot = cfg.screenshot;
  }
} catch (e) {
  report.error = String((e && e.stack) || e);
} finally {
  if (browser) await browser.close().catch(() => {});
  clearTimeout(hardStop);
  finish(report.error ? 1 : 0);
}
