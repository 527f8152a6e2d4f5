//! Property test: random sequences of invoices, sends, payments (some too
//! large, some concurrent), voids, manual entries (some unbalanced) and
//! reversals keep the books sound — every entry balanced, the trial balance
//! at zero, the receivable equal to the open invoices, cash equal to the
//! payments — and every refused write leaves nothing behind.
//!
//! `CORRAL_PROPTEST_CASES` sets the number of sequences (default 12).

use std::collections::HashMap;

use crate::common::{send, TestApp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

#[derive(Clone, Debug)]
enum Op {
    Invoice(Vec<(bool, i64, i64, i64)>),
    Send(usize),
    Pay(usize, i64),
    Void(usize),
    AccountPayment(i64),
    Manual(Vec<i64>, i64),
    Reverse(usize),
    ConcurrentPay(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let line = (any::<bool>(), 1i64..5_000, 0i64..200_000, prop_oneof![Just(0i64), Just(500), Just(2_000), Just(825)]);
    prop_oneof![
        3 => prop::collection::vec(line, 0..4).prop_map(Op::Invoice),
        3 => any::<usize>().prop_map(Op::Send),
        4 => (any::<usize>(), 1i64..=130).prop_map(|(i, pct)| Op::Pay(i, pct)),
        1 => any::<usize>().prop_map(Op::Void),
        1 => (1i64..100_000).prop_map(Op::AccountPayment),
        2 => (prop::collection::vec(1i64..50_000, 1..4), prop_oneof![3 => Just(0i64), 1 => -3i64..3]).prop_map(|(a, skew)| Op::Manual(a, skew)),
        1 => any::<usize>().prop_map(Op::Reverse),
        2 => (any::<usize>(), 2usize..6).prop_map(|(i, n)| Op::ConcurrentPay(i, n)),
    ]
}

struct Books<'a> {
    app: &'a TestApp,
    client: Client,
    key: String,
    company_id: String,
    invoices: Vec<String>,
    /// Set when the last single-request operation was refused (4xx).
    refused: bool,
}

type Outcome = Result<(), TestCaseError>;

fn check(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(TestCaseError::fail(message()))
    }
}

impl Books<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        send(&self.client, method, &self.app.url(&format!("/api/v1{path}")), Some(&self.key), body).await
    }

    async fn written_rows(&self) -> (i64, i64, i64) {
        (self.app.count("journal_entries").await, self.app.count("payments").await, self.app.count("journal_lines").await)
    }

    async fn invoice(&self, id: &str) -> Value {
        self.call(Method::GET, &format!("/invoices/{id}"), None).await.1
    }

    fn pick(list: &[String], i: usize) -> Option<&String> {
        (!list.is_empty()).then(|| &list[i % list.len()])
    }

    /// Runs one operation and checks its outcome against what the books
    /// must do; refused writes must leave no rows behind.
    async fn apply(&mut self, op: &Op) -> Outcome {
        let refused = |status: StatusCode| status.is_client_error();
        self.refused = false;
        match op {
            Op::Invoice(lines) => {
                let lines: Vec<Value> = lines
                    .iter()
                    .map(|(product, qty, unit, tax)| json!({"kind": if *product { "product" } else { "service" }, "description": "Item", "quantity": *qty as f64 / 1000.0, "unit_amount_cents": unit, "tax_rate_bps": tax}))
                    .collect();
                let (status, body) =
                    self.call(Method::POST, "/invoices", Some(json!({"company_id": self.company_id, "lines": lines}))).await;
                check(status == StatusCode::CREATED, || format!("invoice refused: {status} {body}"))?;
                self.refused = refused(status);
                self.invoices.push(body["id"].as_str().unwrap().to_string());
            }
            Op::Send(i) => {
                let Some(id) = Self::pick(&self.invoices, *i).cloned() else { return Ok(()) };
                let invoice = self.invoice(&id).await;
                let (status, body) = self.call(Method::POST, &format!("/invoices/{id}/send"), None).await;
                let sendable = invoice["status"] == "draft" && invoice["total_cents"].as_i64().unwrap() > 0;
                check(status.is_success() == sendable, || format!("send of {invoice}: {status} {body}"))?;
                self.refused = refused(status);
            }
            Op::Pay(i, pct) => {
                let Some(id) = Self::pick(&self.invoices, *i).cloned() else { return Ok(()) };
                let invoice = self.invoice(&id).await;
                let balance = invoice["balance_cents"].as_i64().unwrap();
                let amount = (balance * pct / 100).max(1);
                let payable = matches!(invoice["status"].as_str(), Some("sent" | "partially_paid")) && amount <= balance;
                let (status, body) =
                    self.call(Method::POST, "/payments", Some(json!({"invoice_id": id, "amount_cents": amount, "provider": "bank"}))).await;
                check(status.is_success() == payable, || format!("payment of {amount} on {invoice}: {status} {body}"))?;
                self.refused = refused(status);
            }
            Op::Void(i) => {
                let Some(id) = Self::pick(&self.invoices, *i).cloned() else { return Ok(()) };
                let invoice = self.invoice(&id).await;
                let voidable = matches!(invoice["status"].as_str(), Some("draft" | "sent"));
                let (status, body) = self.call(Method::POST, &format!("/invoices/{id}/void"), None).await;
                check(status.is_success() == voidable, || format!("void of {invoice}: {status} {body}"))?;
                self.refused = refused(status);
            }
            Op::AccountPayment(amount) => {
                let (status, body) = self
                    .call(
                        Method::POST,
                        "/payments",
                        Some(json!({"company_id": self.company_id, "amount_cents": amount, "provider": "wire"})),
                    )
                    .await;
                check(status == StatusCode::CREATED, || format!("account payment: {status} {body}"))?;
                self.refused = refused(status);
            }
            Op::Manual(amounts, skew) => {
                // Debits to expenses, one balancing credit to equity (off by `skew`).
                let total: i64 = amounts.iter().sum();
                let mut lines: Vec<Value> = amounts.iter().map(|a| json!({"account_code": "5000", "debit_cents": a})).collect();
                lines.push(json!({"account_code": "3000", "credit_cents": total + skew}));
                let (status, body) =
                    self.call(Method::POST, "/journal-entries", Some(json!({"memo": "Random entry", "lines": lines, "post": true}))).await;
                check(status.is_success() == (*skew == 0), || format!("manual entry with skew {skew}: {status} {body}"))?;
                self.refused = refused(status);
            }
            Op::Reverse(i) => {
                let (_, journal) = self.call(Method::GET, "/journal-entries?limit=100", None).await;
                let all: Vec<Value> = journal["data"].as_array().unwrap().clone();
                if all.is_empty() {
                    return Ok(());
                }
                let entry = &all[i % all.len()];
                let reversible = entry["source"] == "manual" && entry["status"] == "posted" && entry["reversed_by_entry_id"].is_null();
                let (status, body) =
                    self.call(Method::POST, &format!("/journal-entries/{}/reverse", entry["id"].as_str().unwrap()), Some(json!({}))).await;
                check(status.is_success() == reversible, || format!("reversal of {entry}: {status} {body}"))?;
                self.refused = refused(status);
            }
            Op::ConcurrentPay(i, n) => {
                let Some(id) = Self::pick(&self.invoices, *i).cloned() else { return Ok(()) };
                let invoice = self.invoice(&id).await;
                let balance = invoice["balance_cents"].as_i64().unwrap();
                if !matches!(invoice["status"].as_str(), Some("sent" | "partially_paid")) || balance < *n as i64 {
                    return Ok(());
                }
                // n payments of which at most n-1 fit the balance.
                let amount = balance / (*n as i64 - 1);
                let requests = (0..*n).map(|_| {
                    self.call(Method::POST, "/payments", Some(json!({"invoice_id": id, "amount_cents": amount, "provider": "card"})))
                });
                let results = futures_join_all(requests).await;
                let succeeded = results.iter().filter(|(s, _)| s.is_success()).count() as i64;
                for (status, body) in &results {
                    check(status.is_success() || refused(*status), || format!("concurrent payment: {status} {body}"))?;
                }
                check(succeeded * amount <= balance, || format!("{succeeded} payments of {amount} exceed {balance}"))?;
                check(succeeded >= 1, || "no concurrent payment went through".into())?;
                let after = self.invoice(&id).await;
                check(after["paid_cents"].as_i64().unwrap() == invoice["paid_cents"].as_i64().unwrap() + succeeded * amount, || {
                    format!("paid_cents drifted: {after}")
                })?;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Runs an operation; a refused one must leave the books and the
    /// journal exactly as they were.
    async fn refused_changes_nothing(&mut self, op: &Op) -> Outcome {
        let rows_before = self.written_rows().await;
        let books_before = self.call(Method::GET, "/trial-balance", None).await.1;
        self.apply(op).await?;
        if self.refused {
            let rows_after = self.written_rows().await;
            let books_after = self.call(Method::GET, "/trial-balance", None).await.1;
            check(rows_before == rows_after, || format!("refused {op:?} wrote rows: {rows_before:?} → {rows_after:?}"))?;
            check(books_before == books_after, || format!("refused {op:?} moved the trial balance"))?;
        }
        Ok(())
    }

    async fn all_pages(&self, path: &str) -> Vec<Value> {
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=100&cursor={c}"),
                None => format!("{path}{sep}limit=100"),
            };
            let (_, page) = self.call(Method::GET, &url, None).await;
            rows.extend(page["data"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return rows,
            }
        }
    }

    /// The invariants of sound books.
    async fn check_books(&self) -> Outcome {
        let entries = self.all_pages("/journal-entries").await;
        for entry in &entries {
            let lines = entry["lines"].as_array().unwrap();
            let debits: i64 = lines.iter().map(|l| l["debit_cents"].as_i64().unwrap()).sum();
            let credits: i64 = lines.iter().map(|l| l["credit_cents"].as_i64().unwrap()).sum();
            check(lines.len() >= 2 && debits == credits && debits > 0, || format!("unbalanced entry {entry}"))?;
        }
        let (_, tb) = self.call(Method::GET, "/trial-balance", None).await;
        check(tb["balanced"] == true, || format!("trial balance off: {tb}"))?;
        let mut balance: HashMap<String, i64> = HashMap::new();
        for row in tb["rows"].as_array().unwrap() {
            let (d, c) = (row["debit_cents"].as_i64().unwrap(), row["credit_cents"].as_i64().unwrap());
            let normal = if matches!(row["account_type"].as_str(), Some("asset" | "expense")) { d - c } else { c - d };
            balance.insert(row["code"].as_str().unwrap().to_string(), normal);
        }
        let net: i64 =
            tb["rows"].as_array().unwrap().iter().map(|r| r["debit_cents"].as_i64().unwrap() - r["credit_cents"].as_i64().unwrap()).sum();
        check(net == 0, || format!("debits minus credits is {net}"))?;

        let invoices = self.all_pages("/invoices").await;
        let payments = self.all_pages("/payments").await;
        let mut open = 0;
        for invoice in &invoices {
            let id = invoice["id"].as_str().unwrap();
            let (total, paid) = (invoice["total_cents"].as_i64().unwrap(), invoice["paid_cents"].as_i64().unwrap());
            let received: i64 = payments.iter().filter(|p| p["invoice_id"] == id).map(|p| p["amount_cents"].as_i64().unwrap()).sum();
            check(paid == received && (0..=total).contains(&paid), || format!("{invoice}: payments total {received}"))?;
            let expected_status = match invoice["status"].as_str().unwrap() {
                "draft" | "void" => paid == 0,
                "sent" => paid == 0,
                "partially_paid" => paid > 0 && paid < total,
                "paid" => paid == total,
                _ => false,
            };
            check(expected_status, || format!("status does not follow payments: {invoice}"))?;
            if matches!(invoice["status"].as_str(), Some("sent" | "partially_paid")) {
                open += total - paid;
            }
        }
        let cash: i64 = payments.iter().map(|p| p["amount_cents"].as_i64().unwrap()).sum();
        let credit: i64 = payments.iter().filter(|p| p["invoice_id"].is_null()).map(|p| p["amount_cents"].as_i64().unwrap()).sum();
        let get = |code: &str| balance.get(code).copied().unwrap_or(0);
        check(get("1100") == open, || format!("receivable {} ≠ open invoices {open}", get("1100")))?;
        check(get("1000") == cash, || format!("cash {} ≠ payments {cash}", get("1000")))?;
        check(get("2200") == credit, || format!("customer credit {} ≠ account payments {credit}", get("2200")))?;
        Ok(())
    }
}

async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    // Polls them together on one task: the requests are in flight at once.
    let futures: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut futures: Vec<Option<_>> = futures.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

async fn run_sequence(app: &TestApp, case: u64, ops: Vec<Op>) -> Outcome {
    let owner = app.sign_up(&format!("books{case}-{}@revenue.test", uuid::Uuid::now_v7().simple())).await;
    let key = app.api_key(&owner, &["crm:write", "revenue:write"]).await;
    let client = Client::new();
    let (_, company) = send(&client, Method::POST, &app.url("/api/v1/companies"), Some(&key), Some(json!({"name": "Customer"}))).await;
    let mut books =
        Books { app, client, key, company_id: company["id"].as_str().unwrap().to_string(), invoices: Vec::new(), refused: false };
    for op in &ops {
        books.refused_changes_nothing(op).await?;
    }
    books.check_books().await
}

#[test]
fn random_revenue_histories_keep_the_books_balanced() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let app = runtime.block_on(TestApp::spawn());
    let cases = std::env::var("CORRAL_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(12);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let case = std::cell::Cell::new(0u64);
    let result = runner.run(&prop::collection::vec(op(), 1..25), |ops| {
        case.set(case.get() + 1);
        runtime.block_on(run_sequence(&app, case.get(), ops))
    });
    drop(app);
    if let Err(error) = result {
        panic!("{error}");
    }
}
