//! Tab completion in the shell: table names (`provider.service.resource`), column names, a few
//! SQL keywords, and after `EXEC <table>.` the methods the table's spec lists under `exec:`.
//! [`Completions::candidates`] is plain data in, data out, so it is tested without a terminal;
//! [`ShellHelper`] plugs it into rustyline, with the validator that keeps reading lines until
//! a statement ends with `;`.

use std::collections::{BTreeMap, BTreeSet};

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::text::is_complete;
use jobsql_core::spec::SpecSet;

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "DESC",
    "ASC",
    "COUNT",
    "DISTINCT",
    "INSERT INTO",
    "DELETE FROM",
    "EXEC",
    "DESCRIBE",
    "SHOW TABLES",
    "EXPLAIN",
    "INTERVAL",
    "NULL",
    "IS",
    "LIKE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "AS",
    "JOIN",
    "ON",
    "UNNEST",
    "COPY",
    "VALUES",
];

/// What can be completed, from the specs.
#[derive(Debug, Clone, Default)]
pub struct Completions {
    tables: BTreeSet<String>,
    columns: BTreeSet<String>,
    methods: BTreeMap<String, Vec<String>>,
}

impl Completions {
    /// The tables, columns and EXEC methods of `specs`.
    pub fn from_specs(specs: &SpecSet) -> Self {
        let mut c = Completions::default();
        for r in &specs.resources {
            let table = r.qualified_name();
            c.columns
                .extend(r.columns.iter().map(|col| col.name.clone()));
            c.methods.insert(table.clone(), r.spec.exec.clone());
            c.tables.insert(table);
        }
        c
    }

    /// Where the word under the cursor starts in `line`, and what it can become.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let pos = pos.min(line.len());
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '.')
            .last()
            .map_or(pos, |(i, _)| i);
        let word = &before[start..];
        let previous = before[..start].split_whitespace().next_back().unwrap_or("");
        if previous.eq_ignore_ascii_case("EXEC") {
            return (start, self.exec_candidates(word));
        }
        if word.is_empty() {
            return (start, Vec::new());
        }
        let lower = word.to_ascii_lowercase();
        let mut out: Vec<String> = self
            .tables
            .iter()
            .filter(|t| t.starts_with(word))
            .cloned()
            .collect();
        if !word.contains('.') {
            out.extend(self.columns.iter().filter(|c| c.starts_with(word)).cloned());
            out.extend(
                KEYWORDS
                    .iter()
                    .filter(|k| k.to_ascii_lowercase().starts_with(&lower))
                    .map(|k| {
                        if word.chars().all(|c| c.is_ascii_lowercase()) {
                            k.to_ascii_lowercase()
                        } else {
                            (*k).to_string()
                        }
                    }),
            );
        }
        out.dedup();
        (start, out)
    }

    /// After `EXEC`: `table.method` once the table is typed, else the tables.
    fn exec_candidates(&self, word: &str) -> Vec<String> {
        for (table, methods) in &self.methods {
            if let Some(method) = word
                .strip_prefix(table.as_str())
                .and_then(|r| r.strip_prefix('.'))
            {
                return methods
                    .iter()
                    .filter(|m| m.starts_with(method))
                    .map(|m| format!("{table}.{m}"))
                    .collect();
            }
        }
        self.methods
            .iter()
            .filter(|(t, m)| t.starts_with(word) && !m.is_empty())
            .map(|(t, _)| format!("{t}."))
            .collect()
    }
}

/// rustyline's helper: completion, and multi-line input until `;`.
pub struct ShellHelper {
    /// The candidates.
    pub completions: Completions,
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(self.completions.candidates(line, pos))
    }
}

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim().is_empty() || super::is_meta(input) || is_complete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use jobsql_core::spec::load_embedded;

    fn completions() -> Completions {
        Completions::from_specs(&load_embedded().expect("specs"))
    }

    #[test]
    fn tables_columns_and_keywords_complete() {
        let c = completions();
        let line = "SELECT * FROM databricks_workspace.jobs.job_r";
        let (start, found) = c.candidates(line, line.len());
        assert_eq!(start, 14);
        assert_eq!(
            found,
            [
                "databricks_workspace.jobs.job_run_output",
                "databricks_workspace.jobs.job_runs"
            ]
        );
        let (start, found) = c.candidates("SELECT run_i", 12);
        assert_eq!(start, 7);
        assert!(found.contains(&"run_id".to_string()), "{found:?}");
        let (_, found) = c.candidates("sel", 3);
        assert_eq!(found, ["select"]);
    }

    #[test]
    fn exec_completes_the_methods_of_the_spec() {
        let specs = load_embedded().expect("specs");
        let runs = specs
            .resources
            .iter()
            .find(|r| r.name == "job_runs")
            .expect("job_runs");
        assert!(runs.spec.exec.contains(&"cancel".to_string()));
        let c = Completions::from_specs(&specs);
        let line = "EXEC databricks_workspace.jobs.job_runs.";
        let (start, found) = c.candidates(line, line.len());
        assert_eq!(start, 5);
        let all: Vec<String> = runs
            .spec
            .exec
            .iter()
            .map(|m| format!("databricks_workspace.jobs.job_runs.{m}"))
            .collect();
        assert_eq!(found, all);
        let line = "EXEC databricks_workspace.jobs.job_runs.canc";
        let found = c.candidates(line, line.len()).1;
        assert!(found.contains(&"databricks_workspace.jobs.job_runs.cancel".to_string()));
        assert!(found.iter().all(|m| m.starts_with(&line[5..])), "{found:?}");
        // Before the method: the tables that have methods, ready for the dot.
        let line = "exec databricks_workspace.cl";
        assert!(
            c.candidates(line, line.len()).1.is_empty(),
            "clean rooms have no EXEC"
        );
        let line = "exec databricks_workspace.jobs.job_r";
        assert_eq!(
            c.candidates(line, line.len()).1,
            ["databricks_workspace.jobs.job_runs."]
        );
    }
}
