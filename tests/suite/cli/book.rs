//! The book's examples, checked: every code block of `docs/src/*.md` marked ```` ```sql demo ````
//! is a script that runs as it is with `jobsql query --demo -f FILE` (the real binary) and exits
//! 0.
//! Mark only reads there: writes and queries that need a real workspace stay plain ```` ```sql ````.

use std::path::PathBuf;

use crate::support::cli::{jobsql, stderr, stdout, temp_dir};

/// Each `sql demo` block of the book: where it starts (`file.md:line`) and its text.
fn demo_blocks() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("docs/src is there")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    let mut blocks = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("a chapter reads");
        let mut open: Option<(usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            match &mut open {
                None if line.trim_end() == "```sql demo" => open = Some((i + 1, String::new())),
                None => {}
                Some((start, sql)) if line.trim_start().starts_with("```") => {
                    blocks.push((format!("{name}:{start}"), std::mem::take(sql)));
                    open = None;
                }
                Some((_, sql)) => {
                    sql.push_str(line);
                    sql.push('\n');
                }
            }
        }
        assert!(open.is_none(), "{name}: a `sql demo` block is not closed");
    }
    blocks
}

#[test]
fn every_sql_demo_block_of_the_book_runs_on_the_demo() {
    let blocks = demo_blocks();
    // The introduction's query, the cross-platform one and the Tables chapter's tries.
    assert!(
        blocks.len() >= 8,
        "only {} `sql demo` blocks found",
        blocks.len()
    );
    // As a user runs a script (a block may start with a `--` comment, which clap would take
    // for a flag).
    let dir = temp_dir("book");
    std::thread::scope(|scope| {
        let runs: Vec<_> = blocks
            .iter()
            .enumerate()
            .map(|(i, (place, sql))| {
                let file = dir.join(format!("block{i}.sql"));
                std::fs::write(&file, sql).expect("the block is written");
                let run = scope.spawn(move || {
                    let file = file.to_string_lossy();
                    jobsql(&["query", "--demo", "--format", "csv", "-f", &file])
                });
                (place, sql, run)
            })
            .collect();
        for (place, sql, run) in runs {
            let o = run.join().expect("the run ends");
            assert!(
                o.status.success(),
                "{place}: exit {:?}\n{sql}\n{}",
                o.status.code(),
                stderr(&o)
            );
            assert!(
                !stdout(&o).trim().is_empty(),
                "{place}: printed nothing\n{sql}"
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
