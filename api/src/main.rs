//! The `api` binary: everything is in the library; see `api::cli`.

#[tokio::main]
async fn main() {
    api::cli::run().await;
}
