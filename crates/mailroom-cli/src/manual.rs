//! The manual page and shell completions, generated from the same definitions as `--help`.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::{CliError, Exit};

/// The roff manual page for `mailroom` and a section per command.
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let command = Cli::command();
    clap_mangen::Man::new(command.clone()).render(out)?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name: &'static str = Box::leak(format!("mailroom-{}", sub.get_name()).into_boxed_str());
        clap_mangen::Man::new(sub.clone().name(name)).render(out)?;
    }
    Ok(())
}

/// `mailroom man`.
pub fn man() -> Result<Exit, CliError> {
    let mut out = crate::output::stdout();
    man_page(&mut out).map_err(|e| CliError::new(Exit::IoErr, "io", e))?;
    Ok(Exit::Ok)
}

/// `mailroom completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> Result<Exit, CliError> {
    let mut command = Cli::command();
    clap_complete::generate(
        shell,
        &mut command,
        "mailroom",
        &mut crate::output::stdout(),
    );
    Ok(Exit::Ok)
}
