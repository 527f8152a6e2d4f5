import { expect, test } from '@playwright/test';
import * as http from 'node:http';
import { hydrated, signUp } from './helpers';

/** One request the stand-in Graph API received. */
type Seen = { method: string; path: string; form: URLSearchParams };

/**
 * A stand-in of Meta's Graph API on loopback: it answers the calls Corral
 * makes to launch, pause and feed an ad campaign, refusing requests without
 * the bearer token, and keeps what it heard.
 */
async function graphStandIn(): Promise<{ url: string; seen: Seen[]; close: () => void }> {
  const seen: Seen[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const path = (request.url ?? '').split('?')[0];
      const form = new URLSearchParams(body);
      seen.push({ method: request.method ?? '', path, form });
      const reply = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      if (request.headers.authorization !== 'Bearer graph-token') return reply(401, { error: { message: 'Invalid OAuth access token' } });
      if (path === '/v25.0/act_5550001/campaigns') {
        return form.get('status') === 'PAUSED' ? reply(200, { id: '120001' }) : reply(400, { error: { message: 'status must be PAUSED' } });
      }
      if (path === '/v25.0/act_5550001/customaudiences') return reply(200, { id: '230001' });
      if (path === '/v25.0/230001/users') {
        const payload = JSON.parse(form.get('payload') ?? '{}');
        return reply(200, { audience_id: '230001', num_received: payload.data?.length ?? 0, num_invalid_entries: 0 });
      }
      if (path === '/v25.0/120001') return reply(200, { success: true });
      reply(404, { error: { message: `no route ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => server.close() };
}

test('an ad campaign is drafted, approved by an approver, launched on the platform and paused', async ({ page, browser }) => {
  const graph = await graphStandIn();
  await signUp(page, 'Ada Advertiser');
  for (const lead of [
    { name: 'Ann Lee', email: 'ann@lee.example', phone: '(415) 555-0100', score: 80 },
    { name: 'Bo Chen', email: 'bo@chen.example', score: 70 },
  ]) {
    expect((await page.request.post('/api/v1/leads', { data: lead })).status()).toBe(201);
  }
  expect((await page.request.post('/api/v1/lists', {
    data: { name: 'Hot leads', rules: { match: 'all', rules: [{ field: 'score', op: 'gte', value: 50 }] } },
  })).status()).toBe(201);
  expect((await page.request.post('/api/v1/marketing/brands', {
    data: { name: 'Ada Co', from_name: 'Ada', from_email: 'ada@adaco.example', footer: 'Ada Co, 1 Quay St, Bristol' },
  })).status()).toBe(201);
  expect((await page.request.post('/api/v1/marketing/ad-accounts', {
    data: { platform: 'meta', name: 'Ada on Meta', external_account_id: 'act_5550001', api_base_url: graph.url, credentials: { access_token: 'graph-token' } },
  })).status()).toBe(201);

  // The author drafts the campaign in the browser and asks for approval.
  await page.goto('/ads');
  await hydrated(page);
  const form = page.getByTestId('new-ad-campaign');
  await form.getByLabel('Segment').selectOption({ label: 'Hot leads' });
  await form.getByLabel('Daily budget').fill('100');
  await form.getByLabel('Landing page').fill('https://adaco.example/demo');
  await form.getByRole('button', { name: 'Draft campaign' }).click();
  await expect(page).toHaveURL(/\/ads\/[0-9a-f-]+$/);
  await hydrated(page);
  const campaignUrl = page.url();
  await expect(page.getByTestId('ad-status')).toHaveText('Draft');
  await expect(page.getByTestId('daily-budget')).toContainText('100.00 USD (3,040.00 USD a month)');
  await expect(page.getByTestId('ad-preview')).toHaveCount(3);
  await page.getByRole('button', { name: 'Request approval' }).click();
  await expect(page.getByTestId('ad-status')).toHaveText('Waiting for approval');
  expect(graph.seen).toHaveLength(0);

  // An approver approves it from the queue.
  const invitation = await (await page.request.post('/api/v1/invitations', { data: { email: `val.${Date.now()}@example.com`, role: 'approver' } })).json();
  const approverContext = await browser.newContext();
  const approver = await approverContext.newPage();
  expect((await approver.request.post('/api/v1/invitations/accept', {
    data: { token: invitation.token, name: 'Val Approver', password: 'another good password' },
  })).ok()).toBeTruthy();
  await approver.goto('/approvals');
  await hydrated(approver);
  await expect(approver.getByTestId('approval-queue')).toContainText('100.00 USD a day on Meta');
  await approver.getByTestId('approval-queue').getByRole('link').first().click();
  await expect(approver).toHaveURL(campaignUrl);
  await hydrated(approver);
  await approver.getByRole('button', { name: 'Approve' }).click();
  await expect(approver.getByTestId('ad-status')).toHaveText('Approved');
  await approverContext.close();

  // The author launches: created paused, audience uploaded, then active.
  await page.reload();
  await hydrated(page);
  await page.getByRole('button', { name: 'Launch' }).click();
  await expect(page.getByTestId('ad-status')).toHaveText('Active');
  await expect(page.getByTestId('audience-upload')).toContainText('uploaded · 2 of 2 sent');
  expect(graph.seen.map((s) => s.path)).toEqual([
    '/v25.0/act_5550001/campaigns',
    '/v25.0/act_5550001/customaudiences',
    '/v25.0/230001/users',
    '/v25.0/120001',
  ]);
  expect(graph.seen[3].form.get('status')).toBe('ACTIVE');

  // Paused in the browser, paused on the platform.
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('ad-status')).toHaveText('Paused');
  await expect.poll(() => graph.seen.filter((s) => s.path === '/v25.0/120001').map((s) => s.form.get('status'))).toEqual(['ACTIVE', 'PAUSED']);
  graph.close();
});
