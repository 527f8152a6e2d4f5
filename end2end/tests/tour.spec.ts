import AxeBuilder from '@axe-core/playwright';
import { expect, Page, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hydrated, signUp } from './helpers';

/**
 * The whole product as a new user meets it: sign up, load the sample data,
 * then every page at 1,400 and 390 pixels — checked by axe-core (no
 * serious or critical violation), free of sideways scrolling on a phone,
 * and photographed into end2end/screenshots/ for a reviewer. Then the
 * command palette, the shortcuts, the sidebar and the board's keyboard
 * moves, and removing the sample data.
 */

const SHOTS = path.resolve(__dirname, '..', 'screenshots');

async function api(page: Page, url: string): Promise<any> {
  const response = await page.request.get(`/api/v1${url}`);
  expect(response.status(), url).toBe(200);
  return response.json();
}

/** axe-core on the page as it stands: WCAG 2.1 A and AA rules. */
async function expectAccessible(page: Page, name: string) {
  // Email previews are sandboxed frames of the message's own HTML (no
  // scripts may run in them): checked as the app's page, not as emails.
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .options({ iframes: false })
    .exclude('iframe.email-frame')
    .analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = serious.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`);
  // Soft: one run reports every page's violations, not just the first.
  expect.soft(report, `${name}: axe violations`).toEqual([]);
}

async function visit(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
  // Pages stream their data in; wait until no "Loading…" is left.
  await expect(page.getByText('Loading…', { exact: true })).toHaveCount(0);
}

test('every page, loaded with sample data, passes axe at 1,400 and 390 pixels and is photographed', async ({ page }) => {
  test.setTimeout(600_000);
  fs.mkdirSync(path.join(SHOTS, '1400'), { recursive: true });
  fs.mkdirSync(path.join(SHOTS, '390'), { recursive: true });
  await page.setViewportSize({ width: 1400, height: 900 });

  // Signed out: the front page, log-in and sign-up, on a phone too.
  for (const [name, url] of [['home', '/'], ['login', '/login'], ['signup', '/signup']]) {
    await visit(page, url);
    await expectAccessible(page, name);
    await page.screenshot({ path: path.join(SHOTS, '1400', `${name}.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect.soft(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(1);
    await expectAccessible(page, `${name} at 390 px`);
    await page.screenshot({ path: path.join(SHOTS, '390', `${name}.png`), fullPage: true });
    await page.setViewportSize({ width: 1400, height: 900 });
  }

  // A new owner lands on the dashboard, which offers the sample data.
  await signUp(page, 'Tess Tour');
  await hydrated(page);
  const onboarding = page.getByTestId('onboarding');
  await expect(onboarding).toContainText('0 of 3 first steps done');
  await expect(onboarding.getByRole('link', { name: 'Import your leads' })).toBeVisible();
  await expectAccessible(page, 'empty dashboard');
  await page.screenshot({ path: path.join(SHOTS, '1400', 'dashboard-empty.png'), fullPage: true });
  await onboarding.getByRole('button', { name: 'Load sample data' }).click();
  await expect(onboarding.getByRole('button', { name: 'Remove sample data' })).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('figure.chart svg').first()).toBeVisible();
  // The sidebar's approvals count shows the sample sequence waiting.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('pending-approvals')).toContainText('1');

  // Record pages: one of each kind, found through the API.
  const lead = (await api(page, '/leads?limit=1')).data[0].id;
  const contact = (await api(page, '/contacts?limit=1')).data[0].id;
  const company = (await api(page, '/companies?q=Northwind')).data[0].id;
  const deal = (await api(page, '/deals?limit=1')).data[0].id;
  const invoice = (await api(page, '/invoices?limit=1')).data[0].id;
  const segment = (await api(page, '/lists?limit=1')).data[0].id;
  const sequence = (await api(page, '/marketing/sequences?limit=1')).data[0].id;
  const campaign = (await api(page, '/marketing/campaigns?limit=1')).data[0].id;
  const accounts = await api(page, '/ledger-accounts');
  const cash = (accounts.data ?? accounts).find((a: any) => a.code === '1000').id;

  const pages: [string, string][] = [
    ['dashboard', '/dashboard'],
    ['leads', '/leads'],
    ['lead', `/leads/${lead}`],
    ['contacts', '/contacts'],
    ['contact', `/contacts/${contact}`],
    ['companies', '/companies'],
    ['company', `/companies/${company}`],
    ['company-new', '/companies/new'],
    ['pipeline', '/pipeline'],
    ['deal', `/deals/${deal}`],
    ['tasks', '/tasks'],
    ['search', '/search?q=north'],
    ['audience', '/audience'],
    ['segment', `/lists/${segment}`],
    ['segment-new', '/segments/new'],
    ['imports', '/imports'],
    ['forms', '/forms'],
    ['enrichment', '/enrichment'],
    ['sequences', '/marketing'],
    ['sequence', `/marketing/sequences/${sequence}`],
    ['campaigns', '/marketing/campaigns'],
    ['campaign', `/marketing/campaigns/${campaign}`],
    ['rollups', '/marketing/rollups'],
    ['approvals', '/approvals'],
    ['approval-review', `/approvals/${sequence}`],
    ['ads', '/ads'],
    ['blog', '/blog'],
    ['mailbox', '/mailbox'],
    ['flows', '/flows'],
    ['flow-templates', '/flows/templates'],
    ['flow-runs', '/flows/runs'],
    ['invoices', '/invoices'],
    ['invoice', `/invoices/${invoice}`],
    ['ledger', '/ledger'],
    ['ledger-account', `/ledger/accounts/${cash}`],
    ['receivables', '/receivables'],
    ['settings-workspace', '/settings/workspace'],
    ['settings-members', '/settings/members'],
    ['settings-api-keys', '/settings/api-keys'],
    ['settings-stages', '/settings/stages'],
    ['settings-custom-fields', '/settings/custom-fields'],
  ];

  const started = Date.now();
  for (const [name, url] of pages) {
    console.log(`1400 ${name} at ${Date.now() - started} ms`);
    await visit(page, url);
    await expect(page.getByRole('alert').filter({ hasText: /not found|internal/i })).toHaveCount(0);
    await expectAccessible(page, name);
    await page.screenshot({ path: path.join(SHOTS, '1400', `${name}.png`), fullPage: true });
  }

  // The same pages on a phone: no sideways scrolling, still accessible.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, url] of pages) {
    console.log(`390 ${name} at ${Date.now() - started} ms`);
    await visit(page, url);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect.soft(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(1);
    await expectAccessible(page, `${name} at 390 px`);
    await page.screenshot({ path: path.join(SHOTS, '390', `${name}.png`), fullPage: true });
  }

  // On a phone the navigation is behind the menu button.
  await visit(page, '/dashboard');
  const sidebar = page.locator('#sidebar');
  await expect(sidebar).toBeHidden();
  await page.getByRole('button', { name: 'Menu' }).click();
  await expect(sidebar).toBeVisible();
  await sidebar.getByRole('link', { name: 'Invoices' }).click();
  await expect(page).toHaveURL(/\/invoices$/);
  await expect(sidebar).toBeHidden();
});

test('the command palette, the shortcuts, the sidebar and the keyboard on the board', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await signUp(page, 'Kim Keys');
  expect((await page.request.post('/api/v1/workspace/sample-data')).status()).toBe(201);
  await visit(page, '/dashboard');

  // The current page is marked in the sidebar.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Dashboard' })).toHaveAttribute('aria-current', 'page');

  // Ctrl-K: a record by name, then a page by name.
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Command palette' });
  await expect(palette).toBeVisible();
  await expect(palette.getByRole('combobox')).toBeFocused();
  await page.keyboard.type('Northwind');
  await expect(palette.getByRole('option', { name: /Northwind Traders/ })).toBeVisible();
  await palette.getByRole('option', { name: /Northwind Traders.*company/ }).click();
  await expect(page).toHaveURL(/\/companies\/[0-9a-f-]{36}$/);
  await expect(palette).toBeHidden();
  await hydrated(page);
  await page.keyboard.press('Control+k');
  await expect(palette.getByRole('combobox')).toBeFocused();
  await page.keyboard.type('pipel');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/pipeline$/);
  await expect(nav.getByRole('link', { name: 'Pipeline' })).toHaveAttribute('aria-current', 'page');

  // "?" lists the shortcuts; Escape closes the list; "g d" goes to the dashboard.
  await page.locator('body').press('?');
  const shortcuts = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(shortcuts).toBeVisible();
  await expect(shortcuts).toContainText('Search records and jump to pages');
  await page.keyboard.press('Escape');
  await expect(shortcuts).toBeHidden();

  // A card moves with the arrow keys and keeps the focus.
  const newColumn = page.locator('section.column[data-stage="new"]');
  const qualified = page.locator('section.column[data-stage="qualified"]');
  await expect(newColumn.getByTestId('stage-count')).toHaveText('2');
  await expect(qualified.getByTestId('stage-count')).toHaveText('3');
  const card = newColumn.locator('.deal-card').first();
  const dealName = await card.getAttribute('data-deal');
  await card.focus();
  await page.keyboard.press('ArrowRight');
  await expect(qualified.getByTestId('stage-count')).toHaveText('4');
  await expect(newColumn.getByTestId('stage-count')).toHaveText('1');
  const moved = qualified.locator(`.deal-card[data-deal="${dealName}"]`);
  await expect(moved).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(newColumn.getByTestId('stage-count')).toHaveText('2');
  await expect(newColumn.locator(`.deal-card[data-deal="${dealName}"]`)).toBeFocused();

  // The board fills the width: every stage is on screen at 1,400 px.
  for (const stage of ['new', 'qualified', 'proposal', 'negotiation', 'won', 'lost']) {
    await expect(page.locator(`section.column[data-stage="${stage}"] header`)).toBeInViewport();
  }

  await page.keyboard.press('g');
  await page.keyboard.press('d');
  await expect(page).toHaveURL(/\/dashboard$/);

  // The sidebar collapses and comes back.
  await hydrated(page);
  await page.getByRole('button', { name: 'Hide menu' }).click();
  await expect(nav).toBeHidden();
  await page.getByRole('button', { name: 'Show menu' }).click();
  await expect(nav).toBeVisible();

  // Sample data goes in one step; the offer comes back.
  const onboarding = page.getByTestId('onboarding');
  await onboarding.getByRole('button', { name: 'Remove sample data' }).click();
  await expect(onboarding.getByRole('button', { name: 'Load sample data' })).toBeVisible({ timeout: 30_000 });
  expect((await api(page, '/leads')).data.length).toBe(0);
});

test('a column beyond its first hundred cards shows more on request', async ({ page }) => {
  await signUp(page, 'Mo Many');
  for (let i = 0; i < 130; i++) {
    const response = await page.request.post('/api/v1/deals', { data: { name: `Deal ${i}`, stage_key: 'new', amount_cents: 100_000 } });
    expect(response.status()).toBe(201);
  }
  await visit(page, '/pipeline');
  const column = page.locator('section.column[data-stage="new"]');
  await expect(column.getByTestId('stage-count')).toHaveText('130');
  await expect(column.getByTestId('stage-total')).toHaveText('130,000.00 USD');
  await expect(column.locator('.deal-card')).toHaveCount(100);
  await column.getByRole('button', { name: /Show more \(100 of 130 shown\)/ }).click();
  await expect(column.locator('.deal-card')).toHaveCount(130);
  await expect(column.getByRole('button', { name: /Show more/ })).toHaveCount(0);
  // The header stays in view while the column scrolls.
  await column.locator('.deal-card').last().scrollIntoViewIfNeeded();
  await expect(column.locator('header')).toBeInViewport();
});
