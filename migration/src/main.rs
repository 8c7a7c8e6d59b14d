//! `cargo run -p migration -- up|down|status|fresh [STEPS]` against `DATABASE_URL`.
//!
//! A deliberately small runner: sea-orm-migration's own CLI pulls in clap and
//! sea-orm-cli, which the server does not need.

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectOptions, Database};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("up");
    let steps = match args.get(1).map(|s| s.parse::<u32>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => exit("STEPS must be a whole number"),
    };
    let Ok(url) = std::env::var("DATABASE_URL") else {
        exit("DATABASE_URL is not set (e.g. sqlite://data/records.db?mode=rwc)");
    };
    let mut options = ConnectOptions::new(url);
    // SQLite needs the `thai` collation the name index is built with.
    options.map_sqlx_sqlite_opts(migration::collation::register);
    let db = match Database::connect(options).await {
        Ok(db) => db,
        Err(e) => exit(&format!("cannot connect to the database: {e}")),
    };
    let result = match command {
        "up" => Migrator::up(&db, steps).await,
        // Like sea-orm's own CLI, `down` without a count rolls back one step.
        "down" => Migrator::down(&db, Some(steps.unwrap_or(1))).await,
        "fresh" => Migrator::fresh(&db).await,
        "status" => match Migrator::get_migration_with_status(&db).await {
            Ok(list) => {
                for m in list {
                    println!("{:<45} {}", m.name(), m.status());
                }
                Ok(())
            }
            Err(e) => Err(e),
        },
        _ => exit("usage: migration up|down|status|fresh [STEPS]"),
    };
    if let Err(e) = result {
        exit(&format!("migration {command} failed: {e}"));
    }
}

fn exit(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}
