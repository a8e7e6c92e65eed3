//! `load`: an oha/wrk-like load generator on roundtrip.
//!
//!     cargo load                                   # loads an embedded loopback server
//!     cargo load http://127.0.0.1:8080/small -c 64 -n 100000
//!     cargo load URL --duration 10s --method POST --body-bytes 65536 --json
//!     cargo load https://127.0.0.1:8443/small --cacert ca.pem -c 8 --close
//!
//! With `--json` it prints one line, `{"client","requests","errors","elapsed_s",
//! "bytes",...}`, the contract of the comparison harness (docs/bench.md).

mod args;
mod cpu;
mod interrupt;
mod report;
mod run;
mod server;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse();
    let plan = match args.plan() {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("load: {message}");
            return ExitCode::from(2);
        }
    };
    let outcome = match args.runtime {
        args::RuntimeChoice::Tokio => run::on_tokio(plan, args.threads),
        args::RuntimeChoice::Smol => run::on_smol(plan),
    };
    match outcome {
        Ok(summary) => {
            if args.json {
                println!("{}", summary.json());
            } else {
                print!("{}", summary.text());
            }
            if summary.interrupted {
                ExitCode::from(130)
            } else if summary.requests > 0 && summary.errors == summary.requests {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("load: {message}");
            ExitCode::FAILURE
        }
    }
}
