// A real MCP client (the official TypeScript SDK) driving Corral's /mcp,
// run by the Rust integration test `mcp::the_typescript_sdk_…`.
// Usage: node mcp-agent.mjs URL KEY   — prints one JSON report.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, key] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${key}` } },
});
const client = new Client({ name: 'corral-test-agent', version: '1.0.0' });
await client.connect(transport);

const report = {};
const tools = await client.listTools();
report.tools = tools.tools.map((tool) => tool.name).sort();
const call = async (name, args) => {
  const result = await client.callTool({ name, arguments: args });
  return { is_error: Boolean(result.isError), structured: result.structuredContent ?? null };
};
report.create = await call('create_lead', { name: 'Tess Script', company_name: 'Typed Co', source: 'referral' });
report.unknown_property = await call('search_companies', { query: 'typed', color: 'blue' });
report.list = await call('list_leads', { query: 'tess' });
await client.close();
console.log(JSON.stringify(report));
