import { expect, test } from '@playwright/test';
import * as net from 'node:net';
import { hydrated, signUp } from './helpers';

/** One message a real SMTP conversation delivered. */
type Received = { to: string[]; data: string };

/**
 * An SMTP server on loopback (EHLO, AUTH, MAIL, RCPT, DATA, QUIT) that
 * keeps what it receives: the messages Corral actually sent.
 */
async function smtpSink(): Promise<{ port: number; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let buffer = '';
    let inData = false;
    let data = '';
    let to: string[] = [];
    socket.write('220 sink.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            received.push({ to, data });
            socket.write('250 OK queued\r\n');
          } else {
            data += (line.startsWith('.') ? line.slice(1) : line) + '\r\n';
          }
          continue;
        }
        const upper = line.toUpperCase();
        if (upper.startsWith('EHLO')) socket.write('250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
        else if (upper.startsWith('AUTH')) socket.write('235 2.7.0 Authentication successful\r\n');
        else if (upper.startsWith('MAIL FROM:')) { to = []; socket.write('250 OK\r\n'); }
        else if (upper.startsWith('RCPT TO:')) { to.push(line.slice(8).trim().replace(/[<>]/g, '')); socket.write('250 OK\r\n'); }
        else if (upper === 'DATA') { inData = true; data = ''; socket.write('354 end with .\r\n'); }
        else if (upper === 'QUIT') { socket.end('221 bye\r\n'); }
        else socket.write('250 OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, received, close: () => server.close() };
}

test('an author previews, an approver rejects with a reason, the author edits, the approver approves, and the emails arrive', async ({ page, browser }) => {
  const sink = await smtpSink();
  await signUp(page, 'Ari Author');
  for (const lead of [
    { name: 'Ann Lee', email: 'ann@lee.example', score: 80, company_name: 'Lee & Co' },
    { name: 'Bo Chen', email: 'bo@chen.example', score: 70 },
  ]) {
    expect((await page.request.post('/api/v1/leads', { data: lead })).status()).toBe(201);
  }
  const segment = await page.request.post('/api/v1/lists', {
    data: { name: 'Hot leads', rules: { match: 'all', rules: [{ field: 'score', op: 'gte', value: 50 }] } },
  });
  expect(segment.status()).toBe(201);
  expect((await page.request.post('/api/v1/marketing/brands', {
    data: { name: 'Ari Co', from_name: 'Ari at Ari Co', from_email: 'ari@arico.example', footer: 'Ari Co, 4 Mill Lane, Leeds LS1 1AA' },
  })).status()).toBe(201);
  expect((await page.request.post('/api/v1/marketing/senders', {
    data: { name: 'Loopback SMTP', host: '127.0.0.1', port: sink.port, security: 'none', username: 'ari', password: 'pw' },
  })).status()).toBe(201);

  // The author previews a sequence in the browser: nothing is sent.
  await page.goto('/marketing');
  await hydrated(page);
  await page.getByText('New sequence').click();
  await page.getByLabel('Segment').selectOption({ label: 'Hot leads' });
  await page.getByLabel('Objective').fill('book a demo');
  await page.getByLabel('Number of emails').fill('1');
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page).toHaveURL(/\/marketing\/sequences\/[0-9a-f-]+$/);
  await hydrated(page);
  const sequenceUrl = page.url();
  const sequenceId = sequenceUrl.split('/').pop()!;
  await expect(page.getByTestId('audience')).toContainText('2 recipients');
  await expect(page.getByTestId('sequence-status')).toHaveText('Draft');
  await page.getByRole('button', { name: 'Submit for approval' }).click();
  await expect(page.getByTestId('sequence-status')).toHaveText('Waiting for approval');

  // An approver, in a second browser context, rejects with a reason.
  const invitation = await (await page.request.post('/api/v1/invitations', { data: { email: `avery.${Date.now()}@example.com`, role: 'approver' } })).json();
  const approverContext = await browser.newContext();
  const approver = await approverContext.newPage();
  const accepted = await approver.request.post('/api/v1/invitations/accept', {
    data: { token: invitation.token, name: 'Avery Approver', password: 'another good password' },
  });
  expect(accepted.status()).toBe(200);
  await approver.goto('/approvals');
  await hydrated(approver);
  await expect(approver.getByTestId('approval-queue')).toContainText('Ari Author');
  await approver.getByTestId('approval-queue').getByRole('link').first().click();
  await expect(approver).toHaveURL(new RegExp(`/approvals/${sequenceId}$`));
  await hydrated(approver);
  await approver.getByLabel('Reason for rejecting').fill('Name the demo length in the subject');
  await approver.getByRole('button', { name: 'Reject' }).click();
  await expect(approver.getByTestId('sequence-status')).toHaveText('Rejected');
  expect(sink.received).toHaveLength(0);

  // The author sees the reason and edits the email.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('sequence-status')).toHaveText('Rejected');
  await expect(page.getByTestId('status-reason')).toHaveText('Name the demo length in the subject');
  const step = page.getByTestId('step').first();
  await step.getByLabel('Subject').fill('{{first_name|Hi}}, a 20-minute demo for {{company_name|your team}}?');
  await step.getByRole('button', { name: 'Save email' }).click();
  await expect(page.getByTestId('sequence-status')).toHaveText('Draft');
  await page.getByRole('button', { name: 'Submit for approval' }).click();
  await expect(page.getByTestId('sequence-status')).toHaveText('Waiting for approval');

  // The approver sees what changed and approves; the emails go out.
  await approver.reload();
  await hydrated(approver);
  await expect(approver.getByTestId('changes')).toHaveCount(0);
  await approver.getByRole('button', { name: 'Approve and release' }).click();
  await expect(approver.getByRole('status')).toContainText('approved');
  await expect.poll(() => sink.received.length, { timeout: 20_000 }).toBe(2);
  const ann = sink.received.find((m) => m.to.includes('ann@lee.example'))!;
  expect(ann.data).toMatch(/^Subject: Ann, a 20-minute demo for Lee & Co\?\r$/m);
  expect(ann.data).toMatch(/^List-Unsubscribe: <http[^>]+\/u\/[0-9a-f]+\.[0-9a-f]+>\r$/m);
  expect(ann.data).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
  expect(ann.data).toContain('4 Mill Lane');

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('sequence-status')).toHaveText(/Sending|Completed/);
  await approverContext.close();
  sink.close();
});

test('a campaign is created, filtered, and holds the sequences previewed in it with their results', async ({ page }) => {
  await signUp(page, 'Cam Paign');
  for (const lead of [{ name: 'Bo Rees', email: 'bo@rees.example', score: 70 }, { name: 'Di Vale', email: 'di@vale.example', score: 90 }]) {
    expect((await page.request.post('/api/v1/leads', { data: lead })).status()).toBe(201);
  }
  expect((await page.request.post('/api/v1/lists', {
    data: { name: 'Warm leads', rules: { match: 'all', rules: [{ field: 'score', op: 'gte', value: 50 }] } },
  })).status()).toBe(201);
  expect((await page.request.post('/api/v1/marketing/brands', {
    data: { name: 'Cam Co', from_name: 'Cam', from_email: 'cam@camco.example', footer: 'Cam Co, 1 Quay Street, Hull HU1 1AA' },
  })).status()).toBe(201);
  expect((await page.request.post('/api/v1/marketing/campaigns', { data: { name: 'Blog launch', channel: 'blog' } })).status()).toBe(201);

  await page.goto('/marketing/campaigns');
  await hydrated(page);
  const newCampaign = page.locator('details', { hasText: 'New campaign' });
  await newCampaign.getByText('New campaign').click();
  await newCampaign.getByLabel('Name').fill('Spring demos');
  await newCampaign.getByLabel('Segment').selectOption({ label: 'Warm leads' });
  await newCampaign.getByLabel('Brand').selectOption({ label: 'Cam Co' });
  await newCampaign.getByRole('button', { name: 'Create campaign' }).click();
  await expect(page).toHaveURL(/\/marketing\/campaigns\/[0-9a-f-]+$/);
  await hydrated(page);
  const campaignUrl = page.url();
  await expect(page.getByText('email campaign · segment Warm leads · brand Cam Co · owner Cam Paign')).toBeVisible();

  // A sequence previewed from the campaign belongs to it.
  await page.getByText('New sequence in this campaign').click();
  await page.getByLabel('Segment').selectOption({ label: 'Warm leads' });
  await page.getByLabel('Objective').fill('book a demo');
  await page.getByLabel('Number of emails').fill('2');
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page).toHaveURL(/\/marketing\/sequences\/[0-9a-f-]+$/);
  await page.goto(campaignUrl);
  await hydrated(page);
  await expect(page.getByTestId('campaign-sequences').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('campaign-sequences')).toContainText('Draft');
  await expect(page.locator('svg[role="img"]')).toBeVisible();

  await page.getByLabel('Status').selectOption('active');
  await page.getByRole('button', { name: 'Set status' }).click();
  await expect(page.getByTestId('campaign-status')).toHaveText('Active');

  // The list filters by channel and status.
  await page.goto('/marketing/campaigns');
  await hydrated(page);
  await expect(page.getByTestId('campaigns').locator('tbody tr')).toHaveCount(2);
  await page.getByLabel('Filter by channel').selectOption('email');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/channel=email/);
  await expect(page.getByTestId('campaigns').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('campaigns')).toContainText('Spring demos');
  await page.getByLabel('Filter by channel').selectOption('');
  await page.getByLabel('Filter by status').selectOption('draft');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByTestId('campaigns').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('campaigns')).toContainText('Blog launch');
  await page.getByLabel('Filter by status').selectOption('');
  await page.getByLabel('Filter by segment').selectOption({ label: 'Warm leads' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByTestId('campaigns').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('campaigns')).toContainText('Spring demos');
});
