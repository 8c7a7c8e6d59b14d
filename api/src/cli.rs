//! The `api` command line: serve (default), migrate, seed-demo, token, export-schema, import, operations.

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::app::{AppState, Application, demo_tokens};
use crate::auth::{Minter, parse_scopes};
use crate::config::{Config, Environment};
use crate::store::connect;

/// The partner records GraphQL service.
#[derive(Parser, Debug)]
#[command(name = "api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply the database migrations.
    Migrate,
    /// Load the demo data (once; later runs change nothing).
    SeedDemo,
    /// Mint a token with the configured secret and print it.
    Token {
        /// The organisation code, e.g. CDD.
        #[arg(long)]
        org: String,
        /// Space-separated scopes, e.g. "communities:read mous:read".
        #[arg(long)]
        scopes: String,
        /// How long it is valid: 90s, 15m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// The subject (`sub`); defaults to cli-<org>.
        #[arg(long)]
        sub: Option<String>,
    },
    /// Print the GraphQL schema (SDL), as checked in as schema.graphql.
    ExportSchema,
    /// Import records from a file.
    Import {
        #[command(subcommand)]
        what: Import,
    },
    /// An organisation's trusted documents (registered operations) and mode.
    Operations {
        #[command(subcommand)]
        what: Operations,
    },
    /// Personal data: reports for data subjects' requests.
    Pii {
        #[command(subcommand)]
        what: Pii,
    },
}

#[derive(Subcommand, Debug)]
enum Pii {
    /// What is held about a community's contact person, every change to it
    /// and every read of it (a PDPA access request).
    Report {
        /// The community's code.
        #[arg(long)]
        community: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum Operations {
    /// Register operations: a persisted-documents.json (GraphQL Code
    /// Generator's client preset, or an Apollo manifest), or a .graphql file
    /// (one document).
    Register {
        /// The organisation code, e.g. GSB.
        #[arg(long)]
        org: String,
        /// The manifest (.json) or document (.graphql).
        file: std::path::PathBuf,
    },
    /// List the registered operations: hash and operation names.
    List {
        /// The organisation code.
        #[arg(long)]
        org: String,
    },
    /// Remove registered operations by hash (the records are kept, marked removed).
    Remove {
        /// The organisation code.
        #[arg(long)]
        org: String,
        /// The SHA-256 hashes to remove.
        #[arg(required = true)]
        hashes: Vec<String>,
    },
    /// Set the organisation's mode: off, log or enforce.
    Mode {
        /// The organisation code.
        #[arg(long)]
        org: String,
        /// off, log or enforce.
        mode: String,
    },
}

#[derive(Subcommand, Debug)]
enum Import {
    /// CDD's classified community list (CSV: code,name_th,name_en,province,district,subdistrict,village_no,households,tier).
    Communities {
        /// The CSV file.
        file: std::path::PathBuf,
        /// Import the valid rows even when some are bad (default: import nothing).
        #[arg(long)]
        skip_invalid: bool,
        /// The organisation recorded as making the changes.
        #[arg(long, default_value = "CDD")]
        org: String,
    },
}

/// Parses `90s`, `15m`, `1h`, `7d`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("bad ttl {text}: use e.g. 90s, 15m, 1h, 7d"))?;
    let seconds = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("bad ttl unit in {text}: use s, m, h or d")),
    };
    if seconds == 0 || seconds > 366 * 86_400 {
        return Err("ttl must be between 1s and 366d".into());
    }
    Ok(Duration::from_secs(seconds))
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

/// Runs the command line.
pub async fn run() {
    let cli = Cli::parse();
    if let Some(Command::ExportSchema) = cli.command {
        print!("{}", crate::graphql::sdl());
        return;
    }
    let config = Config::from_env().unwrap_or_else(|e| fail(e));
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let telemetry = crate::telemetry::init();
            let app = Application::build(config).await.unwrap_or_else(|e| fail(e));
            let addr = app.local_addr();
            if app.state().config.environment == Environment::Development {
                print_demo_tokens(app.state(), addr);
            }
            tracing::info!(%addr, "serving GraphQL at /graphql");
            let served = app.run_until_stopped().await;
            telemetry.shutdown();
            if let Err(e) = served {
                fail(e);
            }
        }
        Command::Migrate => {
            let db = connect::connect(&config.database).await.unwrap_or_else(|e| fail(e));
            connect::migrate(&db).await.unwrap_or_else(|e| fail(e));
            println!("migrations applied");
        }
        Command::SeedDemo => {
            if config.environment == Environment::Production {
                fail("production loads no demo data");
            }
            let db = connect::connect(&config.database).await.unwrap_or_else(|e| fail(e));
            connect::migrate(&db).await.unwrap_or_else(|e| fail(e));
            match crate::demo::seed(&db).await {
                Ok(true) => println!("demo data loaded"),
                Ok(false) => println!("demo data already present; nothing changed"),
                Err(e) => fail(e),
            }
        }
        Command::Token { org, scopes, ttl, sub } => {
            let ttl = parse_ttl(&ttl).unwrap_or_else(|e| fail(e));
            let parsed = parse_scopes(scopes.trim()).unwrap_or_else(|e| fail(e.message()));
            let Some(secret) = config.jwt_secret.as_ref().filter(|_| config.trusted_issuers_file.is_none()) else {
                fail("minting is for the development issuer: unset TRUSTED_ISSUERS_FILE (and APP_ENV=production)");
            };
            let tokens = Minter::new(secret, &config.jwt_issuer, &config.jwt_audience);
            let org = org.trim().to_uppercase();
            let sub = sub.unwrap_or_else(|| format!("cli-{}", org.to_lowercase()));
            let scopes: Vec<_> = parsed.into_iter().collect();
            match tokens.mint(&org, &scopes, ttl, &sub) {
                Ok(token) => println!("{token}"),
                Err(e) => fail(e.message()),
            }
        }
        Command::ExportSchema => {}
        Command::Import { what: Import::Communities { file, skip_invalid, org } } => {
            import_communities(&config, &file, skip_invalid, &org).await;
        }
        Command::Operations { what } => operations(&config, what).await,
        Command::Pii { what: Pii::Report { community, json } } => {
            let db = connect::connect(&config.database).await.unwrap_or_else(|e| fail(e));
            connect::migrate(&db).await.unwrap_or_else(|e| fail(e));
            let store = crate::store::Store::new(db);
            let days = config.governance.pii_log_retention.as_secs() / 86_400;
            let code = community.trim().to_uppercase();
            let report =
                crate::governance::report::pii_report(&store, &code, days).await.unwrap_or_else(|e| fail(e.message()));
            match json {
                true => println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
                false => print!("{}", crate::governance::report::text(&report)),
            }
        }
    }
}

/// `api operations ...`: works on the database directly; running replicas
/// apply the change within seconds (`governance::documents::REFRESH`).
async fn operations(config: &Config, what: Operations) {
    use crate::domain::documents;
    use crate::domain::enums::TrustedDocumentMode;
    use crate::store::trusted_documents as store;
    let db = connect::connect(&config.database).await.unwrap_or_else(|e| fail(e));
    connect::migrate(&db).await.unwrap_or_else(|e| fail(e));
    let store = crate::store::Store::new(db);
    let org_of = |org: &str| org.trim().to_uppercase();
    let (org, subject) = match &what {
        Operations::Register { org, .. }
        | Operations::List { org }
        | Operations::Remove { org, .. }
        | Operations::Mode { org, .. } => (org_of(org), format!("cli-{}", org_of(org).to_lowercase())),
    };
    let Ok(Some(organization)) = crate::store::organizations::by_code(&store, &org).await else {
        fail(format!("unknown organization {org}"));
    };
    match what {
        Operations::Register { file, .. } => {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| fail(format!("{}: {e}", file.display())));
            let is_json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let docs = if is_json {
                documents::manifest(&text)
            } else {
                documents::document(&text, None, "document").map(|d| vec![d])
            };
            let docs = docs.unwrap_or_else(|e| fail(e.message()));
            let (added, already) =
                store::register(&store, organization.id, &subject, &docs).await.unwrap_or_else(|e| fail(e.message()));
            for doc in &added {
                println!("{} {}", doc.sha256, doc.operation_names);
            }
            println!("{org}: {} registered, {already} already registered", added.len());
        }
        Operations::List { .. } => {
            let (_, docs) = store::load(&store).await.unwrap_or_else(|e| fail(e.message()));
            for doc in docs.iter().filter(|d| d.organization_id == organization.id) {
                println!("{} {}", doc.sha256, doc.operation_names);
            }
            let mode = store::policy(&store, organization.id).await.unwrap_or_else(|e| fail(e.message()));
            println!("{org}: mode {}", mode.map_or(TrustedDocumentMode::Off, |p| p.mode));
        }
        Operations::Remove { hashes, .. } => {
            let hashes: Vec<String> = hashes
                .iter()
                .map(|h| documents::normalize_hash(h).unwrap_or_else(|| fail(format!("{h} is not a hex SHA-256"))))
                .collect();
            let removed =
                store::remove(&store, organization.id, &subject, &hashes).await.unwrap_or_else(|e| fail(e.message()));
            println!("{org}: {removed} removed");
        }
        Operations::Mode { mode, .. } => {
            let Some(mode) =
                TrustedDocumentMode::ALL.iter().copied().find(|m| m.as_str().eq_ignore_ascii_case(mode.trim()))
            else {
                fail(format!("unknown mode {mode}: off, log or enforce"));
            };
            store::set_mode(&store, organization.id, &subject, mode).await.unwrap_or_else(|e| fail(e.message()));
            println!("{org}: mode {mode}");
        }
    }
}

async fn import_communities(config: &Config, file: &std::path::Path, skip_invalid: bool, org: &str) {
    let db = connect::connect(&config.database).await.unwrap_or_else(|e| fail(e));
    connect::migrate(&db).await.unwrap_or_else(|e| fail(e));
    let store = crate::store::Store::new(db);
    let org = org.trim().to_uppercase();
    let Ok(Some(organization)) = crate::store::organizations::by_code(&store, &org).await else {
        fail(format!("unknown organization {org}"));
    };
    let actor = crate::import::importer(organization.id, &org, file);
    // Drawn on a terminal only; hidden when stderr is redirected.
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed_precise} (eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        if done.is_multiple_of(500) || done == total {
            bar.set_position(done);
        }
    };
    let started = std::time::Instant::now();
    let report = crate::import::communities(&store, &actor, file, skip_invalid, &progress).await;
    bar.finish_and_clear();
    let report = report.unwrap_or_else(|e| fail(e));
    for bad in &report.bad {
        eprintln!("line {}: {}", bad.line, bad.reason);
    }
    if !report.written {
        fail(format!(
            "{} of {} rows are invalid; nothing was imported (use --skip-invalid to import the valid rows)",
            report.bad.len(),
            report.rows
        ));
    }
    println!(
        "{} rows: {} created, {} updated, {} unchanged, {} invalid skipped ({:.1} s)",
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.bad.len(),
        started.elapsed().as_secs_f64()
    );
}

fn print_demo_tokens(state: &AppState, addr: std::net::SocketAddr) {
    println!("\nPartner records API (development) at http://{addr}/graphql");
    if state.minter.is_none() {
        println!("Tokens come from the trusted issuers in TRUSTED_ISSUERS_FILE.");
        return;
    }
    println!("Demo tokens (24 h, every scope; only CDD may classify). Paste one as:");
    println!("  Authorization: Bearer <token>\n");
    for (org, token) in demo_tokens(state) {
        println!("{org}:\n{token}\n");
    }
}
