//! The `api` binary: everything is in the library; see `api::cli`.

/// mimalloc instead of glibc's malloc: a request allocates many small,
/// short-lived values (rows, GraphQL values, futures) across threads, and
/// glibc's allocator took about a quarter of the CPU of a nested read
/// (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    api::cli::run().await;
}
