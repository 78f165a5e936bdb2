//! HTML reports: `index.html` (a summary per agent and the matrix of cases)
//! and one `<agent>_case_<id>.html` per case, beside the JSON.
//!
//! Pages are rendered with minijinja from the per-case JSON, so the same
//! code renders a run as it goes ([`super::CaseWriter`], the fuzzing server)
//! and a finished directory — ours or the reference suite's —
//! afterwards ([`render_dir`], `wstest report DIR`). Everything is
//! HTML-escaped; one stylesheet is inlined; the pages need no script.

mod matrix;
mod page;
mod show;
mod wirelog;

pub use matrix::IndexRow;
pub use page::Nav;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use minijinja::{Environment, Value as Jinja};
use serde_json::Value;

use super::{agent_file, write_atomically};
use crate::cases::id_key;

const BASE: &str = include_str!("templates/base.html");
const INDEX: &str = include_str!("templates/index.html");
const CASE: &str = include_str!("templates/case.html");
const STYLE: &str = include_str!("templates/style.css");

/// Tags a case description may keep (the reference's descriptions use a
/// few for emphasis and line breaks); anything else stays escaped text.
const KEPT_TAGS: [&str; 9] = ["b", "/b", "i", "/i", "br", "br/", "br /", "tt", "/tt"];

/// Escapes `text`, then lets the plain tags of [`KEPT_TAGS`] through.
fn rich(text: &str) -> Jinja {
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    for tag in KEPT_TAGS {
        escaped = escaped.replace(&format!("&lt;{tag}&gt;"), &format!("<{tag}>"));
    }
    Jinja::from_safe_string(escaped)
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // The templates are ours and fixed: a syntax error in one is a bug
        // that every test run would show at once.
        for (name, source) in [("base.html", BASE), ("index.html", INDEX), ("case.html", CASE)] {
            if let Err(e) = env.add_template(name, source) {
                panic!("wstest's template {name} does not parse: {e}");
            }
        }
        env.add_filter("rich", |s: String| rich(&s));
        env.add_global("style", Jinja::from_safe_string(STYLE.to_owned()));
        env
    })
}

fn render(template: &str, ctx: &Value) -> std::io::Result<String> {
    env()
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(ctx)))
        .map_err(|e| std::io::Error::other(format!("rendering {template}: {e}")))
}

/// Who made the page, and when.
fn generator() -> String {
    format!("wstest {} · {} UTC", env!("CARGO_PKG_VERSION"), chrono::Utc::now().format("%Y-%m-%d %H:%M:%S"))
}

/// A case page's file name.
#[must_use]
pub fn page_file(agent: &str, id: &str) -> String {
    format!("{}_case_{}.html", agent_file(agent), id.replace('.', "_"))
}

/// The neighbours of `id` in `order` (the run's cases in suite order), as
/// links to their pages for `agent`.
#[must_use]
pub fn nav(order: &[String], agent: &str, id: &str) -> Nav {
    let Some(i) = order.iter().position(|o| o == id) else { return Nav::default() };
    let link = |j: usize| order.get(j).map(|o| (o.clone(), page_file(agent, o)));
    Nav { prev: i.checked_sub(1).and_then(link), next: link(i + 1) }
}

/// The HTML of one case page, from its per-case JSON.
///
/// # Errors
/// When the template fails to render (a bug in wstest).
pub fn render_case(case: &Value, nav: &Nav) -> std::io::Result<String> {
    render("case.html", &page::context(case, nav, &generator()))
}

/// The HTML of `index.html` for `rows`.
///
/// # Errors
/// When the template fails to render (a bug in wstest).
pub fn render_index(rows: &[IndexRow]) -> std::io::Result<String> {
    render("index.html", &matrix::context(rows, &generator()))
}

/// Writes one case's page into `outdir`; returns its index row.
///
/// # Errors
/// When the page cannot be written.
pub fn write_case(outdir: &Path, case: &Value, nav: &Nav) -> std::io::Result<IndexRow> {
    let agent = case.get("agent").and_then(Value::as_str).unwrap_or("");
    let id = case.get("id").and_then(Value::as_str).unwrap_or("");
    let file = page_file(agent, id);
    std::fs::write(outdir.join(&file), render_case(case, nav)?)?;
    Ok(IndexRow::from_case(case, Some(file)))
}

/// Writes `index.html` into `outdir` (atomically, like `index.json`).
///
/// # Errors
/// When the file cannot be written.
pub fn write_index(outdir: &Path, rows: &[IndexRow]) -> std::io::Result<PathBuf> {
    let path = outdir.join("index.html");
    write_atomically(&path, &render_index(rows)?)?;
    Ok(path)
}

/// The rows of `index.html` as cases finish. Rendering the whole matrix
/// after every case would cost a run time quadratic in its cases, so the
/// writers of reports call [`HtmlIndex::flush`] at most twice a second
/// (`INDEX_EVERY`), and once more at the end.
#[derive(Debug, Default)]
pub struct HtmlIndex {
    rows: Vec<IndexRow>,
    dirty: bool,
}

impl HtmlIndex {
    /// Adds the row of a finished case; a case run again replaces its row.
    pub fn add(&mut self, row: IndexRow) {
        self.rows.retain(|r| !(r.agent == row.agent && r.id == row.id));
        self.rows.push(row);
        self.dirty = true;
    }

    /// Whether rows were added since `index.html` was last written.
    #[must_use]
    pub fn pending(&self) -> bool {
        self.dirty
    }

    /// Writes `index.html` now if any row was added since the last write.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn flush(&mut self, outdir: &Path) -> std::io::Result<()> {
        if self.dirty {
            write_index(outdir, &self.rows)?;
            self.dirty = false;
        }
        Ok(())
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

/// Renders the HTML of a finished report directory — written by wstest or
/// by the reference suite — from its `index.json` and per-case JSON: every
/// case page, then `index.html`. A case whose JSON is missing still gets
/// its row in the index. Returns the path of `index.html` and the number of
/// case pages.
///
/// # Errors
/// A message naming the file when `index.json` is missing or malformed, or
/// a page cannot be written.
pub fn render_dir(dir: &Path) -> Result<(PathBuf, usize), String> {
    let index_path = dir.join("index.json");
    let index = read_json(&index_path)?;
    let agents = index.as_object().ok_or_else(|| {
        format!("{}: expected an object of agents ({{\"agent\": {{\"1.1.1\": {{…}}}}}})", index_path.display())
    })?;
    let mut rows = Vec::new();
    let mut pages = 0;
    for (agent, cases) in agents {
        let Some(cases) = cases.as_object() else {
            return Err(format!("{}: agent {agent:?} should map case ids to entries", index_path.display()));
        };
        let mut order: Vec<String> = cases.keys().cloned().collect();
        order.sort_by_cached_key(|id| id_key(id));
        for id in &order {
            let entry = &cases[id];
            // A plain file name beside index.json, nothing that climbs out of `dir`.
            let file = entry
                .get("reportfile")
                .and_then(Value::as_str)
                .filter(|f| Path::new(f).file_name().is_some_and(|n| n == std::ffi::OsStr::new(f)))
                .map(|f| dir.join(f));
            match file.map(|f| read_json(&f)) {
                Some(Ok(case)) => {
                    let written = write_case(dir, &case, &nav(&order, agent, id))
                        .map_err(|e| format!("cannot write the page of case {id} in {}: {e}", dir.display()))?;
                    rows.push(written);
                    pages += 1;
                }
                Some(Err(e)) => {
                    eprintln!("wstest: {e}; case {id} of {agent:?} is shown from index.json only");
                    rows.push(IndexRow::from_index_entry(agent, id, entry));
                }
                None => rows.push(IndexRow::from_index_entry(agent, id, entry)),
            }
        }
    }
    let path =
        write_index(dir, &rows).map_err(|e| format!("cannot write {}: {e}", dir.join("index.html").display()))?;
    Ok((path, pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_simple_tags_and_escape_the_rest() {
        let out = rich("Send <b>ping</b><br>then <script>x</script> & 'y'").to_string();
        assert_eq!(out, "Send <b>ping</b><br>then &lt;script&gt;x&lt;/script&gt; &amp; &#39;y&#39;");
    }

    #[test]
    fn neighbours_link_to_their_pages() {
        let order: Vec<String> = ["1.1.1", "1.1.2", "2.1"].iter().map(|s| (*s).to_owned()).collect();
        let n = nav(&order, "Agent X", "1.1.2");
        assert_eq!(n.prev, Some(("1.1.1".into(), "agent_x_case_1_1_1.html".into())));
        assert_eq!(n.next, Some(("2.1".into(), "agent_x_case_2_1.html".into())));
        assert!(nav(&order, "a", "1.1.1").prev.is_none());
    }
}
