"""A real MCP client (the official Python SDK) driving Corral's /mcp.

Usage: agent.py URL WRITE_KEY READ_KEY MODE   (MODE: auto | legacy)

Prints one JSON report of what the server answered; the Rust test that
runs it decides what is right.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def connect(url, key, mode):
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http), mode=mode)


def result_of(result):
    return {"is_error": bool(result.is_error), "structured": result.structured_content}


async def main(url, write_key, read_key, mode):
    report = {"mode": mode}
    async with connect(url, write_key, mode) as client:
        listed = await client.list_tools()
        report["tools"] = {
            tool.name: {"input_schema": tool.input_schema, "read_only": bool(tool.annotations and tool.annotations.read_only_hint)}
            for tool in listed.tools
        }
        lead = {"name": "Priya Shah", "company_name": "Northstar Studio", "source": "website", "idempotency_key": f"priya-{mode}"}
        report["create"] = result_of(await client.call_tool("create_lead", lead))
        report["retry"] = result_of(await client.call_tool("create_lead", lead))
        report["reused_key"] = result_of(await client.call_tool("create_lead", {**lead, "name": "Someone Else"}))
        report["default_source"] = result_of(await client.call_tool("create_lead", {"name": f"Agent lead {mode}"}))
        report["unknown_property"] = result_of(await client.call_tool("create_lead", {"name": "X", "nickname": "x"}))
        report["list"] = result_of(await client.call_tool("list_leads", {"source": "website", "limit": 10}))
        report["segment"] = result_of(
            await client.call_tool(
                "create_segment",
                {"name": f"Website leads {mode}", "rules": {"match": "all", "rules": [{"field": "source", "op": "eq", "value": "website"}]}},
            )
        )
        segment_id = (report["segment"]["structured"] or {}).get("segment", {}).get("id")
        report["segment_search"] = result_of(await client.call_tool("search_leads", {"query": "priya", "segment_id": segment_id}))
        report["segment_miss"] = result_of(await client.call_tool("search_leads", {"query": "agent lead", "segment_id": segment_id}))
        report["bad_rules"] = result_of(
            await client.call_tool("create_segment", {"name": "Broken", "rules": {"match": "all", "rules": [{"field": "source", "op": "sideways"}]}})
        )

        # The seed's lead-to-cash steps that live in the CRM.
        lead_id = report["create"]["structured"]["lead"]["id"]
        report["stages"] = result_of(await client.call_tool("list_deal_stages", {"query": "pro"}))
        report["convert"] = result_of(
            await client.call_tool(
                "convert_lead",
                {
                    "lead_id": lead_id,
                    "create_deal": True,
                    "deal_name": "Website redesign",
                    "stage_key": "proposal",
                    "amount_cents": 1800000,
                    "currency": "USD",
                    "conversion_reason": "Signed the proposal call",
                },
            )
        )
        deal_id = (report["convert"]["structured"] or {}).get("deal", {}).get("id")
        report["dry_run"] = result_of(await client.call_tool("update_deal_stage", {"deal_id": deal_id, "stage": "won", "dry_run": True}))
        report["after_dry_run"] = result_of(await client.call_tool("update_deal", {"deal_id": deal_id}))
        report["update"] = result_of(await client.call_tool("update_deal", {"deal_id": deal_id, "stage_key": "negotiation", "amount_cents": 2000000}))
        report["new_stage"] = result_of(
            await client.call_tool(
                "create_deal_stage",
                {"key": f"signed_{mode}", "name": f"Signed ({mode})", "position": 3, "custom_fields": {"sla_days": 5}},
            )
        )
        report["to_new_stage"] = result_of(await client.call_tool("update_deal", {"deal_id": deal_id, "stage_key": f"signed_{mode}"}))
        report["company"] = result_of(
            await client.call_tool("create_company", {"name": f"Acme {mode}", "domain": f"acme-{mode}.example", "notes": "Met at a fair"})
        )
        acme_id = (report["company"]["structured"] or {}).get("company", {}).get("id")
        report["contact"] = result_of(
            await client.call_tool(
                "create_contact", {"name": "Jane Doe", "email": f"jane.{mode}@acme.example", "company_id": acme_id, "notes": "Prefers email"}
            )
        )
        report["contacts"] = result_of(await client.call_tool("search_contacts", {"company_id": acme_id}))
        report["bad_stage"] = result_of(await client.call_tool("create_deal", {"name": "Nowhere", "stage_key": "no-such-stage"}))
        report["activity"] = result_of(
            await client.call_tool("log_activity", {"kind": "call", "subject": "Kick-off call", "deal_id": deal_id})
        )

        # The revenue half: invoice the first milestone, take the payment,
        # write the balanced entry.
        company_id = (report["convert"]["structured"] or {}).get("company", {}).get("id")
        report["invoice"] = result_of(
            await client.call_tool(
                "create_invoice",
                {
                    "invoice_number": f"INV-{mode}-1",
                    "company_id": company_id,
                    "deal_id": deal_id,
                    "line_items": [{"kind": "service", "name": "Website redesign", "description": "Milestone 1", "unit_amount_cents": 900000}],
                },
            )
        )
        invoice_id = (report["invoice"]["structured"] or {}).get("invoice", {}).get("id")
        report["payment"] = result_of(
            await client.call_tool(
                "record_payment", {"invoice_id": invoice_id, "amount_cents": 900000, "provider": "bank", "provider_reference_id": f"wire-{mode}"}
            )
        )
        report["duplicate_payment"] = result_of(
            await client.call_tool(
                "record_payment", {"invoice_id": invoice_id, "amount_cents": 1, "provider": "bank", "provider_reference_id": f"wire-{mode}"}
            )
        )
        report["account"] = result_of(
            await client.call_tool("create_accounting_account", {"code": f"67{len(mode)}0", "name": f"Agent fees {mode}", "type": "expense"})
        )
        accounts = result_of(await client.call_tool("list_accounting_accounts", {"type": "asset", "query": "cash"}))
        report["cash_accounts"] = accounts
        cash_id = (accounts["structured"] or {}).get("accounts", [{}])[0].get("id")
        fees_id = (report["account"]["structured"] or {}).get("account", {}).get("id")
        report["entry"] = result_of(
            await client.call_tool(
                "create_journal_entry",
                {
                    "entry_number": f"JE-{mode}-1",
                    "memo": "Bank fee on the milestone payment",
                    "lines": [{"account_id": fees_id, "debit_cents": 2500}, {"account_id": cash_id, "credit_cents": 2500}],
                },
            )
        )
        report["unbalanced"] = result_of(
            await client.call_tool(
                "create_journal_entry",
                {"lines": [{"account_id": fees_id, "debit_cents": 100}, {"account_id": cash_id, "credit_cents": 99}]},
            )
        )
        report["entries"] = result_of(await client.call_tool("list_journal_entries", {"query": f"JE-{mode}"}))
        report["invoices"] = result_of(await client.call_tool("list_invoices", {"deal_id": deal_id}))
    async with connect(url, read_key, mode) as client:
        report["read_only_write"] = result_of(await client.call_tool("create_lead", {"name": "Not allowed"}))
        report["read_only_read"] = result_of(await client.call_tool("search_companies", {"query": "north"}))
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
