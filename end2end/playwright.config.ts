import { defineConfig } from '@playwright/test';
import { execSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

// One port and one fresh SQLite file per run, chosen once in the main
// process; workers inherit them through the environment.
if (!process.env.E2E_PORT) {
  process.env.E2E_PORT = execSync(
    `python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"`,
  ).toString().trim();
}
if (!process.env.E2E_DATABASE_URL) {
  process.env.E2E_DATABASE_URL = `sqlite://${path.join(os.tmpdir(), `corral-e2e-${process.env.E2E_PORT}-${Date.now()}.db`)}`;
}
const port = process.env.E2E_PORT;
const root = path.resolve(__dirname, '..');
const binary = process.env.CORRAL_BIN ?? path.join(root, 'target', 'server-release', 'corral');

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: binary,
    cwd: root,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      DATABASE_URL: process.env.E2E_DATABASE_URL!,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
      CORRAL_DATA_DIR: path.join(os.tmpdir(), `corral-e2e-data-${port}`),
      // The enrichment test's stand-in service listens on 127.0.0.1.
      CORRAL_ENRICHMENT_PRIVATE_NETWORKS: '1',
      RUST_LOG: 'warn',
    },
  },
});
