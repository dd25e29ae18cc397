//! Values chosen by name on the command line for types of the crates below, which do not
//! depend on clap: `--format` ([`OutputFormat`]) and `--auth` ([`AuthMethod`]). `--help` lists
//! each name with its description, as a clap `ValueEnum` would.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use jobsql_core::output::OutputFormat;
use jobsql_pgwire::AuthMethod;

/// A type whose values the command line names.
pub trait Named: Copy + Default + Send + Sync + 'static {
    /// Every value, in the order `--help` lists them.
    fn all() -> &'static [Self];
    /// Its name on the command line.
    fn name(self) -> &'static str;
    /// What it is, in a few words.
    fn about(self) -> &'static str;
}

impl Named for OutputFormat {
    fn all() -> &'static [Self] {
        &OutputFormat::ALL
    }
    fn name(self) -> &'static str {
        OutputFormat::name(self)
    }
    fn about(self) -> &'static str {
        OutputFormat::about(self)
    }
}

impl Named for AuthMethod {
    fn all() -> &'static [Self] {
        &AuthMethod::ALL
    }
    fn name(self) -> &'static str {
        AuthMethod::name(self)
    }
    fn about(self) -> &'static str {
        AuthMethod::about(self)
    }
}

/// The parser of a [`Named`] argument: one of its names, else clap's error listing them.
pub fn choice<T: Named>() -> impl TypedValueParser<Value = T> {
    let names = T::all()
        .iter()
        .map(|v| PossibleValue::new(v.name()).help(v.about()));
    PossibleValuesParser::new(names).map(|name: String| {
        // The parser above accepts only the names listed: the default is never taken.
        T::all()
            .iter()
            .copied()
            .find(|v| v.name() == name)
            .unwrap_or_default()
    })
}
