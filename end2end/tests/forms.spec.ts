import { expect, test } from '@playwright/test';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { hydrated, signUp } from './helpers';

/** Another website (its own origin) that embeds the form, and an
 *  enrichment service, served by the test itself. */
async function startOtherSite() {
  const site = { origin: '', landing: '', enrichCalls: [] as any[], server: undefined as unknown as http.Server };
  site.server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/landing') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><body><h1>Spring webinar</h1>${site.landing}</body></html>`);
      return;
    }
    if (req.method === 'POST' && req.url === '/enrich') {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        site.enrichCalls.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ fields: { title: 'CTO', employees: 120, tags: ['enriched'] } }));
      });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => site.server.listen(0, '127.0.0.1', resolve));
  site.origin = `http://127.0.0.1:${(site.server.address() as AddressInfo).port}`;
  return site;
}

test('a form embedded on another site feeds a segment, and an enrichment connector fills the lead in', async ({ page, context }) => {
  const site = await startOtherSite();
  try {
    await signUp(page, 'Fran Forms');
    const segment = await page.request.post('/api/v1/lists', {
      data: { name: 'Webinar people', rules: { match: 'all', rules: [{ field: 'tags', op: 'contains', value: 'webinar' }] } },
    });
    expect(segment.status()).toBe(201);
    const segmentId = (await segment.json()).id;

    // Define the form: it tags its leads, which is what the segment selects.
    await page.goto('/forms');
    await hydrated(page);
    await page.locator('summary', { hasText: 'New form' }).click();
    await page.getByLabel('Name').fill('Webinar sign-up');
    await page.getByLabel('Submissions join').selectOption({ label: 'Webinar people (segment, if its rules match)' });
    await page.getByLabel('Lead source').selectOption('campaign');
    await page.getByLabel('Tag captured leads with').fill('webinar');
    await page.getByLabel('Websites allowed to post it').fill(site.origin);
    await page.getByRole('button', { name: 'Create form' }).click();
    await expect(page).toHaveURL(/\/forms\/[0-9a-f-]+$/);
    await hydrated(page);
    await expect(page.getByRole('link', { name: 'Webinar people' })).toBeVisible();
    site.landing = (await page.getByTestId('embed-snippet').textContent()) ?? '';
    expect(site.landing).toContain('<form');

    // A visitor on the other site submits it (a cross-origin POST).
    const visitor = await context.newPage();
    await visitor.goto(`${site.origin}/landing`);
    await visitor.getByLabel('Name').fill('Wendy Webinar');
    await visitor.getByLabel('Email').fill('wendy@visitor.example');
    await visitor.getByRole('button', { name: 'Send' }).click();
    await expect(visitor.getByText('Thank you!')).toBeVisible();
    await visitor.close();

    // She is in the segment at once.
    await page.goto(`/lists/${segmentId}`);
    await hydrated(page);
    await expect(page.getByTestId('segment-count')).toHaveText('1');
    await expect(page.getByTestId('segment-sample')).toContainText('Wendy Webinar');

    // Pausing the form is one setting away.
    await page.goBack();
    await hydrated(page);
    await page.getByTestId('form-settings').locator('summary').click();
    await page.getByLabel('Accepting submissions').uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('.page-head .badge')).toHaveText('paused');

    // An enrichment connector, used from the lead's page.
    await page.goto('/enrichment');
    await hydrated(page);
    await page.locator('summary', { hasText: 'New HTTP connector' }).click();
    await page.getByLabel('Name').fill('Other site lookup');
    await page.getByLabel('URL').fill(`${site.origin}/enrich`);
    await page.getByRole('button', { name: 'Add connector' }).click();
    await expect(page.getByTestId('connectors')).toContainText('Other site lookup');

    await page.goto('/leads?q=wendy');
    await hydrated(page);
    await page.getByRole('link', { name: 'Wendy Webinar' }).click();
    await hydrated(page);
    const facts = page.getByTestId('lead-facts');
    await expect(page.getByTestId('lead-tags')).toHaveText('webinar');
    await expect(facts).toContainText('campaign');
    await page.getByTestId('enrich').getByRole('button', { name: 'Enrich' }).click();
    await expect(page.getByTestId('lead-tags')).toContainText('enriched');
    await expect(facts).toContainText('CTO');
    await expect(facts).toContainText('employees');
    await expect(facts).toContainText('120');
    expect(site.enrichCalls).toHaveLength(1);
    expect(site.enrichCalls[0].lead.email).toBe('wendy@visitor.example');

    // Tags and custom fields are edited on the lead's page too.
    await page.getByLabel('Tags').fill('webinar, enriched, hot');
    const editor = page.getByTestId('custom-field-editor');
    await editor.getByLabel('employees').fill('150');
    await editor.getByLabel('New field').fill('plan');
    await editor.getByLabel('Value').fill('enterprise');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('lead-tags')).toContainText('hot');
    await expect(facts).toContainText('enterprise');
    await expect(facts).toContainText('150');
    const stored = await (await page.request.get(`/api/v1/leads?q=wendy`)).json();
    expect(stored.data[0].custom_fields).toEqual({ employees: 150, plan: 'enterprise' });
  } finally {
    site.server.close();
  }
});
