import { expect, test } from '@playwright/test';
import { hydrated, signUp } from './helpers';

test('an invoice is drafted, sent, paid in two parts and shows up in the ledger', async ({ page }) => {
  await signUp(page, 'Ivy Invoicer');
  await page.goto('/companies/new');
  await hydrated(page);
  await page.getByLabel('Name').fill('Umbrella Corp');
  await page.getByRole('button', { name: 'Create company' }).click();
  await expect(page.getByTestId('company-name')).toHaveText('Umbrella Corp');

  await page.goto('/invoices');
  await hydrated(page);
  await expect(page.getByText('No invoices yet.')).toBeVisible();
  await page.getByText('New invoice').click();
  await page.getByLabel('Customer').selectOption({ label: 'Umbrella Corp' });
  await page.getByLabel('Kind').selectOption('service');
  await page.getByLabel('Description').fill('Consulting days');
  await page.getByLabel('Quantity').fill('1.5');
  await page.getByLabel('Unit price').fill('4,000');
  await page.getByRole('button', { name: 'Create invoice' }).click();
  await expect(page.getByTestId('invoice-number')).toHaveText('INV-000001');
  await hydrated(page);
  await expect(page.getByTestId('invoice-total')).toHaveText('6,000.00 USD');

  // A product line with 20 % tax.
  await page.getByLabel('Kind').selectOption('product');
  await page.getByLabel('Description').fill('Licence');
  await page.getByLabel('Quantity').fill('2');
  await page.getByLabel('Unit price').fill('1,250');
  await page.getByLabel('Tax %').fill('20');
  await page.getByRole('button', { name: 'Add line' }).click();
  await expect(page.getByTestId('invoice-lines').locator('tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('invoice-total')).toHaveText('9,000.00 USD');

  await page.getByRole('button', { name: 'Send invoice' }).click();
  await expect(page.getByTestId('invoice-status')).toHaveText('sent');
  await expect(page.getByTestId('journal')).toContainText('1100 Accounts receivable');

  // Too much is refused with the reason; then two payments settle it.
  await page.getByLabel('Amount').fill('9,000.01');
  await page.getByRole('button', { name: 'Record payment' }).click();
  await expect(page.getByRole('alert')).toContainText('exceeds invoice INV-000001');
  await page.getByLabel('Amount').fill('4,000');
  await page.getByRole('button', { name: 'Record payment' }).click();
  await expect(page.getByTestId('invoice-status')).toHaveText('partially paid');
  await expect(page.getByTestId('invoice-balance')).toHaveText('5,000.00 USD');
  await page.getByLabel('Reference').fill('wire-42');
  await page.getByRole('button', { name: 'Record payment' }).click();
  await expect(page.getByTestId('invoice-status')).toHaveText('paid');
  await expect(page.getByTestId('payments').locator('tbody tr')).toHaveCount(2);

  // The printed invoice carries the lines but not the app around them.
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('button', { name: 'Record payment' })).toBeHidden();
  await expect(page.locator('header.topbar')).toBeHidden();
  await expect(page.getByTestId('invoice-lines')).toBeVisible();
  await page.emulateMedia({ media: 'screen' });

  await page.goto('/ledger');
  await expect(page.getByTestId('tb-state')).toHaveText('balanced');
  const cash = page.getByTestId('trial-balance').locator('tr', { hasText: '1000 Cash' });
  await expect(cash).toContainText('9,000.00 USD');
  await cash.getByRole('link').click();
  const ledger = page.getByTestId('account-ledger');
  await expect(ledger.locator('tbody tr')).toHaveCount(2);
  await expect(ledger.locator('tbody tr').last()).toContainText('9,000.00 USD');

  await page.goto('/receivables');
  await expect(page.getByTestId('aging').locator('tbody tr')).toHaveCount(0);
});
