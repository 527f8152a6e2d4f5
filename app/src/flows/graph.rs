//! Checking a workflow's graph before it is saved: one entry, every edge
//! to a step that exists, no cycles, every step reachable, and every
//! variable defined upstream — `{{steps.X.output…}}` only where step X runs
//! on every path before, `{{input.y}}` only for an input the schema
//! declares. Each problem names its step.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::types::*;

const MAX_STEPS: usize = 200;
const MAX_WAIT_SECONDS: i64 = 366 * 24 * 3600;

fn problem(step: Option<&str>, message: impl Into<String>) -> GraphProblem {
    GraphProblem { step_id: step.map(str::to_string), message: message.into() }
}

/// The steps a step leads to.
pub fn successors(step: &Step) -> Vec<&str> {
    match &step.action {
        Action::Branch { rules, default } => {
            let mut out: Vec<&str> = rules.iter().map(|r| r.next.as_str()).collect();
            out.extend(default.as_deref());
            out
        }
        _ => step.next.as_deref().into_iter().collect(),
    }
}

/// Every `{{…}}` variable in a JSON value's strings, or the text of an
/// unclosed one as an error.
pub fn variables_in(value: &Value, out: &mut Vec<String>) -> Result<(), String> {
    match value {
        Value::String(text) => variables_in_text(text, out),
        Value::Array(items) => items.iter().try_for_each(|v| variables_in(v, out)),
        Value::Object(map) => map.values().try_for_each(|v| variables_in(v, out)),
        _ => Ok(()),
    }
}

pub fn variables_in_text(text: &str, out: &mut Vec<String>) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("{:?} opens a variable with {{{{ and never closes it", text))?;
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    Ok(())
}

/// The names a manual trigger's input may hold, from the input schema's
/// `properties`; `None` when the schema does not list them (any name).
pub fn input_names(input_schema: &Value) -> Option<BTreeSet<String>> {
    input_schema.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect())
}

fn check_step_settings(step: &Step, problems: &mut Vec<GraphProblem>) {
    let id = Some(step.id.as_str());
    if let Some(attempts) = step.max_attempts {
        if !(1..=10).contains(&attempts) {
            problems.push(problem(id, "max_attempts is from 1 to 10"));
        }
    }
    match &step.action {
        Action::Branch { .. } if step.next.is_some() => {
            problems.push(problem(id, "a branch goes on through its rules and default, not `next`"));
        }
        Action::Wait { seconds, until, event, timeout_seconds } => {
            let ways = [seconds.is_some(), until.is_some(), event.is_some()].iter().filter(|w| **w).count();
            if ways != 1 {
                problems.push(problem(id, "a wait takes exactly one of seconds, until or event"));
            }
            if seconds.is_some_and(|s| !(1..=MAX_WAIT_SECONDS).contains(&s)) {
                problems.push(problem(id, format!("a wait lasts from 1 to {MAX_WAIT_SECONDS} seconds")));
            }
            match (event, timeout_seconds) {
                (Some(_), None) => problems.push(problem(id, "a wait for an event needs timeout_seconds")),
                (None, Some(_)) => problems.push(problem(id, "timeout_seconds only goes with a wait for an event")),
                (Some(_), Some(t)) if !(1..=MAX_WAIT_SECONDS).contains(t) => {
                    problems.push(problem(id, format!("timeout_seconds is from 1 to {MAX_WAIT_SECONDS}")))
                }
                _ => {}
            }
            if let Some(event) = event {
                if !super::events::WAITABLE_EVENTS.contains(&event.as_str()) {
                    problems.push(problem(
                        id,
                        format!("{event:?} is not an event a run can wait for ({})", super::events::WAITABLE_EVENTS.join(", ")),
                    ));
                }
            }
            if let Some(until) = until {
                if !until.contains("{{") && chrono::DateTime::parse_from_rfc3339(until).is_err() {
                    problems.push(problem(id, format!("until {until:?} is not an RFC 3339 time")));
                }
            }
        }
        Action::HttpRequest { method, url, .. } => {
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                problems.push(problem(id, format!("method {method:?} is not GET, POST, PUT, PATCH or DELETE")));
            }
            check_url(id, url, problems);
        }
        Action::SendWebhook { url, .. } => check_url(id, url, problems),
        Action::CreateTask { due_in_hours: Some(hours), .. } if !(0..=24 * 366).contains(hours) => {
            problems.push(problem(id, "due_in_hours is from 0 to 8784"));
        }
        _ => {}
    }
}

fn check_url(id: Option<&str>, url: &str, problems: &mut Vec<GraphProblem>) {
    if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("{{")) {
        problems.push(problem(id, format!("url {url:?} is not an http(s) URL")));
    }
}

/// The graph's steps in an order where every step comes after the steps
/// leading to it, or the id of a step on a cycle.
fn topological_order(graph: &Graph) -> Result<Vec<&str>, String> {
    let mut incoming: HashMap<&str, usize> = graph.steps.iter().map(|s| (s.id.as_str(), 0)).collect();
    for step in &graph.steps {
        for next in successors(step) {
            if let Some(n) = incoming.get_mut(next) {
                *n += 1;
            }
        }
    }
    let by_id: HashMap<&str, &Step> = graph.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut ready: Vec<&str> = graph.steps.iter().map(|s| s.id.as_str()).filter(|id| incoming[id] == 0).collect();
    ready.reverse();
    let mut order = Vec::with_capacity(graph.steps.len());
    while let Some(id) = ready.pop() {
        order.push(id);
        for next in successors(by_id[id]) {
            if let Some(n) = incoming.get_mut(next) {
                *n -= 1;
                if *n == 0 {
                    ready.push(next);
                }
            }
        }
    }
    if order.len() < graph.steps.len() {
        let on_cycle = graph.steps.iter().map(|s| s.id.as_str()).find(|id| incoming[id] > 0).unwrap_or_default();
        return Err(on_cycle.to_string());
    }
    Ok(order)
}

/// Everything wrong with a graph (empty when it can be saved).
pub fn check(graph: &Graph, input_schema: &Value) -> Vec<GraphProblem> {
    let mut problems = Vec::new();
    if graph.steps.is_empty() {
        return vec![problem(None, "a workflow needs at least one step")];
    }
    if graph.steps.len() > MAX_STEPS {
        return vec![problem(None, format!("a workflow has at most {MAX_STEPS} steps"))];
    }
    let mut ids = HashSet::new();
    for step in &graph.steps {
        let valid =
            !step.id.is_empty() && step.id.len() <= 64 && step.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            problems.push(problem(Some(&step.id), "a step id is 1 to 64 letters, digits, _ or -"));
        }
        if !ids.insert(step.id.as_str()) {
            problems.push(problem(Some(&step.id), "two steps have this id"));
        }
        check_step_settings(step, &mut problems);
    }
    if !ids.contains(graph.entry.as_str()) {
        problems.push(problem(None, format!("the entry {:?} is not a step", graph.entry)));
    }
    for step in &graph.steps {
        for next in successors(step) {
            if !ids.contains(next) {
                problems.push(problem(Some(&step.id), format!("goes to {next:?}, which is not a step")));
            }
            if next == step.id {
                problems.push(problem(Some(&step.id), "goes to itself (a cycle)"));
            }
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let order = match topological_order(graph) {
        Ok(order) => order,
        Err(step) => return vec![problem(Some(&step), "is on a cycle: a workflow's steps cannot loop back")],
    };
    let by_id: HashMap<&str, &Step> = graph.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    // Reachability from the entry, then the steps that run on every path
    // before each step (its dominators): only their outputs are defined.
    let mut reachable: HashSet<&str> = HashSet::from([graph.entry.as_str()]);
    let mut before: HashMap<&str, Option<BTreeSet<&str>>> = HashMap::new();
    before.insert(graph.entry.as_str(), Some(BTreeSet::new()));
    for id in &order {
        if !reachable.contains(id) {
            continue;
        }
        let mut upstream = before.get(id).cloned().flatten().unwrap_or_default();
        upstream.insert(id);
        for next in successors(by_id[id]) {
            reachable.insert(next);
            let entry = before.entry(next).or_insert(None);
            *entry = Some(match entry.take() {
                None => upstream.clone(),
                Some(known) => known.intersection(&upstream).copied().collect(),
            });
        }
    }
    for step in &graph.steps {
        if !reachable.contains(step.id.as_str()) {
            problems.push(problem(Some(&step.id), "cannot be reached from the entry"));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let inputs = input_names(input_schema);
    for step in &graph.steps {
        let mut names = Vec::new();
        let action = serde_json::to_value(&step.action).unwrap_or(Value::Null);
        if let Err(message) = variables_in(&action, &mut names) {
            problems.push(problem(Some(&step.id), message));
            continue;
        }
        if let Action::Branch { rules, .. } = &step.action {
            names.extend(rules.iter().map(|r| r.when.var.clone()));
        }
        let defined = before.get(step.id.as_str()).cloned().flatten().unwrap_or_default();
        for name in names {
            if let Err(message) = check_variable(&name, &defined, inputs.as_ref(), &by_id) {
                problems.push(problem(Some(&step.id), message));
            }
        }
    }
    problems
}

fn check_variable(
    name: &str,
    defined: &BTreeSet<&str>,
    inputs: Option<&BTreeSet<String>>,
    steps: &HashMap<&str, &Step>,
) -> Result<(), String> {
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        ["input", field, ..] => match inputs {
            Some(inputs) if !inputs.contains(*field) => Err(format!(
                "uses {{{{{name}}}}}, but the input schema has no {field:?} (it has {})",
                inputs.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
            _ => Ok(()),
        },
        ["input"] | ["trigger", ..] | ["run", "id"] | ["workflow", "id"] => Ok(()),
        ["steps", step, "output", ..] => {
            if !steps.contains_key(step) {
                Err(format!("uses {{{{{name}}}}}, but there is no step {step:?}"))
            } else if !defined.contains(step) {
                Err(format!("uses {{{{{name}}}}}, but step {step:?} does not run before it on every path"))
            } else {
                Ok(())
            }
        }
        _ => Err(format!(
            "uses {{{{{name}}}}}: variables are input.<field>, trigger.<field>, steps.<step>.output.<field>, run.id or workflow.id"
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn graph(value: Value) -> Graph {
        serde_json::from_value(value).unwrap()
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {"lead_id": {"type": "string"}}, "required": ["lead_id"]})
    }

    #[test]
    fn a_branching_graph_with_upstream_variables_is_accepted() {
        let g = graph(json!({"entry": "enrich", "steps": [
            {"id": "enrich", "action": {"type": "enrich_lead", "lead_id": "{{input.lead_id}}", "connector_id": "c"}, "next": "hot"},
            {"id": "hot", "action": {"type": "branch", "rules": [
                {"when": {"var": "steps.enrich.output.score", "op": "gt", "value": 50}, "next": "task"}], "default": "tag"}},
            {"id": "task", "action": {"type": "create_task", "title": "Call {{steps.enrich.output.name}}", "lead_id": "{{input.lead_id}}"}},
            {"id": "tag", "action": {"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "cold"}},
        ]}));
        assert_eq!(check(&g, &schema()), vec![]);
    }

    #[test]
    fn a_cycle_is_refused_naming_a_step_on_it() {
        let g = graph(json!({"entry": "a", "steps": [
            {"id": "a", "action": {"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "x"}, "next": "b"},
            {"id": "b", "action": {"type": "wait", "seconds": 60}, "next": "c"},
            {"id": "c", "action": {"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "y"}, "next": "b"},
        ]}));
        let problems = check(&g, &schema());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(matches!(problems[0].step_id.as_deref(), Some("b") | Some("c")), "{problems:?}");
        assert!(problems[0].message.contains("cycle"), "{problems:?}");
    }

    #[test]
    fn unreachable_steps_missing_edges_and_a_missing_entry_are_named() {
        let g = graph(json!({"entry": "a", "steps": [
            {"id": "a", "action": {"type": "wait", "seconds": 5}},
            {"id": "orphan", "action": {"type": "wait", "seconds": 5}},
        ]}));
        assert_eq!(check(&g, &schema()), vec![problem(Some("orphan"), "cannot be reached from the entry")]);
        let g = graph(json!({"entry": "nope", "steps": [{"id": "a", "action": {"type": "wait", "seconds": 5}, "next": "ghost"}]}));
        let problems = check(&g, &schema());
        assert!(problems.contains(&problem(None, "the entry \"nope\" is not a step")), "{problems:?}");
        assert!(problems.contains(&problem(Some("a"), "goes to \"ghost\", which is not a step")), "{problems:?}");
    }

    #[test]
    fn a_variable_must_be_defined_on_every_path_before_its_step() {
        // `task` can be reached without `enrich` (the branch's default).
        let g = graph(json!({"entry": "split", "steps": [
            {"id": "split", "action": {"type": "branch", "rules": [
                {"when": {"var": "input.lead_id", "op": "is_set"}, "next": "enrich"}], "default": "task"}},
            {"id": "enrich", "action": {"type": "enrich_lead", "lead_id": "{{input.lead_id}}", "connector_id": "c"}, "next": "task"},
            {"id": "task", "action": {"type": "create_task", "title": "{{steps.enrich.output.company}}"}},
        ]}));
        let problems = check(&g, &schema());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].step_id.as_deref(), Some("task"));
        assert!(problems[0].message.contains("does not run before it on every path"), "{problems:?}");

        let g = graph(json!({"entry": "a", "steps": [
            {"id": "a", "action": {"type": "add_tag", "lead_id": "{{input.contact}}", "tag": "{{oops"}},
        ]}));
        let problems = check(&g, &schema());
        assert!(problems[0].message.contains("never closes"), "{problems:?}");
        let g =
            graph(json!({"entry": "a", "steps": [{"id": "a", "action": {"type": "add_tag", "lead_id": "{{input.contact}}", "tag": "t"}}]}));
        assert!(check(&g, &schema())[0].message.contains("no \"contact\""));
    }

    #[test]
    fn waits_take_one_way_of_waiting() {
        let g = graph(json!({"entry": "w", "steps": [{"id": "w", "action": {"type": "wait", "seconds": 5, "event": "email.replied"}}]}));
        assert!(check(&g, &schema()).iter().any(|p| p.message.contains("exactly one")));
        let g = graph(json!({"entry": "w", "steps": [{"id": "w", "action": {"type": "wait", "event": "email.replied"}}]}));
        assert!(check(&g, &schema()).iter().any(|p| p.message.contains("needs timeout_seconds")));
    }
}
