// browse.mjs drives headless Chromium for the uitest package: it opens one page,
// waits until the page's text contains one of the wanted strings (or the deadline
// passes), takes a full-page screenshot and prints one JSON object on stdout.
//
// Usage: node browse.mjs '<json config>'   with NODE_PATH=<dir>/node_modules
//
// config: {url, want: [string], screenshot, timeoutMs, executablePath}
// result: {found, text, screenshot, codecRequests, consoleErrors, elapsedMs, error}
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url); // honours NODE_PATH, unlike import
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const started = Date.now();
const result = { found: null, text: '', screenshot: '', codecRequests: [], consoleErrors: [], elapsedMs: 0, error: '' };

// A hard stop in case Chromium hangs: the Go test must always get an answer.
const hard = setTimeout(() => {
  result.error = `browse.mjs: hard timeout after ${cfg.timeoutMs + 15000} ms`;
  finish(3);
}, cfg.timeoutMs + 15000);

function finish(code) {
  result.elapsedMs = Date.now() - started;
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: cfg.executablePath,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/codec/')) {
      result.codecRequests.push({ method: r.method(), url: r.url(), origin: r.headers()['origin'] || '' });
    }
  });
  await page.goto(cfg.url, { waitUntil: 'domcontentloaded', timeout: cfg.timeoutMs });
  try {
    const handle = await page.waitForFunction((want) => {
      const text = document.body ? document.body.innerText : '';
      return want.find((w) => text.includes(w)) || null;
    }, cfg.want, { timeout: Math.max(1000, cfg.timeoutMs - (Date.now() - started)), polling: 200 });
    result.found = await handle.jsonValue();
  } catch (e) {
    if (!/Timeout/.test(String(e))) throw e;
  }
  result.text = await page.evaluate(() => document.body.innerText);
  if (cfg.screenshot) {
    await page.screenshot({ path: cfg.screenshot, fullPage: true });
    result.screenshot = cfg.screenshot;
  }
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  if (browser) await browser.close().catch(() => {});
  clearTimeout(hard);
  finish(result.error ? 1 : 0);
}
