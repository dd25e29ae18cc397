//! The shell in a terminal: rustyline on its own thread, statements on the async side.
//!
//! The editor thread reads one input (a statement over as many lines as it takes, or a meta
//! command), hands it over, and waits until it has run before prompting again, so output and
//! prompt never interleave. While a statement runs the terminal is in its normal mode, so
//! Ctrl-C is a SIGINT: the running statement's future is dropped (cancelling its API requests)
//! and the prompt comes back. At the prompt rustyline reads Ctrl-C as a key (the line is
//! cleared) and Ctrl-D as the end of input.

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;

use datafusion::prelude::SessionContext;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;
use tokio::sync::mpsc;

use super::complete::{Completions, ShellHelper};
use super::{is_meta, meta, run_statement, text, Meta, ShellError, ShellOptions};

const PROMPT: &str = "jobsql> ";
/// The prompt while a statement is unfinished (terminals rustyline cannot edit in, e.g.
/// `TERM=dumb`, hand over one line at a time).
const CONTINUATION: &str = "     -> ";

/// `~/.jobsql_history`, when there is a home directory.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".jobsql_history"))
}

/// The editor thread: read, hand over, wait for the go-ahead; save the history at the end.
fn editor_loop(
    completions: Completions,
    history: Option<PathBuf>,
    lines: mpsc::Sender<Result<String, ReadlineError>>,
    go_on: std_mpsc::Receiver<Option<&'static str>>,
) {
    let mut editor = match Editor::<ShellHelper, FileHistory>::new() {
        Ok(e) => e,
        Err(e) => {
            let _ = lines.blocking_send(Err(e));
            return;
        }
    };
    editor.set_helper(Some(ShellHelper { completions }));
    if let Some(path) = &history {
        // A missing history file is the first run, not an error.
        let _ = editor.load_history(path);
    }
    let mut prompt = PROMPT;
    loop {
        let read = editor.readline(prompt);
        if let Ok(input) = &read {
            if !input.trim().is_empty() {
                let _ = editor.add_history_entry(input.as_str());
            }
        }
        if lines.blocking_send(read).is_err() {
            break;
        }
        match go_on.recv() {
            Ok(Some(next)) => prompt = next,
            _ => break,
        }
    }
    if let Some(path) = &history {
        if let Err(e) = editor.save_history(path) {
            eprintln!(
                "warning: cannot save the history to {}: {e}",
                path.display()
            );
        }
    }
}

/// Run the interactive shell until Ctrl-D or `\q`.
pub async fn interactive(
    ctx: &SessionContext,
    completions: Completions,
    mut options: ShellOptions,
) -> Result<(), ShellError> {
    let (line_tx, mut line_rx) = mpsc::channel(1);
    let (go_tx, go_rx) = std_mpsc::channel();
    let history = history_path();
    let editor = std::thread::spawn(move || editor_loop(completions, history, line_tx, go_rx));
    eprintln!("jobsql shell: end statements with ';'. \\? for help, Ctrl-D to leave.");
    let mut failure = None;
    // The start of a statement still waiting for its ';'.
    let mut pending = String::new();
    while let Some(read) = line_rx.recv().await {
        let input = match read {
            Ok(input) => input,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                let _ = go_tx.send(Some(PROMPT));
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                failure = Some(ShellError::Editor(e));
                break;
            }
        };
        if pending.is_empty() && is_meta(&input) {
            match meta(&input, &mut options) {
                Meta::Quit => break,
                Meta::Continue(Some(message)) => eprintln!("{message}"),
                Meta::Continue(None) => {}
            }
        } else {
            pending.push_str(&input);
            pending.push('\n');
            if !text::is_complete(&pending) {
                if go_tx.send(Some(CONTINUATION)).is_err() {
                    break;
                }
                continue;
            }
            let input = std::mem::take(&mut pending);
            for statement in text::statements(&input) {
                let mut out = std::io::stdout();
                let mut err = std::io::stderr();
                tokio::select! {
                    result = run_statement(ctx, &statement, &options, &mut out, &mut err) => {
                        match result {
                            Ok(()) => {}
                            Err(e) => eprintln!("error: {}", jobsql_core::redact::outgoing(&e.to_string())),
                        }
                    }
                    _ = tokio::signal::ctrl_c() => {
                        eprintln!("cancelled");
                        break;
                    }
                }
            }
        }
        if go_tx.send(Some(PROMPT)).is_err() {
            break;
        }
    }
    let _ = go_tx.send(None);
    drop(line_rx);
    if editor.join().is_err() {
        eprintln!("warning: the line editor stopped abnormally");
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
