//! `prompt-guard-open`: open the tokens the `encrypt` strategy wrote, for a holder of the key
//! downstream (an auditor, a back office that must see the value).
//!
//!     PG_SEAL_KEY=<64 hex digits> prompt-guard-open < text > opened
//!     prompt-guard-open --key-env OTHER_VARIABLE < text
//!
//! Reads text on standard input and writes it with every `enc.LABEL.KEYID.DATA` token sealed
//! under the key replaced by its value; tokens of another key (another key id) stay as they are.
//! The key is read from the environment, never from an argument (arguments show in `ps`). The
//! count of opened tokens goes to standard error.

use std::io::{Read, Write};
use std::process::ExitCode;

use prompt_guard_engine::policy::keys::{open_tokens, SealKey, DEFAULT_SEAL_KEY_VAR};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let var = match args.as_slice() {
        [] => DEFAULT_SEAL_KEY_VAR.to_owned(),
        [flag, name] if flag == "--key-env" => name.clone(),
        _ => {
            eprintln!("usage: prompt-guard-open [--key-env VARIABLE] < text");
            return ExitCode::from(2);
        }
    };
    let Some(key) = std::env::var(&var).ok().and_then(|hex| SealKey::from_hex(&hex)) else {
        eprintln!("prompt-guard-open: the environment variable {var} must hold the key as 64 hex digits");
        return ExitCode::from(2);
    };
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("prompt-guard-open: cannot read standard input as UTF-8 text: {e}");
        return ExitCode::from(1);
    }
    let (opened, count) = open_tokens(&text, &key);
    if let Err(e) = std::io::stdout().write_all(opened.as_bytes()) {
        eprintln!("prompt-guard-open: cannot write: {e}");
        return ExitCode::from(1);
    }
    eprintln!("prompt-guard-open: {count} tokens opened with key {}", key.id());
    ExitCode::SUCCESS
}
