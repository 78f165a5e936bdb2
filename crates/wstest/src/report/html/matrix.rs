//! The view of `index.html`: a summary per agent, the cases that did not
//! pass, and the matrix of cases (rows, grouped by category and group)
//! against agents (columns).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::show;
use crate::cases::{category_name, group_of, id_key, subcategory_name};

/// What the index shows of one case of one agent.
#[derive(Debug, Clone)]
pub struct IndexRow {
    /// Agent name.
    pub agent: String,
    /// Case id.
    pub id: String,
    /// Behaviour verdict.
    pub behavior: String,
    /// Closing verdict.
    pub behavior_close: String,
    /// The peer's close code (a number or null).
    pub remote_close_code: Value,
    /// Milliseconds.
    pub duration: u64,
    /// Incoming and outgoing compression ratios (12.x, 13.x that completed).
    pub ratios: Option<(Value, Value)>,
    /// The case page's file name, when there is one.
    pub page: Option<String>,
}

impl IndexRow {
    /// The row of a per-case report (ours or the reference suite's).
    #[must_use]
    pub fn from_case(case: &Value, page: Option<String>) -> Self {
        let text = |k: &str| case.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let ratios = case
            .get("trafficStats")
            .filter(|t| t.is_object())
            .map(|t| (t["incomingCompressionRatio"].clone(), t["outgoingCompressionRatio"].clone()));
        Self {
            agent: text("agent"),
            id: text("id"),
            behavior: text("behavior"),
            behavior_close: text("behaviorClose"),
            remote_close_code: case.get("remoteCloseCode").cloned().unwrap_or(Value::Null),
            duration: case.get("duration").and_then(Value::as_u64).unwrap_or(0),
            ratios: if case.get("reportCompressionRatio") == Some(&json!(true)) { ratios } else { None },
            page,
        }
    }

    /// The row of an `index.json` entry whose per-case report is missing.
    #[must_use]
    pub fn from_index_entry(agent: &str, id: &str, entry: &Value) -> Self {
        let text = |k: &str| entry.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        Self {
            agent: agent.to_owned(),
            id: id.to_owned(),
            behavior: text("behavior"),
            behavior_close: text("behaviorClose"),
            remote_close_code: entry.get("remoteCloseCode").cloned().unwrap_or(Value::Null),
            duration: entry.get("duration").and_then(Value::as_u64).unwrap_or(0),
            ratios: None,
            page: None,
        }
    }

    fn clean(&self) -> bool {
        show::clean_pass(&self.behavior, &self.behavior_close)
    }

    fn cell(&self) -> Value {
        let (word, class) = show::behavior(&self.behavior);
        let mut detail = vec![show::millis(self.duration)];
        if let Some((incoming, outgoing)) = &self.ratios {
            detail.push(format!("in {} · out {}", show::ratio(incoming), show::ratio(outgoing)));
        }
        json!({
            "missing": false,
            "href": self.page,
            "word": word,
            "class": class,
            "close_word": show::close_word(&self.behavior_close, &self.remote_close_code),
            "close_class": show::close_class(&self.behavior_close),
            "close_raw": self.behavior_close,
            "raw": self.behavior,
            "detail": detail.join(" · "),
        })
    }
}

fn summary(agent: &str, rows: &[&IndexRow]) -> Value {
    let count = |f: &dyn Fn(&str) -> bool| rows.iter().filter(|r| f(&r.behavior)).count();
    let failing: Vec<Value> = rows
        .iter()
        .filter(|r| !r.clean())
        .map(|r| {
            let (word, class) = show::behavior(&r.behavior);
            json!({"id": r.id, "word": word, "class": class, "close": r.behavior_close,
                   "close_class": show::close_class(&r.behavior_close), "href": r.page})
        })
        .collect();
    let total: u64 = rows.iter().map(|r| r.duration).sum();
    json!({
        "name": agent,
        "cases": rows.len(),
        "pass": count(&|b| b == "OK"),
        "non_strict": count(&|b| b == "NON-STRICT" || b == "NO_CLOSE"),
        "info": count(&|b| b == "INFORMATIONAL"),
        "unimplemented": count(&|b| b == "UNIMPLEMENTED"),
        "failed": count(&|b| show::behavior(b).1 == "failed"),
        "close_failed": rows.iter().filter(|r| show::close_class(&r.behavior_close) == "failed").count(),
        "time": show::millis(total),
        "failing": failing,
    })
}

/// The template context of `index.html` for `rows` (any order).
#[must_use]
pub fn context(rows: &[IndexRow], generator: &str) -> Value {
    let mut by_agent: BTreeMap<&str, BTreeMap<&str, &IndexRow>> = BTreeMap::new();
    for r in rows {
        by_agent.entry(&r.agent).or_default().insert(&r.id, r);
    }
    let agents: Vec<&str> = by_agent.keys().copied().collect();
    let summaries: Vec<Value> = by_agent
        .iter()
        .map(|(agent, cases)| {
            let mut list: Vec<&IndexRow> = cases.values().copied().collect();
            list.sort_by_cached_key(|r| id_key(&r.id));
            summary(agent, &list)
        })
        .collect();
    let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    ids.sort_by_cached_key(|id| id_key(id));
    let mut sections: Vec<Value> = Vec::new();
    let mut group = None;
    for id in ids {
        let cat = id_key(id)[0];
        if sections.last().is_none_or(|s| s["cat"] != json!(cat)) {
            sections.push(json!({"cat": cat, "title": format!("{cat} {}", category_name(cat)), "rows": []}));
            group = None;
        }
        let Some(section) = sections.last_mut() else { continue };
        let Some(list) = section["rows"].as_array_mut() else { continue };
        let g = group_of(id);
        if g != group {
            group = g;
            if let Some(name) = g.and_then(|(c, s)| subcategory_name(c, s)) {
                let (c, s) = g.unwrap_or_default();
                list.push(json!({"kind": "group", "title": format!("{c}.{s} {name}")}));
            }
        }
        let cells: Vec<Value> =
            agents.iter().map(|a| by_agent[a].get(id).map_or_else(|| json!({"missing": true}), |r| r.cell())).collect();
        let clean = agents.iter().all(|a| by_agent[a].get(id).is_some_and(|r| r.clean()));
        list.push(json!({"kind": "case", "id": id, "clean": clean, "cells": cells}));
    }
    let not_clean = summaries.iter().map(|s| s["failing"].as_array().map_or(0, Vec::len)).sum::<usize>();
    json!({
        "generator": generator,
        "agents": agents,
        "summaries": summaries,
        "sections": sections,
        "not_clean": not_clean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(agent: &str, id: &str, b: &str, c: &str) -> IndexRow {
        IndexRow::from_index_entry(agent, id, &json!({"behavior": b, "behaviorClose": c, "remoteCloseCode": 1000}))
    }

    #[test]
    fn cases_are_grouped_in_suite_order_and_missing_cells_shown() {
        let rows = vec![
            row("b", "2.10", "OK", "OK"),
            row("a", "2.9", "OK", "OK"),
            row("a", "1.1.1", "FAILED", "UNCLEAN"),
            row("b", "1.1.1", "OK", "OK"),
        ];
        let ctx = context(&rows, "test");
        assert_eq!(ctx["agents"], json!(["a", "b"]));
        let sections = ctx["sections"].as_array().unwrap();
        assert_eq!(sections[0]["title"], "1 Framing");
        assert_eq!(sections[0]["rows"][0]["kind"], "group");
        assert_eq!(sections[0]["rows"][1]["id"], "1.1.1");
        assert_eq!(sections[0]["rows"][1]["clean"], false);
        let pings: Vec<&Value> = sections[1]["rows"].as_array().unwrap().iter().collect();
        assert_eq!(pings[0]["id"], "2.9");
        assert_eq!(pings[0]["cells"][1]["missing"], true);
        assert_eq!(pings[1]["id"], "2.10");
        assert_eq!(ctx["summaries"][0]["failed"], 1);
        assert_eq!(ctx["summaries"][0]["failing"][0]["id"], "1.1.1");
        assert_eq!(ctx["not_clean"], 1);
    }
}
