import { expect, test } from '@playwright/test';
import { hydrated, signUp } from './helpers';

test('a new user signs up, creates a company and sees it listed', async ({ page }) => {
  await signUp(page, 'Erin Example');
  // A new workspace starts on the dashboard; its companies list is empty.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Companies', exact: true }).click();
  await expect(page).toHaveURL(/\/companies$/);
  await expect(page.getByText('No companies match.')).toBeVisible();

  await page.getByRole('link', { name: 'New company' }).click();
  await expect(page).toHaveURL(/\/companies\/new$/);
  await page.getByLabel('Name').fill('Playwright Industries');
  await page.getByLabel('Domain').fill('playwright.example');
  await page.getByLabel('Status').selectOption('active');
  await page.getByRole('button', { name: 'Create company' }).click();
  await expect(page.getByTestId('company-name')).toHaveText('Playwright Industries');
  await expect(page.getByText('playwright.example')).toBeVisible();

  await page.getByRole('link', { name: 'Companies', exact: true }).click();
  const table = page.getByTestId('companies');
  await expect(table).toContainText('Playwright Industries');
  await expect(table).toContainText('Active');

  // Search narrows the list; a search with no match empties it.
  await page.getByLabel('Search', { exact: true }).fill('nothing-like-this');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('No companies match.')).toBeVisible();
  await page.getByLabel('Search', { exact: true }).fill('playwright');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByTestId('companies')).toContainText('Playwright Industries');

  // The command palette's "Search for" finds it among every kind of record.
  await page.keyboard.press('Control+k');
  await expect(page.getByRole('combobox', { name: 'Search pages and records' })).toBeFocused();
  await page.keyboard.type('playwright');
  await page.getByRole('option', { name: /Search for/ }).click();
  await expect(page).toHaveURL(/\/search\?q=playwright/);
  await expect(page.getByTestId('search-results')).toContainText('Playwright Industries');

  // The list is rendered on the server too: a fresh load without waiting
  // for the bundle already holds the row.
  const html = await (await page.request.get('/companies')).text();
  expect(html).toContain('Playwright Industries');
});

test('invalid input shows the server error and creates nothing', async ({ page }) => {
  await signUp(page, 'Val Idator');
  await page.goto('/companies/new');
  await hydrated(page);
  await page.getByLabel('Name').fill('Broken Domain Co');
  await page.getByLabel('Domain').fill('not a domain');
  await page.getByRole('button', { name: 'Create company' }).click();
  await expect(page.getByRole('alert')).toContainText('is not a domain name');
  // The error names its field, so it sits next to that input.
  await expect(page.locator('label', { hasText: 'Domain' }).locator('[data-field="domain"]')).toContainText('is not a domain name');
  await page.goto('/companies');
  await expect(page.getByText('No companies match.')).toBeVisible();
});

test('a taken domain is named next to its input, and a signed-out visit offers the log-in', async ({ page }) => {
  await signUp(page, 'Dee Duplicate');
  for (const name of ['First Co', 'Second Co']) {
    await page.goto('/companies/new');
    await hydrated(page);
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Domain').fill('taken.example');
    await page.getByRole('button', { name: 'Create company' }).click();
  }
  await expect(page.locator('[data-field="domain"]')).toContainText('already has the domain taken.example');
  await page.goto('/companies');
  await expect(page.getByTestId('companies')).toContainText('First Co');
  await expect(page.getByTestId('companies')).not.toContainText('Second Co');

  // Signed out, a page's data fails as "unauthenticated": the page's error
  // boundary shows it with the log-in link (decided by the code, not the words).
  await page.context().clearCookies();
  await page.goto('/leads');
  const alert = page.getByRole('alert');
  await expect(alert).toBeVisible();
  await expect(alert.getByRole('link', { name: 'Log in' })).toHaveAttribute('href', '/login');
});

test('an API key is shown once and then only by its prefix', async ({ page }) => {
  await signUp(page, 'Kay Holder');
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('CI sync');
  await page.getByLabel('crm:read').check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.getByTestId('api-key-secret').textContent())!.trim();
  expect(secret).toMatch(/^corral_/);

  const response = await page.request.get('/api/v1/companies', { headers: { Authorization: `Bearer ${secret}` } });
  expect(response.status()).toBe(200);

  await page.reload();
  await hydrated(page);
  await expect(page.getByText('CI sync')).toBeVisible();
  await expect(page.getByTestId('api-key-secret')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
});
